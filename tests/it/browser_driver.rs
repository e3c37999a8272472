//! A real browser for the end-to-end test: Debian's chromium, headless, driven through
//! chromedriver (W3C WebDriver) with the fantoccini client. The dashboard is served on a real
//! loopback port by the test itself.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use gongkai::store::Store;
use gongkai::web::{WebConfig, build};

/// Where chromium and chromedriver are (Debian's packages; `./test` and `.ci/run` install them).
fn program(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_string())
}

/// How long a step may take to show its result before the test gives up.
const WAIT: Duration = Duration::from_secs(90);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Screenshots land here, one PNG per page visited, for people to look at after a run.
pub(crate) fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("GONGKAI_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/screenshots"));
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    dir
}

/// Serves the dashboard for `store` on a free loopback port; returns its base URL.
pub(crate) async fn serve(store: Store) -> String {
    let port = free_port();
    let config = WebConfig { port, ..WebConfig::default() };
    let rocket = build(store, config).await.expect("rocket");
    tokio::spawn(async move {
        if let Err(error) = rocket.launch().await {
            eprintln!("dashboard stopped: {error}");
        }
    });
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return format!("http://127.0.0.1:{port}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the dashboard did not start listening on port {port}");
}

/// A headless chromium session; chromedriver is stopped when this is dropped.
pub(crate) struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    pub base: String,
}

impl Browser {
    pub(crate) async fn start(base: &str) -> Browser {
        let chromium = program("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("CHROMEDRIVER", "chromedriver");
        assert!(
            std::path::Path::new(&chromium).exists(),
            "{chromium} is missing: install Debian's chromium and chromium-driver (./test does it)"
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver} ({e}): install chromium-driver"));
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        };
        // Both of rustls' crypto providers are linked in; the WebDriver client needs one chosen.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::rustls() {
                Ok(mut builder) => match builder.capabilities(capabilities.clone()).connect(&url).await {
                    Ok(client) => {
                        return Browser { client, driver, _profile: profile, base: base.to_string() };
                    }
                    Err(error) => last_error = error.to_string(),
                },
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a chromium session through chromedriver: {last_error}");
    }

    pub(crate) async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigate");
    }

    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_string()
    }

    /// Waits until the browser is on `path` after a click that navigates; a click returns
    /// before the next page has loaded. Fails with the page's text if it never gets there.
    pub(crate) async fn wait_for_path(&self, path: &str) {
        self.wait_for(&format!("the path {path}"), |current, _| current == path).await;
    }

    /// Waits until `done(path, text)` holds for the page shown, and returns its text. The bound
    /// ([`WAIT`]) is generous because CI runs this beside every other test on two cores, where
    /// a notice's PDF alone can take seconds; a page that never gets there fails with its text.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&str, &str) -> bool) -> String {
        let until = tokio::time::Instant::now() + WAIT;
        loop {
            // Mid-navigation the body read may be of the page being left ("stale element"):
            // that is "not yet", like a page that does not show the result yet.
            let (path, text) = (self.path().await, self.try_text().await.unwrap_or_default());
            if done(&path, &text) {
                return text;
            }
            if tokio::time::Instant::now() >= until {
                panic!("waited {} s for {what}; the browser shows {path}:\n{text}", WAIT.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the page's text contains `needle`; returns the text.
    pub(crate) async fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("the text {needle:?}"), |_, text| text.contains(needle)).await
    }

    /// The visible text of the page body.
    pub(crate) async fn text(&self) -> String {
        self.client.find(Locator::Css("body")).await.expect("body").text().await.expect("text")
    }

    /// The visible text of the page body, or the WebDriver error (a page still loading).
    pub(crate) async fn try_text(&self) -> Result<String, fantoccini::error::CmdError> {
        self.client.find(Locator::Css("body")).await?.text().await
    }

    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.ok();
        field.send_keys(value).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// Chooses the `<option>` whose value is `value` in a `<select>`.
    pub(crate) async fn select(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.select_by_value(value).await.unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Signs in through the login form (after signing out of any session).
    pub(crate) async fn login(&self, username: &str, password: &str) {
        self.client.delete_all_cookies().await.expect("cookies");
        self.open("/login").await;
        self.fill("input[name=username]", username).await;
        self.fill("input[name=password]", password).await;
        self.click("form[action='/login'] button[type=submit]").await;
        self.wait_for(&format!("{username} to sign in"), |path, _| path != "/login").await;
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(artifacts_dir().join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub(crate) async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
