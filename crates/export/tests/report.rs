//! The Art. 15 answer in a person's package: `report.html` and the README's section are
//! added, every other file stays byte for byte what it was without them, and hostile text
//! comes out of the report as text. `tests/golden/report.html` and `README-art15.txt` hold
//! the expected pages (`UPDATE_GOLDEN=1` rewrites them; review the diff).

use std::io::{self, Cursor, Read};
use std::path::PathBuf;

use ferry_domain::export::*;
use ferry_domain::privacy_statement::PrivacyStatement;
use ferry_export::Rows;
use ferry_export::person::{PersonExport, PersonSource};
use ferry_export::report::{About, AboutWebsite, Access};

const IMG: &str = "\"><img src=x onerror=alert(1)>";
const SCRIPT: &str = "<script>alert(1)</script>";
const T: i64 = 1_736_868_600_000; // 2025-01-14T15:30:00Z

struct Hostile;

impl PersonSource for Hostile {
    fn pageviews(&mut self) -> io::Result<Rows<'_, PageviewRow>> {
        Ok(Box::new(std::iter::once(Ok(PageviewRow {
            timestamp: T,
            url: format!("/p?q={IMG}"),
            title: Some(SCRIPT.into()),
            referrer: None,
            device: None,
            browser: None,
            country: None,
            website_id: "web_1".into(),
        }))))
    }
    fn events(&mut self) -> io::Result<Rows<'_, EventRow>> {
        let mut properties = serde_json::Map::new();
        properties.insert("note".into(), SCRIPT.into());
        Ok(Box::new(std::iter::once(Ok(EventRow {
            timestamp: T + 60_000,
            name: IMG.into(),
            properties,
            website_id: "web_1".into(),
        }))))
    }
    fn event_property_keys(&mut self) -> io::Result<Vec<String>> {
        Ok(vec!["note".into()])
    }
    fn sessions(&mut self) -> io::Result<Rows<'_, SessionRow>> {
        Ok(Box::new(std::iter::empty()))
    }
}

fn subject() -> Subject {
    Subject {
        profile: None,
        identities: vec![Identity {
            visitor_key: 1,
            website_id: "web_1".into(),
            domain: "shop.example.com".into(),
            visitor_id: "v1".into(),
            user_id: None,
            linked_by: None,
            profile_set_by: None,
        }],
    }
}

fn about() -> About {
    let account = PrivacyStatement {
        controller: Some("Acme GmbH\nHauptstr. 1".into()),
        purposes: Some(format!("Statistics {SCRIPT}")),
        recipients: Some(format!("Hosting {IMG}")),
        ..Default::default()
    };
    // What applies on the website: its own fields over the account's, as the caller merges.
    let website = PrivacyStatement {
        source: Some(format!("Forms {SCRIPT}")),
        ..Default::default()
    }
    .over(&account);
    About {
        statement: account,
        websites: vec![AboutWebsite {
            website_id: "web_1".into(),
            domain: "shop.example.com".into(),
            retention_days: Some(395),
            statement: Some(website),
        }],
        access_log: vec![Access {
            at: "2025-01-14T16:00:00Z".into(),
            who: format!("API key \u{201c}{IMG}\u{201d}"),
            what: "asked for export exp_abc123 (this export): pageviews, as csv".into(),
        }],
        access_log_omitted: 2,
    }
}

fn zip(about: Option<&About>) -> Vec<(String, Vec<u8>)> {
    let subject = subject();
    let subject_ref = SubjectRef::VisitorId("v1".into());
    let export = PersonExport {
        export_id: "exp_abc123",
        generated_at: "2025-01-15T10:30:00Z",
        subject_ref: &subject_ref,
        subject: &subject,
        data_types: &[DataType::Pageviews, DataType::Events],
        format: Format::Csv,
        range: ExportRange::default(),
        neutralise: true,
        encrypted_to: None,
        about,
    };
    let (bytes, _) = export.write_zip(Vec::new(), &mut Hostile).unwrap();
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

fn golden(name: &str, bytes: &[u8]) {
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let path = PathBuf::from(dir).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let expected = std::fs::read(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
    assert!(expected == bytes, "{name} differs from {}", path.display());
}

#[test]
fn the_report_is_added_and_every_data_file_stays_byte_identical() {
    let plain = zip(None);
    let about = about();
    let with = zip(Some(&about));
    let names: Vec<&str> = with.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "pageviews.csv",
            "events.csv",
            "report.html",
            "README.txt",
            "manifest.json"
        ]
    );
    for (name, content) in &plain {
        let other = &with.iter().find(|(n, _)| n == name).unwrap().1;
        match name.as_str() {
            "README.txt" | "manifest.json" => assert_ne!(content, other, "{name}"),
            _ => assert_eq!(content, other, "{name} changed"),
        }
    }
    let readme = &with[3].1;
    assert!(readme.starts_with(&plain.iter().find(|(n, _)| n == "README.txt").unwrap().1));
    golden("README-art15.txt", readme);
    golden("report.html", &with[2].1);
}

#[test]
fn hostile_text_in_the_report_is_text_not_markup() {
    let about = about();
    let html = String::from_utf8(zip(Some(&about))[2].1.clone()).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("Statistics &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("API key \u{201c}&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\u{201d}"));
    assert!(html.contains("Forms &lt;script&gt;"));
    assert!(
        html.contains("Acme GmbH<br>Hauptstr. 1"),
        "line breaks kept"
    );
    assert!(html.contains("raw data is deleted after 395 days"));
    assert!(html.contains("2 older entries are not shown"));
    assert!(html.contains("<tr><td>Pages viewed</td><td>1</td></tr>"));
    assert!(html.contains("First seen 2025-01-14T15:30:00Z, last seen 2025-01-14T15:31:00Z"));
}
