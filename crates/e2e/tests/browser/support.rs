//! A headless Chromium driven over WebDriver (`thirtyfour`), pointed at the shop's gateway: find
//! elements by CSS, wait for what the page should show (every wait has a generous deadline; a
//! deadline passing fails the test with what was last seen), screenshots, and the page's console
//! errors, which every test checks at the end.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use shop_e2e::{Shop, Shopper};
use thirtyfour::prelude::*;

/// How long a page may take to show what a test waits for: the suite runs a whole shop and a
/// browser on two cores, so this is generous on purpose; timings are never what a test asserts.
const PATIENCE: Duration = Duration::from_secs(45);
const POLL: Duration = Duration::from_millis(100);

/// The browser tests share the machine with the rest of the suite: one browser at a time.
pub static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A browser session on the shop's gateway.
pub struct Browser {
    driver: WebDriver,
    base: String,
    chromedriver: String,
}

impl Browser {
    /// A new headless Chromium through `$CHROMEDRIVER_URL` (`scripts/test.sh` starts one).
    pub async fn open(shop: &Shop) -> Self {
        let chromedriver = std::env::var("CHROMEDRIVER_URL").unwrap_or_else(|_| {
            panic!("CHROMEDRIVER_URL is not set: run the browser tests with scripts/test.sh")
        });
        let mut caps = DesiredCapabilities::chrome();
        for arg in [
            "--headless=new",
            // The tests run as root in CI, where Chromium's sandbox cannot start.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,900",
            "--no-first-run",
        ] {
            must(caps.add_arg(arg), "a Chromium argument");
        }
        if std::path::Path::new("/usr/bin/chromium").exists() {
            must(caps.set_binary("/usr/bin/chromium"), "the Chromium binary");
        }
        must(
            caps.set_base_capability("goog:loggingPrefs", json!({"browser": "ALL"})),
            "logging preferences",
        );
        let driver = must(
            WebDriver::new(chromedriver.as_str(), caps).await,
            "starting Chromium",
        );
        Self {
            driver,
            base: shop.gateway.address.clone(),
            chromedriver,
        }
    }

    /// Reloads the page (a new page load: scripts start again).
    pub async fn reload(&self) {
        must(self.driver.refresh().await, "reloading");
    }

    pub async fn goto(&self, path: &str) {
        must(self.driver.goto(format!("{}{path}", self.base)).await, path);
    }

    /// The first element matching `css`, once there is one.
    pub async fn find(&self, css: &str) -> WebElement {
        self.eventually(&format!("an element {css}"), || async {
            self.driver.find(By::Css(css)).await.ok()
        })
        .await
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        must(element.scroll_into_view().await, css);
        must(element.click().await, css);
    }

    /// Two clicks in a row, as a person's double click.
    pub async fn double_click(&self, css: &str) {
        let element = self.find(css).await;
        must(element.scroll_into_view().await, css);
        must(
            self.driver
                .action_chain()
                .double_click_element(&element)
                .perform()
                .await,
            css,
        );
    }

    /// Opens a tab and switches to it; returns the tab the browser was on.
    pub async fn new_tab(&self) -> WindowHandle {
        let current = must(self.driver.window().await, "the current tab");
        let tab = must(self.driver.new_tab().await, "a new tab");
        must(self.driver.switch_to_window(tab).await, "the new tab");
        current
    }

    pub async fn switch_to(&self, tab: WindowHandle) {
        must(self.driver.switch_to_window(tab).await, "switching tabs");
    }

    /// Signs `shopper` in the way the storefront does at login: its token in localStorage.
    pub async fn sign_in_as(&self, shopper: &Shopper, name: &str) {
        self.goto("/").await;
        self.script(
            "localStorage.setItem('shop.token', arguments[0]); \
             localStorage.setItem('shop.user', JSON.stringify({userId: arguments[1], email: arguments[2], name: arguments[3]}));",
            vec![json!(shopper.token), json!(shopper.user_id), json!(shopper.email), json!(name)],
        )
        .await;
        self.reload().await;
    }

    /// Opens `path` as a new page load, so the page reads the cart and session afresh.
    pub async fn load(&self, path: &str) {
        self.goto(path).await;
        self.reload().await;
    }

    /// The storefront's session token, as the page keeps it.
    pub async fn token(&self) -> String {
        self.script("return localStorage.getItem('shop.token');", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        must(element.clear().await, css);
        must(element.send_keys(text).await, css);
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.script(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
             s.dispatchEvent(new Event('change'));",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        self.eventually(&format!("{css} containing {needle:?}"), || async {
            let text = self
                .driver
                .find(By::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            text.contains(needle).then_some(text)
        })
        .await
    }

    /// Waits until an element matches `css` (an attribute selector says what it must show).
    pub async fn wait_for(&self, css: &str) -> WebElement {
        self.find(css).await
    }

    /// Runs `script` in the page; returns its value.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        must(self.driver.execute(script, args).await, script)
            .json()
            .clone()
    }

    /// Saves a PNG of the viewport as `target/ui-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/ui-screenshots"
        ));
        must(std::fs::create_dir_all(&dir), "the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        must(self.driver.screenshot(&path).await, "a screenshot");
        path
    }

    /// Saves the whole page, not only the viewport: the window grows to the page's height for the
    /// shot, then returns to its size.
    pub async fn screenshot_page(&self, name: &str) -> PathBuf {
        let height = self
            .script("return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(900);
        let height = u32::try_from(height.clamp(600, 4000)).unwrap_or(900);
        self.resize(1280, height + 90).await;
        let path = self.screenshot(name).await;
        self.resize(1280, 900).await;
        path
    }

    /// Sets the window's size (a phone's width, say).
    pub async fn resize(&self, width: u32, height: u32) {
        must(
            self.driver.set_window_rect(0, 0, width, height).await,
            "resizing the window",
        );
    }

    /// The page's console messages at level SEVERE since the last call (chromedriver's log),
    /// except the browser's own notes of HTTP answers that were errors: the pages ask for those
    /// (a 401, a 409 out of stock, a 503 while a service is down) and show them as messages.
    pub async fn console_errors(&self) -> Vec<String> {
        let url = format!(
            "{}/session/{}/se/log",
            self.chromedriver,
            self.driver.session_id()
        );
        let answer: Value = must(
            must(
                reqwest::Client::new()
                    .post(url)
                    .json(&json!({"type": "browser"}))
                    .send()
                    .await,
                "reading the browser log",
            )
            .json()
            .await,
            "the browser log",
        );
        answer["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter(|entry| {
                !entry["message"].as_str().is_some_and(|m| {
                    m.contains("Failed to load resource: the server responded with a status of")
                })
            })
            .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
            .collect()
    }

    /// Asserts the page logged no error, then ends the browser.
    pub async fn close(self) {
        let errors = self.console_errors().await;
        let _ = self.driver.quit().await;
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }

    /// Polls `probe` until it gives a value, for at most `PATIENCE`.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.driver.current_url().await.map(|u| u.to_string());
                let _ = self.screenshot("failure").await;
                panic!(
                    "waited {PATIENCE:?} for {what} (page {url:?}; screenshot target/ui-screenshots/failure.png)"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn must<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("{what}: {error}"))
}
