//! A real headless Chromium for the dashboard's end-to-end tests: Debian's `chromium` driven
//! through `chromedriver` (WebDriver) on a free loopback port, with a fresh profile each time.
//! `scripts/services/browser.sh` installs both; a test fails, naming it, when they are absent.
//!
//! Full-page screenshots of each page at 1280 and 390 px go to `$CARGO_TARGET_DIR/screenshots/` (else
//! the temp directory); the path is printed.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub struct Chrome {
    pub client: Client,
    driver: Child,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn screenshot_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Chrome {
    pub async fn start() -> Chrome {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that a failing test can end chromedriver and the
            // browser it started together (see Drop).
            .process_group(0)
            .spawn()
            .expect("chromedriver is not installed: run scripts/services/browser.sh");
        let url = format!("http://127.0.0.1:{port}");
        // Wait for chromedriver to listen (a readiness poll, not a fixed sleep).
        let mut ready = false;
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not start listening on {url}");
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--hide-scrollbars".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("chromedriver starts a headless chromium session");
        let shots = screenshot_dir();
        println!("screenshots: {}", shots.display());
        Chrome {
            client,
            driver,
            shots,
            _profile: profile,
        }
    }

    /// Saves the page as `{name}-1280.png` and `{name}-390.png`.
    pub async fn shoot(&self, name: &str) {
        for (width, height) in [(390, 844), (1280, 900)] {
            self.client.set_window_size(width, height).await.unwrap();
            // The whole page, not only the first screen: grow the window to the document.
            let measure = |script: &'static str| async move {
                let v = self.client.execute(script, vec![]).await.unwrap();
                u32::try_from(v.as_u64().unwrap_or(0)).unwrap_or(0)
            };
            let page = measure("return document.documentElement.scrollHeight").await;
            // The window is taller than the page's viewport by the browser's own frame.
            let frame = height.saturating_sub(measure("return window.innerHeight").await);
            let full = (page + frame).clamp(height, 4000);
            self.client.set_window_size(width, full).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            let path = self.shots.join(format!("{name}-{width}.png"));
            std::fs::write(&path, png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    /// The text of the first `css` element that contains `needle`. After a click the old page
    /// may still be there for a moment, with an element of the same id (a notice from the
    /// step before): waiting for the words, and looking again when the page changes under
    /// the search, is what tells the new page from the old.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                for element in found {
                    if let Ok(text) = element.text().await
                        && text.contains(needle)
                    {
                        return text;
                    }
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no `{css}` saying `{needle}` on the page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first string `script` returns in the page, polled until the page's own scripts
    /// (which run on their own time in the browser) have produced one.
    pub async fn wait_for_script_value(&self, script: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(serde_json::Value::String(found)) = self.client.execute(script, vec![]).await
            {
                return found;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "`{script}` gave no string"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Clicks what submits a form or follows a link and returns once the next page replaced
    /// this one (the old page's root went stale): what is read next is the new page's.
    pub async fn click_to_load(&self, css: &str) {
        let old = self.wait_for("html").await;
        self.click(css).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while old.tag_name().await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "clicking `{css}` loaded no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends the browser session (chromedriver closes chromium), then chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // After a failed assertion the session was never closed: end the whole group this
        // test started (chromedriver and its chromium), nothing else.
        if let Ok(None) = self.driver.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.driver.id())])
                .status();
            let _ = self.driver.wait();
        }
    }
}
