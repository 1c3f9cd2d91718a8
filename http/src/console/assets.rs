//! The console's static files (its own CSS and script, and vendored libraries with their
//! licences), embedded in the binary and served under a content hash, so a browser may keep
//! them for a year and still never runs a stale copy. No build step: what is in `http/assets/`
//! is what is served.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

struct Asset {
    name: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

macro_rules! assets {
    ($($name:literal => $ct:literal),+ $(,)?) => {
        &[$(Asset { name: $name, bytes: include_bytes!(concat!("../../assets/", $name)), content_type: $ct }),+]
    };
}

/// Every file served; add a vendored library here with its licence file beside it.
const ASSETS: &[Asset] = assets! {
    "console.css" => "text/css; charset=utf-8",
    "console.js" => "text/javascript; charset=utf-8",
    // The map (`map.rs`): Leaflet 1.9.4 and Leaflet.markercluster 1.5.3, vendored as published
    // on npm (flat names: the route takes one path segment); licences and provenance in
    // `vendor/` (README.md there).
    "map.js" => "text/javascript; charset=utf-8",
    "leaflet-1.9.4.js" => "text/javascript; charset=utf-8",
    "leaflet-1.9.4.css" => "text/css; charset=utf-8",
    "leaflet.markercluster-1.5.3.js" => "text/javascript; charset=utf-8",
    "leaflet.markercluster-1.5.3.css" => "text/css; charset=utf-8",
    "leaflet.markercluster-1.5.3.default.css" => "text/css; charset=utf-8",
    // The public site (`crate::site`): its own style and scripts; its map reuses Leaflet.
    "site.css" => "text/css; charset=utf-8",
    "site.js" => "text/javascript; charset=utf-8",
    "site-map.js" => "text/javascript; charset=utf-8",
};

/// name → (hash, asset)
fn index() -> &'static HashMap<&'static str, (String, &'static Asset)> {
    static INDEX: OnceLock<HashMap<&'static str, (String, &'static Asset)>> = OnceLock::new();
    INDEX.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| (a.name, (hex::encode(&Sha256::digest(a.bytes)[..6]), a)))
            .collect()
    })
}

/// The URL of an asset, with its content hash (`/console/assets/<hash>/<name>`).
pub fn url(name: &str) -> String {
    match index().get(name) {
        Some((hash, _)) => format!("/console/assets/{hash}/{name}"),
        None => format!("/console/assets/missing/{name}"),
    }
}

/// Serves an asset; a hash that is not the current one is not found (no stale copies).
pub async fn serve(Path((hash, name)): Path<(String, String)>) -> Response {
    match index().get(name.as_str()) {
        Some((h, a)) if *h == hash => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_the_content_hash() {
        let u = url("console.js");
        let (_, hash_and_name) = u.split_at("/console/assets/".len());
        let (hash, name) = hash_and_name.split_once('/').unwrap();
        assert_eq!(name, "console.js");
        assert_eq!(hash.len(), 12);
        assert_eq!(index()["console.js"].0, hash);
    }
}
