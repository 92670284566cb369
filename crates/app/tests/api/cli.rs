//! The real `ferry` binary, as a user runs it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

pub(crate) fn ferry(data_dir: &Path) -> Command {
    let mut cmd = Command::new(FERRY);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("FERRY_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

/// Runs to completion; returns (success, stdout, stderr).
pub async fn run(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = ferry(data_dir)
        .args(args)
        .output()
        .await
        .expect("ferry runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Account `acme` with website `a.test` (its id returned), where visitor `v1`, identified as
/// user `u1` (`Ann@Example.com`), viewed one page.
pub async fn one_person(data_dir: &Path) -> String {
    assert!(run(data_dir, &["accounts", "create", "acme"]).await.0);
    let create = [
        "websites",
        "create",
        "--account",
        "acme",
        "--domain",
        "a.test",
    ];
    let (ok, site, err) = run(data_dir, &create).await;
    assert!(ok, "{err}");
    let lines = [
        serde_json::json!({"type":"pageview","website_id":site,"visitor_id":"v1","timestamp":"2024-05-01T10:00:00Z","url":"/"}),
        serde_json::json!({"type": "identify", "website_id": site, "visitor_id": "v1", "user_id": "u1", "email": "Ann@Example.com"}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let file = data_dir.join("one-person.ndjson");
    std::fs::write(&file, body).unwrap();
    assert!(run(data_dir, &["import", file.to_str().unwrap()]).await.0);
    site
}

/// Starts a long-running command and reads stdout until a line starts with `last`.
async fn start_until(data_dir: &Path, args: &[&str], last: &str) -> (Child, Vec<String>) {
    let mut child = ferry(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("ferry starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.trim_start().starts_with(last);
            seen.push(line);
            if done {
                return;
            }
        }
        panic!("ferry stopped before printing `{last}`: {seen:?}");
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("ferry starts within 2 minutes");
    (child, seen)
}

/// `ferry serve` on a free port: the process and its base URL.
pub(crate) async fn serve(data_dir: &Path) -> (Child, String) {
    let (server, lines) = start_until(
        data_dir,
        &["serve", "--listen", "127.0.0.1:0"],
        "Ferry listening on",
    )
    .await;
    let base = lines
        .last()
        .unwrap()
        .trim()
        .strip_prefix("Ferry listening on ")
        .unwrap()
        .to_string();
    (server, base)
}

/// The analytics summary for 2024-05-01, the day these tests write to.
async fn may_first(base: &str, key: &str, website: &str) -> Value {
    reqwest::Client::new()
        .get(format!(
            "{base}/api/external/v1/analytics/{website}?from=2024-05-01&to=2024-05-01"
        ))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn field<'a>(lines: &'a [String], label: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` line in {lines:?}"))
        .trim()
}

#[tokio::test]
async fn accounts_websites_keys_import_and_serve_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = run(d, &["accounts", "create", "acme", "--plan", "scale"]).await;
    assert!(ok, "{err}");
    let (ok, website, err) = run(
        d,
        &[
            "websites",
            "create",
            "--account",
            "acme",
            "--domain",
            "acme.test",
            "--timezone",
            "Europe/Berlin",
        ],
    )
    .await;
    assert!(ok && website.starts_with("web_"), "{err}");
    let (ok, key, err) = run(
        d,
        &[
            "keys",
            "create",
            "--account",
            "acme",
            "--scopes",
            "analytics:read",
        ],
    )
    .await;
    assert!(ok && key.starts_with("fy_"), "{err}");
    let (ok, _, err) = run(d, &["keys", "create", "--account", "nobody"]).await;
    assert!(!ok && err.contains("no account named `nobody`"), "{err}");

    let file = d.join("events.ndjson");
    let good = |visitor: &str, minute: u32| {
        format!(
            r#"{{"type":"pageview","website_id":"{website}","visitor_id":"{visitor}","timestamp":"2024-05-01T10:{minute:02}:00Z","url":"/"}}"#
        )
    };
    let body = [
        good("a", 0),
        good("a", 5),
        good("b", 7),
        "{\"type\":\"pageview\"}".to_string(),
    ]
    .join("\n");
    std::fs::write(&file, body).unwrap();
    let (ok, _, err) = run(d, &["import", file.to_str().unwrap()]).await;
    assert!(!ok, "a refused line makes import fail");
    assert!(err.contains("line 4: missing_field"), "{err}");
    assert!(err.contains("imported 3 lines, refused 1"), "{err}");

    let (_server, base) = serve(d).await;
    let summary = may_first(&base, &key, &website).await;
    assert_eq!(summary["totals"]["pageviews"], 3);
    assert_eq!(summary["totals"]["sessions"], 2);
    assert_eq!(summary["timezone"], "Europe/Berlin");
}

#[tokio::test]
async fn the_demo_prints_totals_that_the_api_agrees_with() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, lines) = start_until(
        dir.path(),
        &["demo", "--listen", "127.0.0.1:0", "--visitors", "300"],
        "try:",
    )
    .await;
    let base = field(&lines, "url:");
    let key = field(&lines, "api key:").split_whitespace().next().unwrap();
    let data = field(&lines, "demo data:");
    let facts: std::collections::HashMap<&str, &str> = data
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let saved = std::fs::read_to_string(dir.path().join("demo-api-key")).unwrap();
    assert_eq!(saved.trim(), key);
    // `dashboard:  URL/login  as EMAIL / PASSWORD  (…)` signs in.
    let sign_in: Vec<&str> = field(&lines, "dashboard:").split_whitespace().collect();
    let answer = crate::dashboard::try_login(base, sign_in[2], sign_in[4], &[]).await;
    assert_eq!(
        (sign_in[2], answer.status().as_u16()),
        ("admin@company.com", 303)
    );

    let url = format!(
        "{base}/api/external/v1/analytics/web_demo?from={}&to={}",
        facts["from"], facts["to"]
    );
    let summary: Value = reqwest::Client::new()
        .get(url)
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in ["visitors", "sessions", "pageviews", "events"] {
        assert_eq!(
            summary["totals"][field].as_u64().unwrap().to_string(),
            facts[field],
            "{field}: {summary}"
        );
    }
    assert!(
        facts["pageviews"].parse::<u64>().unwrap() > 1000,
        "the demo has a realistic amount of data"
    );
    assert!(
        facts["users"].parse::<u64>().unwrap() > 50,
        "some visitors are identified"
    );
}

#[tokio::test]
async fn an_import_by_another_process_is_seen_by_the_running_servers_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["accounts", "create", "acme"]).await.0);
    let (_, website, _) = run(
        d,
        &[
            "websites",
            "create",
            "--account",
            "acme",
            "--domain",
            "acme.test",
        ],
    )
    .await;
    let (_, key, _) = run(
        d,
        &[
            "keys",
            "create",
            "--account",
            "acme",
            "--scopes",
            "ingest,analytics:read",
        ],
    )
    .await;
    let (_server, base) = serve(d).await;
    let client = reqwest::Client::new();
    let line = |at: &str| {
        format!(
            r#"{{"type":"pageview","website_id":"{website}","visitor_id":"v1","timestamp":"2024-05-01T{at}:00Z","url":"/"}}"#
        )
    };
    let ingest = |at: &'static str| {
        client
            .post(format!("{base}/api/ingest"))
            .header("X-API-Key", &key)
            .body(line(at))
            .send()
    };
    assert_eq!(ingest("10:00").await.unwrap().status(), 200);
    // Meanwhile another process adds a later visit for the same visitor ...
    let file = d.join("later.ndjson");
    std::fs::write(&file, line("11:00")).unwrap();
    assert!(run(d, &["import", file.to_str().unwrap()]).await.0);
    // ... which the server's next batch must extend rather than start a third session.
    assert_eq!(ingest("11:10").await.unwrap().status(), 200);
    let summary = may_first(&base, &key, &website).await;
    assert_eq!(summary["totals"]["sessions"], 2, "{summary}");
    assert_eq!(summary["totals"]["pageviews"], 3);
}

#[tokio::test]
async fn serve_runs_a_queued_export_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = one_person(d).await;
    let (_, key, _) = run(d, &["keys", "create", "--account", "acme"]).await;

    let (mut server, base) = serve(d).await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"kind": "bulk", "website_id": site});
    let queued: Value = client
        .post(format!("{base}/api/external/v1/exports"))
        .header("X-API-Key", &key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queued["export_id"].as_str().unwrap().to_string();
    // The server's own worker runs it; a client polls, as the README shows.
    let poll = async {
        loop {
            let job: Value = client
                .get(format!("{base}/api/external/v1/exports/{id}"))
                .header("X-API-Key", &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if job["status"] != "queued" && job["status"] != "running" {
                return job;
            }
            tokio::task::yield_now().await;
        }
    };
    let job = tokio::time::timeout(Duration::from_secs(60), poll)
        .await
        .expect("the export ends");
    assert_eq!(job["status"], "completed", "{job}");

    let pid = server.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(60), server.wait())
        .await
        .expect("ferry serve stops after SIGTERM")
        .unwrap();
    assert!(status.success(), "a clean exit: {status}");
}

#[tokio::test]
async fn the_data_directory_is_the_owners_a_rerun_demo_revokes_its_old_key_and_an_empty_link_secret_is_refused()
 {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let demo = ["demo", "--no-serve", "--visitors", "20", "--days", "2"];
    assert!(run(&d, &demo).await.0);
    let first = std::fs::read_to_string(d.join("demo-api-key")).unwrap();
    assert!(run(&d, &demo).await.0);
    let second = std::fs::read_to_string(d.join("demo-api-key")).unwrap();
    assert_ne!(first, second);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d), 0o700, "the data directory");
        assert_eq!(mode(&d.join("demo-api-key")), 0o600);
    }
    let store = ferry_store::open("", &d).await.unwrap();
    let demo_account = store.account_by_name("demo").await.unwrap().unwrap();
    let keys = store.keys(demo_account.id).await.unwrap();
    let live: Vec<_> = keys.iter().filter(|k| k.revoked_at.is_none()).collect();
    assert_eq!(
        (keys.len(), live.len()),
        (2, 1),
        "the first demo key was revoked"
    );
    assert!(second.starts_with(&live[0].prefix));

    // An empty HMAC key would let anyone forge download links.
    let out = ferry(&d)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FERRY_LINK_SECRET", "")
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("at least 32"),
        "{err}"
    );
}
