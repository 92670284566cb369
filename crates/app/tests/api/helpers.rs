//! One `spawn_app()` for every test: a fresh data directory, an account with an admin key and
//! a website, the router on 127.0.0.1:0, and a helper per endpoint. The job worker does not
//! run by itself: a test steps it (`run_jobs`) and moves the clock by hand, so nothing waits
//! on the wall clock.

use std::sync::Arc;

use ferry::clock::ManualClock;
use ferry::config::ServeArgs;
use ferry::jobs::{JobEvent, Worker};
use ferry::keys::mint;
use ferry::startup::App;
use ferry_domain::{Plan, Scopes};
use ferry_store::Store;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    /// A key with every scope.
    pub admin_key: String,
    /// A UTC website of the account.
    pub website: String,
    /// `website`'s identify secret, for signing tracker identify calls.
    pub identify_secret: String,
    /// The app's job worker, stepped by the test.
    pub worker: Worker,
    pub clock: ManualClock,
    /// Download log entries as they are recorded (export ids).
    pub downloads: tokio::sync::broadcast::Receiver<String>,
    _dir: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeArgs::loopback()).await
}

/// An app that takes bulk parts down to 512 bytes (the API's floor is 1 MiB), so that a few
/// rows split into several parts.
pub async fn spawn_app_with_small_parts() -> TestApp {
    let mut args = ServeArgs::loopback();
    args.min_part_size = 512;
    spawn_app_with(args).await
}

pub async fn spawn_app_with(args: ServeArgs) -> TestApp {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = ferry_store::open("", dir.path())
        .await
        .expect("the store opens");
    let account = store.create_account("acme", Plan::Pro).await.unwrap();
    let admin = mint(Some("admin".into()), Scopes::all());
    store.create_key(account.id, admin.record).await.unwrap();
    let clock = ManualClock::new();
    let app = App::build_with_clock(store.clone(), &args, dir.path(), Arc::new(clock.clone()))
        .await
        .expect("the app builds");
    let base = app.base_url.clone();
    let worker = app.worker.clone();
    let downloads = app.downloads.subscribe();
    tokio::spawn(app.serve_until(std::future::pending()));
    let mut test = TestApp {
        base,
        store,
        client: reqwest::Client::new(),
        admin_key: admin.secret,
        website: String::new(),
        identify_secret: String::new(),
        worker,
        clock,
        downloads,
        _dir: dir,
    };
    let created = test.create_website_json("shop.example.com", "UTC").await;
    test.website = created["id"].as_str().unwrap().to_string();
    test.identify_secret = created["identify_secret"].as_str().unwrap().to_string();
    test
}

impl TestApp {
    /// The data directory (database, artifacts) this app runs on.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Runs every ready job to its end, in order.
    pub async fn run_jobs(&self) -> Vec<JobEvent> {
        self.worker
            .run_until_idle()
            .await
            .expect("the worker steps")
    }

    /// Waits until the download log has recorded `n` more downloads.
    pub async fn downloads_recorded(&mut self, n: usize) {
        for _ in 0..n {
            tokio::time::timeout(std::time::Duration::from_secs(30), self.downloads.recv())
                .await
                .expect("a download is recorded")
                .expect("the download log is open");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/external/v1{path}", self.base)
    }

    pub async fn create_website(&self, domain: &str, timezone: &str) -> String {
        let body = self.create_website_json(domain, timezone).await;
        body["id"].as_str().unwrap().to_string()
    }

    /// The create answer: the website and its identify secret.
    pub async fn create_website_json(&self, domain: &str, timezone: &str) -> Value {
        let response = self
            .client
            .post(self.api("/websites"))
            .header("X-API-Key", &self.admin_key)
            .json(&json!({"domain": domain, "timezone": timezone}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// A new key of this account with the given comma-separated scopes.
    pub async fn key_with(&self, scopes: &str) -> String {
        let scopes: Vec<&str> = scopes.split(',').collect();
        let response = self
            .client
            .post(self.api("/keys"))
            .header("X-API-Key", &self.admin_key)
            .json(&json!({"name": "test", "scopes": scopes}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["key"].as_str().unwrap().to_string()
    }

    /// A second account with its own admin key and website: (key, website id).
    pub async fn other_account(&self) -> (String, String) {
        let other = self
            .store
            .create_account("globex", Plan::Pro)
            .await
            .unwrap();
        let key = mint(None, Scopes::all());
        self.store.create_key(other.id, key.record).await.unwrap();
        let response = self
            .client
            .post(self.api("/websites"))
            .header("X-API-Key", &key.secret)
            .json(&json!({"domain": "globex.example.com"}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        (key.secret, body["id"].as_str().unwrap().to_string())
    }

    pub async fn ingest_with(&self, key: Option<&str>, ndjson: String) -> Response {
        let mut request = self.client.post(self.url("/api/ingest")).body(ndjson);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        request.send().await.unwrap()
    }

    /// Ingests lines with the admin key and asserts every one was accepted.
    pub async fn ingest_ok(&self, lines: &[Value]) {
        let body = ndjson(lines);
        let response = self.ingest_with(Some(&self.admin_key), body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["rejected"], 0, "{report}");
        assert_eq!(report["accepted"], lines.len(), "{report}");
    }

    pub async fn get_with(&self, key: &str, url: &str) -> Response {
        self.client
            .get(url)
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap()
    }

    /// GET with the admin key, asserting 200, returning the JSON.
    pub async fn get_json(&self, url: &str) -> Value {
        let response = self.get_with(&self.admin_key, url).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.json().await.unwrap()
    }

    pub async fn summary(&self, website: &str, from: &str, to: &str) -> Value {
        self.get_json(&self.api(&format!("/analytics/{website}?from={from}&to={to}")))
            .await
    }

    /// Totals over 2000–2099: anything stored shows up here.
    pub async fn everything(&self, website: &str) -> Value {
        let mut totals = json!({"pageviews": 0, "events": 0, "sessions": 0});
        for decade in (2000..2100).step_by(10) {
            let body = self
                .summary(
                    website,
                    &format!("{decade}-01-01"),
                    &format!("{}-12-31", decade + 9),
                )
                .await;
            for field in ["pageviews", "events", "sessions"] {
                let sum = totals[field].as_u64().unwrap() + body["totals"][field].as_u64().unwrap();
                totals[field] = json!(sum);
            }
        }
        totals
    }

    pub async fn assert_nothing_stored(&self, website: &str) {
        assert_eq!(
            self.everything(website).await,
            json!({"pageviews": 0, "events": 0, "sessions": 0}),
            "bad input must change nothing"
        );
    }
}

/// `field` of each object of the array `list`, as text: `texts(&user["identities"], "visitor_id")`.
pub fn texts<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|item| item[field].as_str().expect("a text field"))
        .collect()
}

pub fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

pub fn pageview(website: &str, visitor: &str, timestamp: &str, url: &str) -> Value {
    json!({"type": "pageview", "website_id": website, "visitor_id": visitor, "timestamp": timestamp, "url": url})
}

pub fn event(website: &str, visitor: &str, timestamp: &str, name: &str) -> Value {
    json!({"type": "event", "website_id": website, "visitor_id": visitor, "timestamp": timestamp, "name": name})
}

pub async fn error_code(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("errors are JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("an error code")
        .to_string();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.len() > 10),
        "an error says what to do: {body}"
    );
    (status, code)
}

/// The members of a ZIP, in order: (name, bytes).
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().to_string(), content)
        })
        .collect()
}
