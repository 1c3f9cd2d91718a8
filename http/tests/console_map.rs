//! The map page, in process through the router: it needs a session, loads the vendored map
//! library by hashed URL (served for a year, immutable), the wards come as GeoJSON from the
//! city configuration, reports as markers without the reporter, and units see only their
//! unit's reports.

mod common;

use axum::http::{header, StatusCode};
use axum::response::Response;
use common::{text, world};
use phananh_core::model::{Actor, GeoPoint, Report, Role};
use phananh_testkit::fixtures::{self, at, rules};
use serde_json::Value;

async fn json(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK);
    serde_json::from_str(&text(res).await).expect("JSON")
}

fn located(id: &str, minutes: i64, lat: f64, lon: f64) -> Report {
    let mut r = fixtures::report(id, at(minutes));
    r.location = Some(GeoPoint { lat, lon });
    r
}

fn ioc() -> Actor {
    Actor::new("ioc-op-1", Role::IocOperator, None)
}

/// The report ids of a reports.json answer.
fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["reports"]
        .as_array()
        .expect("a reports array")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_map_needs_a_session() {
    let w = world();
    for uri in [
        "/console/map",
        "/console/map/reports.json",
        "/console/map/wards.json",
    ] {
        let res = w.get(None, uri).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
        let to = res.headers()[header::LOCATION].to_str().expect("ascii");
        assert!(to.starts_with("/console/login?next="), "{uri} → {to}");
    }
    // A citizen's token is no staff session either.
    let citizen = Actor::new("citizen-1", Role::Citizen, None);
    let res = w.get(&citizen, "/console/map/reports.json").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_page_loads_the_vendored_library_by_hashed_url_cached_for_a_year() {
    let w = world();
    let res = w.get(&ioc(), "/console/map").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(csp.contains("script-src 'self';"));
    let page = text(res).await;
    assert!(page.contains("id=\"map\""));
    assert!(page.contains("data-reports-url=\"/console/map/reports.json\""));
    assert!(page.contains("data-wards-url=\"/console/map/wards.json\""));
    // The configured tile server (the public default here) and its attribution.
    let cfg = &rules().config.city;
    assert!(page.contains(&format!("data-tiles=\"{}\"", cfg.map_tile_url)));
    assert!(page.contains("data-attribution=\""));
    assert!(page.contains("Không tải được nền bản đồ"));
    assert!(page.contains("class=\"map-legend\""));
    // No inline script, no style attribute.
    assert!(!page.contains("<script>"));
    assert!(!page.contains(" style="));

    for name in [
        "leaflet-1.9.4.js",
        "leaflet-1.9.4.css",
        "leaflet.markercluster-1.5.3.js",
        "leaflet.markercluster-1.5.3.css",
        "leaflet.markercluster-1.5.3.default.css",
        "map.js",
    ] {
        let url = page
            .split('"')
            .find(|s| s.starts_with("/console/assets/") && s.ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("{name} referenced by hashed URL"))
            .to_string();
        let hash = url["/console/assets/".len()..]
            .split('/')
            .next()
            .expect("a hash");
        assert_eq!(hash.len(), 12, "{url}");
        if name.ends_with(".js") {
            assert!(
                page.contains(&format!("<script src=\"{url}\" defer>")),
                "{url}"
            );
        } else {
            assert!(
                page.contains(&format!("<link rel=\"stylesheet\" href=\"{url}\">")),
                "{url}"
            );
        }
        let res = w.get(None, &url).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let ct = res.headers()[header::CONTENT_TYPE].to_str().expect("ascii");
        assert!(
            ct.starts_with(if name.ends_with(".js") {
                "text/javascript"
            } else {
                "text/css"
            }),
            "{name}: {ct}"
        );
        let body = text(res).await;
        assert!(!body.is_empty());
        if name.starts_with("leaflet-") && name.ends_with(".js") {
            assert!(body.contains("Leaflet 1.9.4"));
        }
        // Another hash is not found: no stale copies.
        let stale = url.replace(hash, "000000000000");
        assert_eq!(w.get(None, &stale).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn wards_are_geojson_of_the_seven_configured_wards_and_communes() {
    let w = world();
    let v = json(w.get(&ioc(), "/console/map/wards.json").await).await;
    assert_eq!(v["type"], "FeatureCollection");
    let features = v["features"].as_array().expect("features");
    let mut names: Vec<&str> = features
        .iter()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Phường Quyết Thắng",
            "Phường Quyết Tiến",
            "Phường Tân Phong",
            "Phường Đoàn Kết",
            "Phường Đông Phong",
            "Xã Nậm Loỏng",
            "Xã San Thàng",
        ]
    );
    for f in features {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["geometry"]["type"], "Polygon");
        let ring = f["geometry"]["coordinates"][0].as_array().expect("a ring");
        assert!(ring.len() >= 4, "a closed ring has at least four positions");
        assert_eq!(ring.first(), ring.last(), "the ring is closed");
        for p in ring {
            let (lon, lat) = (p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat"));
            // [lon, lat] around Lai Châu.
            assert!(
                (103.0..104.0).contains(&lon) && (22.0..23.0).contains(&lat),
                "{p}"
            );
        }
        assert_eq!(f["id"], f["properties"]["id"]);
    }
    // The shipped boundaries are illustrative, and the answer says so.
    assert!(v["note"].as_str().is_some_and(|n| n.contains("minh hoạ")));
}

#[tokio::test]
async fn reports_are_markers_with_a_location_and_no_reporter() {
    let w = world();
    w.store(&located("r-located", -30, 22.396, 103.458)).await;
    let mut unlocated = fixtures::report("r-nowhere", at(-20));
    unlocated.location = None;
    w.store(&unlocated).await;

    let res = w.get(&ioc(), "/console/map/reports.json").await;
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let v = json(res).await;
    assert_eq!(ids(&v), vec!["r-located"]);
    let m = &v["reports"][0];
    assert_eq!(m["state"], "submitted");
    assert_eq!(m["url"], "/console/reports/r-located");
    assert_eq!(m["title"], "Rác thải ùn ứ");
    assert_eq!(m["lat"], 22.396);
    assert_eq!(m["lon"], 103.458);
    assert!(m["category"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(v["truncated"], false);
    // Only what a marker needs: nothing of the reporter, even masked.
    let raw = v.to_string();
    for leak in [
        "reporter",
        "Nguyễn",
        "0912345678",
        "citizen",
        "description",
        "address",
    ] {
        assert!(!raw.contains(leak), "{leak} in {raw}");
    }

    // The state filter.
    let v = json(
        w.get(&ioc(), "/console/map/reports.json?state=assigned")
            .await,
    )
    .await;
    assert!(ids(&v).is_empty());
    let v = json(
        w.get(&ioc(), "/console/map/reports.json?state=submitted")
            .await,
    )
    .await;
    assert_eq!(ids(&v), vec!["r-located"]);
    let res = w.get(&ioc(), "/console/map/reports.json?state=bogus").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_unit_gets_only_its_units_reports() {
    let w = world();
    let due = at(60 * 24 * 5);
    let ours = fixtures::assigned(
        located("r-ours", -40, 22.395, 103.457),
        "ubnd_tan_phong",
        &[],
        due,
    );
    let coordinated = fixtures::assigned(
        located("r-coordinated", -35, 22.398, 103.462),
        "phong_tnmt",
        &["ubnd_tan_phong"],
        due,
    );
    let theirs = fixtures::assigned(
        located("r-theirs", -30, 22.401, 103.465),
        "phong_tnmt",
        &[],
        due,
    );
    let unassigned = located("r-unassigned", -20, 22.399, 103.459);
    for r in [&ours, &coordinated, &theirs, &unassigned] {
        w.store(r).await;
    }

    let unit = Actor::new("unit-1", Role::UnitStaff, Some("ubnd_tan_phong"));
    let v = json(w.get(&unit, "/console/map/reports.json").await).await;
    assert_eq!(ids(&v), vec!["r-coordinated", "r-ours"]);
    assert!(!v.to_string().contains("reporter"));

    let v = json(w.get(&ioc(), "/console/map/reports.json").await).await;
    assert_eq!(
        ids(&v),
        vec!["r-coordinated", "r-ours", "r-theirs", "r-unassigned"]
    );

    // The page itself is open to every staff role.
    let res = w.get(&unit, "/console/map").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn reports_are_read_page_by_page() {
    let w = world();
    for i in 0..230 {
        let lat = 22.38 + f64::from(i) * 0.0001;
        w.store(&located(&format!("r-{i:03}"), i64::from(i), lat, 103.46))
            .await;
    }
    let v = json(w.get(&ioc(), "/console/map/reports.json").await).await;
    assert_eq!(ids(&v).len(), 230, "more than one page of 200");
    assert_eq!(v["truncated"], false);
}
