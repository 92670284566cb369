//! An unzipped bulk export encrypted per file (issue 11, §1): every part, the README and the
//! manifest are each an OpenPGP message `NAME.gpg`, which GnuPG decrypts to the bytes the
//! same export gives unencrypted; links and deliveries carry the `.gpg` names.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::bulk_exports::{bulk, traffic};
use crate::exports::fetch;
use crate::helpers::*;
use crate::stored_keys::recipient;

async fn download(app: &TestApp, file: &Value) -> Vec<u8> {
    let (status, bytes) = fetch(app, file["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK, "{}", file["name"]);
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), file["sha256"]);
    bytes
}

#[tokio::test]
async fn every_file_of_an_unzipped_encrypted_export_decrypts_to_the_plain_exports_bytes() {
    let app = spawn_app_with_small_parts().await;
    traffic(&app).await;
    let (gpg, armored, fingerprint) = recipient("parts@example.com");
    let dir = tempfile::tempdir().unwrap();
    let request = json!({"format": "csv", "zip": false, "part_size": 1024,
                         "include": ["pageviews", "events"]});
    let plain = bulk(&app, request.clone()).await;
    let mut sealed_request = request;
    sealed_request["encryption"] = json!({"pgp_public_key": armored});
    sealed_request["delivery"] = json!({"type": "local", "path": dir.path()});
    let sealed = bulk(&app, sealed_request).await;
    assert_eq!(sealed["encrypted_to"], fingerprint);
    assert_eq!(sealed["delivery"]["status"], "delivered", "{sealed}");

    let plain_files = plain["files"].as_array().unwrap();
    let sealed_files = sealed["files"].as_array().unwrap();
    assert!(
        plain_files.len() >= 5,
        "manifest, parts, README: {plain_files:?}"
    );
    let names = |files: &[Value], suffix: &str| -> Vec<String> {
        files
            .iter()
            .map(|f| format!("{}{suffix}", f["name"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(names(sealed_files, ""), names(plain_files, ".gpg"));
    assert_eq!(
        sealed_files[0]["name"], "manifest.json.gpg",
        "the manifest first"
    );

    let sealed_id = sealed["export_id"].as_str().unwrap();
    let mut manifest = Value::Null;
    for (plain_file, sealed_file) in plain_files.iter().zip(sealed_files) {
        let name = sealed_file["name"].as_str().unwrap();
        let encrypted = download(&app, sealed_file).await;
        let delivered = std::fs::read(dir.path().join(sealed_id).join(name)).unwrap();
        assert_eq!(delivered, encrypted, "{name} delivered as served");
        let opened = gpg.decrypt(&encrypted);
        let expected = download(&app, plain_file).await;
        match plain_file["name"].as_str().unwrap() {
            // These two name their export and when it was made.
            "manifest.json" => manifest = serde_json::from_slice(&opened).unwrap(),
            "README.txt" => assert!(String::from_utf8(opened).unwrap().contains("pageviews")),
            other => assert_eq!(opened, expected, "{other}"),
        }
    }
    // The manifest inside describes the content: the same files, names and checksums as
    // the unencrypted export's, and to whom the files were encrypted.
    let plain_manifest: Value =
        serde_json::from_slice(&download(&app, &plain_files[0]).await).unwrap();
    let data_files = |m: &Value| -> Vec<Value> {
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["name"] != "README.txt")
            .cloned()
            .collect()
    };
    assert_eq!(data_files(&manifest), data_files(&plain_manifest));
    assert_eq!(manifest["encrypted_to"], fingerprint);
    assert_eq!(manifest["row_counts"], plain_manifest["row_counts"]);
}

#[tokio::test]
async fn ferry_export_writes_an_unzipped_bulk_export_as_gpg_files_to_the_accounts_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = crate::cli::one_person(d).await;
    let (gpg, armored, fingerprint) = recipient("cli-parts@example.com");
    let key_file = d.join("account.asc");
    std::fs::write(&key_file, armored).unwrap();
    let set = [
        "accounts",
        "encryption",
        "set",
        "acme",
        "--pgp-key",
        key_file.to_str().unwrap(),
    ];
    assert!(crate::cli::run(d, &set).await.0);
    let target = d.join("parts");
    let args = [
        "export",
        "--bulk",
        "--website",
        &site,
        "--no-zip",
        "-o",
        target.to_str().unwrap(),
    ];
    let (ok, _, err) = crate::cli::run(d, &args).await;
    assert!(ok, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.contains(&"manifest.json.gpg".to_string()),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| n.ends_with(".gpg")),
        "nothing in plaintext: {names:?}"
    );
    let manifest: Value = serde_json::from_slice(
        &gpg.decrypt(&std::fs::read(target.join("manifest.json.gpg")).unwrap()),
    )
    .unwrap();
    assert_eq!(manifest["encrypted_to"], fingerprint);
    for listed in manifest["files"].as_array().unwrap() {
        let name = listed["name"].as_str().unwrap();
        let opened = gpg.decrypt(&std::fs::read(target.join(format!("{name}.gpg"))).unwrap());
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&opened)),
            listed["sha256"],
            "{name}"
        );
    }
}
