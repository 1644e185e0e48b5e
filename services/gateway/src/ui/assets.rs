//! The embedded files of the UI (`services/gateway/ui/`), with their content types and digests.
//! `include_str!` rather than an embedding crate: a dozen files, known at compile time, need no
//! directory walk, and a missing file is a compile error.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One file of the UI.
#[derive(Debug)]
pub struct Asset {
    /// The path under `/ui/` (pages are served at `/` and `/ops` instead).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

impl Asset {
    /// A strong validator of the bytes: the first 16 bytes of their SHA-256, quoted.
    pub fn etag(&self) -> &'static str {
        ETAGS
            .iter()
            .find(|(path, _)| *path == self.path)
            .map_or("\"\"", |(_, etag)| etag.as_str())
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_str!(concat!("../../ui/", $path)),
        }
    };
}

/// Every file the UI is made of.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("ops.html", HTML),
    asset!("app.css", CSS),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/api.js", JS),
    asset!("js/sse.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/store.js", JS),
    asset!("js/store-views.js", JS),
    asset!("js/account-views.js", JS),
    asset!("js/ops.js", JS),
    asset!("js/ops-views.js", JS),
    asset!("js/chart.js", JS),
];

static ETAGS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            (asset.path, format!("\"{hex}\""))
        })
        .collect()
});

/// A page by its file name.
pub fn page(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == name)
}

/// A file under `/ui/`: scripts and styles only (the pages have their own paths).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .iter()
        .find(|asset| asset.path == path && !asset.path.ends_with(".html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_etag_and_pages_are_not_served_as_files() {
        let mut etags: Vec<&str> = ASSETS.iter().map(Asset::etag).collect();
        etags.sort_unstable();
        etags.dedup();
        assert_eq!(etags.len(), ASSETS.len());
        assert!(find("index.html").is_none());
        assert!(find("js/api.js").is_some());
        assert!(find("../Cargo.toml").is_none());
    }

    #[test]
    fn pages_load_only_same_origin_modules() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            assert!(!asset.body.contains("http://"), "{}", asset.path);
            assert!(!asset.body.contains("https://"), "{}", asset.path);
            assert!(
                !asset.body.contains("style="),
                "{} has inline style",
                asset.path
            );
            assert!(
                !asset.body.contains("<script>"),
                "{} has inline script",
                asset.path
            );
        }
    }
}
