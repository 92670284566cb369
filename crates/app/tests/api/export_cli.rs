//! `ferry export`: one person's data, from the real binary, checked file by file.

use serde_json::{Value, json};
use sha2::Digest;

use crate::cli::run;
use crate::helpers::texts;

/// Account `acme` with websites `shop.test` and `blog.test`: their ids.
async fn two_websites(d: &std::path::Path) -> (String, String) {
    assert!(run(d, &["accounts", "create", "acme"]).await.0);
    let mut ids = Vec::new();
    for domain in ["shop.test", "blog.test"] {
        let args = [
            "websites",
            "create",
            "--account",
            "acme",
            "--domain",
            domain,
        ];
        let (ok, id, err) = run(d, &args).await;
        assert!(ok, "{err}");
        ids.push(id);
    }
    (ids.remove(0), ids.remove(0))
}

#[tokio::test]
async fn a_persons_export_covers_every_linked_visitor_and_its_checksums_hold() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (shop, blog) = two_websites(d).await;
    let lines = [
        json!({"type":"pageview","website_id":shop,"visitor_id":"laptop","timestamp":"2024-05-01T10:00:00Z","url":"/a,b","title":"Quotes \"and\" commas, 日本"}),
        json!({"type":"event","website_id":shop,"visitor_id":"laptop","timestamp":"2024-05-01T10:01:00Z","name":"add_to_cart","properties":{"price":9.5,"sku":"=X"}}),
        json!({"type":"identify","website_id":shop,"visitor_id":"laptop","user_id":"u1","email":"Ann@Example.com","name":"Ann"}),
        json!({"type":"pageview","website_id":blog,"visitor_id":"phone","timestamp":"2024-05-02T08:00:00Z","url":"/post"}),
        json!({"type":"identify","website_id":blog,"visitor_id":"phone","user_id":"u1"}),
        json!({"type":"pageview","website_id":shop,"visitor_id":"stranger","timestamp":"2024-05-01T10:00:30Z","url":"/other"}),
    ];
    let file = d.join("data.ndjson");
    std::fs::write(
        &file,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    assert!(run(d, &["import", file.to_str().unwrap()]).await.0);

    let out = d.join("ann.zip");
    let (ok, _, err) = run(
        d,
        &[
            "export",
            "--email",
            "ann@example.com",
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(ok, "{err}");
    let files = crate::helpers::unzip(&std::fs::read(&out).unwrap());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "pageviews.csv",
            "events.csv",
            "sessions.csv",
            "profile.csv",
            "report.html",
            "README.txt",
            "manifest.json"
        ]
    );
    let manifest: Value = serde_json::from_slice(&files[6].1).unwrap();
    for (entry, (name, content)) in manifest["files"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(entry["name"], name.as_str());
        assert_eq!(entry["sha256"], hex::encode(sha2::Sha256::digest(content)));
    }
    assert_eq!(
        manifest["row_counts"],
        json!({"pageviews": 2, "events": 1, "sessions": 2, "profile": 1})
    );
    let visitors = texts(&manifest["identities"], "visitor_id");
    assert_eq!(
        visitors,
        ["laptop", "phone"],
        "both devices, not the stranger"
    );

    let mut pageviews = csv::Reader::from_reader(files[0].1.as_slice());
    let rows: Vec<csv::StringRecord> = pageviews.records().map(Result::unwrap).collect();
    assert_eq!(
        (&rows[0][1], &rows[0][2]),
        ("/a,b", "Quotes \"and\" commas, 日本")
    );
    assert_eq!(&rows[1][1], "/post");
    // Which website each row comes from, in the last column.
    assert_eq!((&rows[0][7], &rows[1][7]), (shop.as_str(), blog.as_str()));
    let events = String::from_utf8(files[1].1.clone()).unwrap();
    assert_eq!(
        events,
        format!(
            "timestamp,name,property_price,property_sku,website_id\r\n2024-05-01T10:01:00Z,add_to_cart,9.5,'=X,{shop}\r\n"
        )
    );

    // The same person by visitor id; JSON in the reference layout.
    let json_out = d.join("ann.json");
    let (ok, _, err) = run(
        d,
        &[
            "export",
            "--visitor",
            "phone",
            "-o",
            json_out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(ok, "{err}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert_eq!(doc["user"]["user_id"], "u1");
    assert_eq!(doc["pageviews"].as_array().unwrap().len(), 2);
    assert_eq!(doc["events"][0]["properties"]["price"], 9.5);

    let (ok, _, err) = run(
        d,
        &[
            "export",
            "--user",
            "nobody",
            "-o",
            d.join("x.json").to_str().unwrap(),
        ],
    )
    .await;
    assert!(!ok && err.contains("subject_not_found"), "{err}");
    assert!(!d.join("x.json").exists());
}

#[tokio::test]
async fn a_bulk_export_from_the_cli_holds_one_website_and_limits_are_set_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (shop, blog) = two_websites(d).await;
    let mut lines = String::new();
    // Parts are at least 1 MiB: 1,200 page views of ~1.9 KB make about 2.3 MB, three parts.
    let pad = "x".repeat(1_900);
    for i in 0..1_200 {
        let line = json!({"type":"pageview","website_id":shop,"visitor_id":format!("v{}", i % 3),
            "timestamp":format!("2024-05-01T10:{:02}:{:02}Z", i / 60, i % 60),"url":format!("/p/{i}/{pad}")});
        lines.push_str(&format!("{line}\n"));
    }
    let other = json!({"type":"pageview","website_id":blog,"visitor_id":"b","timestamp":"2024-05-01T10:00:00Z","url":"/blog"});
    lines.push_str(&format!("{other}\n"));
    let file = d.join("data.ndjson");
    std::fs::write(&file, lines).unwrap();
    assert!(run(d, &["import", file.to_str().unwrap()]).await.0);

    let out = d.join("shop.zip");
    let (ok, _, err) = run(
        d,
        &[
            "export",
            "--bulk",
            "--website",
            &shop,
            "--format",
            "ndjson",
            "--part-size",
            "1MiB",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(err.contains("pageviews=1200"), "{err}");
    let files = crate::helpers::unzip(&std::fs::read(&out).unwrap());
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(manifest["website_id"], json!(shop));
    let mut urls = Vec::new();
    let parts: Vec<_> = files
        .iter()
        .filter(|(n, _)| n.starts_with("pageviews-"))
        .collect();
    assert!(parts.len() >= 2, "split into parts: {}", parts.len());
    for (name, bytes) in parts {
        assert!(bytes.len() <= 1 << 20, "{name}");
        let listed = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == json!(name))
            .unwrap();
        assert_eq!(listed["sha256"], hex::encode(sha2::Sha256::digest(bytes)));
        for line in String::from_utf8(bytes.clone()).unwrap().lines() {
            urls.push(
                serde_json::from_str::<Value>(line).unwrap()["url"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert_eq!(
        urls.len(),
        1_200,
        "every page view of the shop, none of the blog"
    );
    assert!(!urls.contains(&"/blog".to_string()));

    let (ok, _, err) = run(
        d,
        &[
            "accounts",
            "limits",
            "acme",
            "--exports-per-day",
            "3",
            "--max-export-size",
            "2GB",
        ],
    )
    .await;
    assert!(
        ok && err.contains("3 exports a day, 2 GB per export"),
        "{err}"
    );
    let (ok, out, _) = run(d, &["plans", "list"]).await;
    assert!(
        ok && out.contains("pro        50 exports a day, 1 GB per export"),
        "{out}"
    );
    let (ok, _, err) = run(
        d,
        &[
            "plans",
            "set",
            "pro",
            "--exports-per-day",
            "unlimited",
            "--max-export-size",
            "500MB",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (_, out, _) = run(d, &["plans", "list"]).await;
    assert!(
        out.contains("pro        unlimited exports a day, 500 MB per export"),
        "{out}"
    );
    let (ok, _, err) = run(
        d,
        &["accounts", "limits", "acme", "--exports-per-day", "lots"],
    )
    .await;
    assert!(!ok && err.contains("not a limit"), "{err}");
}

#[tokio::test]
async fn ferry_compact_builds_segments_and_the_cli_export_is_the_same_with_or_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (shop, blog) = two_websites(d).await;
    let mut lines = String::new();
    for (website, day, n) in [(&shop, 1, 30), (&shop, 2, 20), (&blog, 1, 5)] {
        for i in 0..n {
            let at = format!("2024-05-0{day}T10:{i:02}:00Z");
            let view = json!({"type":"pageview","website_id":website,"visitor_id":format!("v{}", i % 4),"timestamp":at,"url":format!("/p/{i}?q=\"x\",y")});
            let event = json!({"type":"event","website_id":website,"visitor_id":format!("v{}", i % 4),"timestamp":at,"name":"click","properties":{"n":i,"label":"a\nb"}});
            lines.push_str(&format!("{view}\n{event}\n"));
        }
    }
    let file = d.join("data.ndjson");
    std::fs::write(&file, lines).unwrap();
    assert!(run(d, &["import", file.to_str().unwrap()]).await.0);

    let (ok, out, err) = run(d, &["compact", "--jobs", "2"]).await;
    assert!(ok, "{err}");
    // shop: two days, blog: one; page views and events; CSV and NDJSON (rows counted per format).
    assert!(out.starts_with("built 12 segments (220 rows"), "{out}");
    assert!(d.join("segments").read_dir().unwrap().count() >= 12);

    for format in ["csv", "ndjson"] {
        let mut exported = Vec::new();
        for extra in [None, Some("--no-segments")] {
            let target = d.join(format!("{format}-{}", extra.is_some()));
            let mut args = vec![
                "export",
                "--bulk",
                "--website",
                &shop,
                "--format",
                format,
                "--include",
                "pageviews,events",
                "--no-zip",
                "-o",
                target.to_str().unwrap(),
            ];
            args.extend(extra);
            let (ok, _, err) = run(d, &args).await;
            assert!(ok, "{err}");
            assert!(err.contains("events=50 pageviews=50"), "{err}");
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&target)
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| {
                    !["README.txt", "manifest.json"].contains(&e.file_name().to_str().unwrap())
                })
                .map(|e| {
                    (
                        e.file_name().into_string().unwrap(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            files.sort();
            exported.push(files);
        }
        assert_eq!(exported[0].len(), 2);
        assert_eq!(
            exported[0], exported[1],
            "{format}: segments give the same bytes"
        );
    }

    // The export did read them: with their files gone, a CSV export still completes (reading
    // those days live) and forgets the four it found missing, which the next pass rebuilds.
    for entry in d.join("segments").read_dir().unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let target = d.join("after");
    let args = [
        "export",
        "--bulk",
        "--website",
        &shop,
        "--include",
        "pageviews,events",
        "--format",
        "csv",
        "-o",
        target.to_str().unwrap(),
    ];
    let (ok, _, err) = run(d, &args).await;
    assert!(ok && err.contains("events=50 pageviews=50"), "{err}");
    let (ok, out, err) = run(d, &["compact"]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("built 4 segments (100 rows"), "{out}");
}
