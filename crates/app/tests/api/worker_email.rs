//! Email delivery from a standalone `ferry worker` process (the real binary): it links to
//! `--public-url`, and without one, when a relay is set, it refuses to start.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::delivery_more::mail_to;
use crate::exports::{fetch, person, post};
use crate::helpers::*;

const PUBLIC_URL: &str = "https://ferry.example.test";
const RELAY: &str = "smtp://ferry:ferry-test-smtp@127.0.0.1:2525";

fn worker(data_dir: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("worker")
        .env_remove("FERRY_PUBLIC_URL")
        .env_remove("FERRY_SMTP_URL")
        .env_remove("FERRY_SMTP_FROM")
        .env_remove("FERRY_SMTP_CA_FILE")
        .env("FERRY_LOG", "error")
        .kill_on_drop(true);
    cmd
}

#[tokio::test]
async fn a_standalone_worker_delivers_by_email_a_link_to_the_public_url_that_downloads_the_export()
{
    // The API server here has no relay; the worker process has one.
    let app = spawn_app().await;
    person(&app).await;
    let to = format!("worker-{}@example.com", std::process::id());
    let body = json!({"format": "json", "delivery": {"type": "email", "to": to}});
    let queued = post(&app, "/users/user_123/export", body).await;
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    let id = queued.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut process = worker(app.data_dir())
        .args(["--public-url", &format!("{PUBLIC_URL}/")])
        .args(["--smtp-url", RELAY, "--smtp-from", "ferry@example.com"])
        .spawn()
        .unwrap();
    // Another process does the work: its progress is polled, as a client would.
    let job = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
            if job["delivery"]["status"] != "pending" {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the worker delivers within a minute");
    process.kill().await.unwrap();
    assert_eq!(job["delivery"]["status"], "delivered", "{job}");

    let mail = mail_to(&to);
    let text = mail["body"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/download/"))
        .unwrap_or_else(|| panic!("a download link in {text}"));
    let path = link
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{link} starts with the public URL"));
    assert!(path.starts_with("/download/"), "{link}");
    let (status, bytes) = fetch(&app, &app.url(path), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
}

#[tokio::test]
async fn a_worker_with_a_relay_but_no_public_url_refuses_to_start_naming_the_flag() {
    let app = spawn_app().await;
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        worker(app.data_dir())
            .args(["--smtp-url", RELAY, "--smtp-from", "ferry@example.com"])
            .output(),
    )
    .await
    .expect("it stops at once")
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--public-url") && stderr.contains("FERRY_PUBLIC_URL"),
        "{stderr}"
    );

    let half = tokio::time::timeout(
        Duration::from_secs(60),
        worker(app.data_dir())
            .args(["--public-url", PUBLIC_URL, "--smtp-url", RELAY])
            .output(),
    )
    .await
    .expect("it stops at once")
    .unwrap();
    assert!(!half.status.success());
    let stderr = String::from_utf8_lossy(&half.stderr);
    assert!(stderr.contains("--smtp-from"), "{stderr}");
}
