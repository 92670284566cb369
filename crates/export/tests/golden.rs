//! A fixed person gives byte-identical files, checked into `tests/golden/`. After an intended
//! change, regenerate with `UPDATE_GOLDEN=1 cargo test -p ferry-export --test golden` and
//! review the diff.

use std::io::{self, Cursor, Read};
use std::path::PathBuf;

use ferry_domain::LinkTrust;
use ferry_domain::export::*;
use ferry_export::Rows;
use ferry_export::person::{PersonExport, PersonSource};
use serde_json::json;

mod support;

struct Fixed {
    pageviews: Vec<PageviewRow>,
    events: Vec<EventRow>,
    sessions: Vec<SessionRow>,
}

impl PersonSource for Fixed {
    fn pageviews(&mut self) -> io::Result<Rows<'_, PageviewRow>> {
        Ok(Box::new(self.pageviews.clone().into_iter().map(Ok)))
    }
    fn events(&mut self) -> io::Result<Rows<'_, EventRow>> {
        Ok(Box::new(self.events.clone().into_iter().map(Ok)))
    }
    fn event_property_keys(&mut self) -> io::Result<Vec<String>> {
        Ok(ferry_export::csv_files::property_keys(
            self.events.iter().map(|e| &e.properties),
        ))
    }
    fn sessions(&mut self) -> io::Result<Rows<'_, SessionRow>> {
        Ok(Box::new(self.sessions.clone().into_iter().map(Ok)))
    }
}

const T: i64 = 1_736_868_600_000; // 2025-01-14T15:30:00Z

fn person() -> (Subject, Fixed) {
    let subject = Subject {
        profile: Some(Profile {
            user_id: "user_123".into(),
            email: Some("user@example.com".into()),
            name: Some("Zoë \"Jo\" Ångström, Jr.".into()),
            created_at: 1_718_438_400_000,
            properties: json!({"plan": "pro", "company": "Acme Inc"})
                .as_object()
                .unwrap()
                .clone(),
        }),
        identities: vec![Identity {
            visitor_key: 1,
            website_id: "web_1".into(),
            domain: "shop.example.com".into(),
            visitor_id: "v1".into(),
            user_id: Some("user_123".into()),
            linked_by: Some(LinkTrust::Signed),
            profile_set_by: Some(LinkTrust::Keyed),
        }],
    };
    let pv = |offset: i64, url: &str, title: Option<&str>| PageviewRow {
        timestamp: T + offset,
        url: url.into(),
        title: title.map(Into::into),
        referrer: Some("https://google.com".into()),
        device: Some("desktop".into()),
        browser: Some("Chrome".into()),
        country: Some("US".into()),
        website_id: "web_1".into(),
    };
    let fixed = Fixed {
        pageviews: vec![
            pv(0, "/products/widget", Some("Widget Product Page")),
            pv(120_000, "/search?q=a,b", Some("Results for \"a,b\"\nline two — 日本語")),
            pv(180_500, "/=cmd", Some("=1+1")),
        ],
        events: vec![
            EventRow {
                timestamp: T + 300_000,
                name: "add_to_cart".into(),
                properties: json!({"product_id": "SKU-001", "price": 99.99, "quantity": 1}).as_object().unwrap().clone(),
                website_id: "web_1".into(),
            },
            EventRow {
                timestamp: T + 600_000,
                name: "purchase".into(),
                properties: json!({"product_id": "SKU-001", "price": 99.99, "quantity": 1, "note": "+gift, \"wrap\""}).as_object().unwrap().clone(),
                website_id: "web_1".into(),
            },
        ],
        sessions: vec![SessionRow {
            session_id: "sess_1".into(),
            started_at: T,
            ended_at: T + 900_000,
            pages_viewed: 3,
            events_triggered: 2,
            website_id: "web_1".into(),
        }],
    };
    (subject, fixed)
}

fn export<'a>(
    subject: &'a Subject,
    subject_ref: &'a SubjectRef,
    format: Format,
) -> PersonExport<'a> {
    PersonExport {
        export_id: "exp_abc123",
        generated_at: "2025-01-15T10:30:00Z",
        subject_ref,
        subject,
        data_types: &DataType::ALL,
        format,
        range: ExportRange::default(),
        neutralise: true,
        encrypted_to: None,
        about: None,
    }
}

fn golden(name: &str, bytes: &[u8]) {
    let path = crate_dir().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
    assert!(expected == bytes, "{name} differs from {}", path.display());
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().to_string(), content)
        })
        .collect()
}

#[test]
fn the_json_document_is_byte_identical_and_in_the_reference_layout() {
    let (subject, mut source) = person();
    let subject_ref = SubjectRef::UserId("user_123".into());
    let (bytes, written) = export(&subject, &subject_ref, Format::Json)
        .write_json(Vec::new(), &mut source)
        .unwrap();
    let counts = written.counts;
    golden("export.json", &bytes);
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["export_id"], "exp_abc123");
    assert_eq!(doc["user"]["properties"]["company"], "Acme Inc");
    assert_eq!(doc["pageviews"][0]["timestamp"], "2025-01-14T15:30:00Z");
    assert_eq!(doc["pageviews"][2]["timestamp"], "2025-01-14T15:33:00.500Z");
    assert_eq!(doc["events"][0]["properties"]["price"], 99.99);
    assert_eq!(doc["sessions"][0]["pages_viewed"], 3);
    assert_eq!(counts["pageviews"], 3);
    let schema_path = crate_dir().join("../../schemas/person-export.schema.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "the export does not match the schema: {errors:?}"
    );
    let mut broken = doc.clone();
    broken["pageviews"][0]
        .as_object_mut()
        .unwrap()
        .remove("url");
    assert!(
        !validator.is_valid(&broken),
        "the schema catches a dropped field"
    );
}

#[test]
fn the_csv_package_is_byte_identical_and_parses_back_to_the_same_rows() {
    let (subject, mut source) = person();
    let subject_ref = SubjectRef::Email("user@example.com".into());
    let (zip_bytes, _) = export(&subject, &subject_ref, Format::Csv)
        .write_zip(Vec::new(), &mut source)
        .unwrap();
    let files = unzip(&zip_bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "pageviews.csv",
            "events.csv",
            "sessions.csv",
            "profile.csv",
            "README.txt",
            "manifest.json"
        ]
    );
    for (name, content) in &files {
        golden(name, content);
    }
    // The manifest's checksums are those of the files.
    let manifest: serde_json::Value = serde_json::from_slice(&files[5].1).unwrap();
    for (entry, (name, content)) in manifest["files"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(entry["name"], name.as_str());
        assert_eq!(entry["bytes"], content.len());
        let sha = sha2::Sha256::digest(content);
        assert_eq!(entry["sha256"], hex::encode(sha));
    }
    assert_eq!(
        manifest["row_counts"],
        json!({"pageviews": 3, "events": 2, "sessions": 1, "profile": 1})
    );
    assert_eq!(
        manifest["date_range"],
        json!({"start": "2025-01-14", "end": "2025-01-14"}),
        "asked for no from/to: the manifest names the days the rows cover, not nulls"
    );

    let mut reader = csv::Reader::from_reader(files[0].1.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "timestamp",
            "url",
            "title",
            "referrer",
            "device",
            "browser",
            "country",
            "website_id"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[1][1], "/search?q=a,b");
    assert_eq!(&rows[1][2], "Results for \"a,b\"\nline two — 日本語");
    assert_eq!(&rows[2][2], "'=1+1", "formulas are defused");
    assert_eq!(&rows[2][7], "web_1", "each row names its website");
    let mut reader = csv::Reader::from_reader(files[1].1.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "timestamp",
            "name",
            "property_note",
            "property_price",
            "property_product_id",
            "property_quantity",
            "website_id"
        ]
    );
    let purchase = reader.records().nth(1).unwrap().unwrap();
    assert_eq!(&purchase[2], "'+gift, \"wrap\"");
    assert_eq!(&purchase[3], "99.99");
    assert_eq!(&purchase[6], "web_1");
    let mut reader = csv::Reader::from_reader(files[2].1.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "session_id",
            "started_at",
            "ended_at",
            "pages_viewed",
            "events_triggered",
            "website_id"
        ]
    );
    let mut reader = csv::Reader::from_reader(files[3].1.as_slice());
    let profile = reader.records().next().unwrap().unwrap();
    assert_eq!(&profile[2], "Zoë \"Jo\" Ångström, Jr.");
}

#[test]
fn the_days_covered_are_the_rows_days_where_no_bound_was_asked_and_null_without_rows() {
    let (subject, mut source) = person();
    let subject_ref = SubjectRef::UserId("user_123".into());
    let day = |s: &str| s.parse().ok();
    // The session ends the next day (UTC): the last day is the session's end, not its start.
    source.sessions[0].ended_at = T + 9 * 3_600_000;
    let mut asked = export(&subject, &subject_ref, Format::Ndjson);
    asked.range.start = day("2025-01-01");
    let (_, written) = asked.write_zip(Vec::new(), &mut source).unwrap();
    assert_eq!(
        written.range,
        ExportRange {
            start: day("2025-01-01"),
            end: day("2025-01-15")
        }
    );
    let mut nothing = Fixed {
        pageviews: Vec::new(),
        events: Vec::new(),
        sessions: Vec::new(),
    };
    let (json, written) = export(&subject, &subject_ref, Format::Json)
        .write_json(Vec::new(), &mut nothing)
        .unwrap();
    assert_eq!(
        written.range,
        ExportRange::default(),
        "no rows: no day to name"
    );
    assert_eq!(written.counts["profile"], 1);
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(doc["pageviews"], json!([]));
}

#[test]
fn every_person_package_opens_in_unzip_and_python() {
    let (subject, mut source) = person();
    let subject_ref = SubjectRef::UserId("user_123".into());
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Json, Format::Csv, Format::Ndjson] {
        let (zip_bytes, _) = export(&subject, &subject_ref, format)
            .write_zip(Vec::new(), &mut source)
            .unwrap();
        let path = dir.path().join(format!("{}.zip", format.as_str()));
        std::fs::write(&path, zip_bytes).unwrap();
        let printed = support::opens_in_unzip_and_python(
            &path,
            "import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nm = json.loads(z.read('manifest.json'))\nprint(' '.join(z.namelist()), len(m['files']))",
        );
        let ext = if format == Format::Json {
            "json"
        } else {
            format.as_str()
        };
        let data = if format == Format::Json {
            "export.json".to_string()
        } else {
            ["pageviews", "events", "sessions", "profile"]
                .map(|t| format!("{t}.{ext}"))
                .join(" ")
        };
        assert_eq!(
            printed,
            format!(
                "{data} README.txt manifest.json {}",
                data.split(' ').count() + 1
            )
        );
    }
}

use sha2::Digest;

/// This crate's directory as the test runner gives it now: a path compiled in would point at
/// whichever checkout first built this test binary when several share one target directory.
fn crate_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
}
