//! The map (every staff role): reports as markers, clustered when dense, over the configured
//! wards' boundaries, drawn in the browser with vendored Leaflet and Leaflet.markercluster
//! (`http/assets/vendor/README.md`) by `http/assets/map.js`. The tile server is city
//! configuration (`map_tile_url`, a public server by default); markers and boundaries come
//! from this server as JSON and do not depend on tiles, so the map still works when tiles
//! cannot be loaded (offline, blocked).
//!
//! Reports come from core's `App::list` (which confines units to their own unit) and are
//! rendered only from core's staff view, and only what a marker needs: never the reporter.

use super::assets;
use super::names::{category_name, report_url, state_name};
use super::Ctx;
use crate::problem::Problem;
use crate::HttpState;
use axum::extract::{Query, State as AxState};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::{html, Markup};
use phananh_core::config::WardConfig;
use phananh_core::model::State;
use phananh_core::ports::ReportQuery;
use phananh_core::views::staff_view;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/map", get(map_page))
        .route("/console/map/reports.json", get(reports_json))
        .route("/console/map/wards.json", get(wards_json))
}

const TITLE: &str = "Bản đồ phản ánh";
const NAV: &str = "/console/map";
/// Reports read per page from the store (its maximum).
const PAGE: u32 = 200;
/// At most this many reports on the map (the newest); the search page lists the rest.
pub const MAX_REPORTS: usize = 2_000;
/// Said of the boundaries when the city marks them as not surveyed.
const ILLUSTRATIVE_NOTE: &str =
    "Ranh giới phường, xã chỉ mang tính minh hoạ, không phải dữ liệu đo đạc chính thức.";

/// The vendored files the map page loads, in order (names in `ASSETS`).
const STYLES: [&str; 3] = [
    "leaflet-1.9.4.css",
    "leaflet.markercluster-1.5.3.css",
    "leaflet.markercluster-1.5.3.default.css",
];
const SCRIPTS: [&str; 3] = [
    "leaflet-1.9.4.js",
    "leaflet.markercluster-1.5.3.js",
    "map.js",
];

/// The map library's styles and scripts (vendored, hashed URLs): every page that draws a map
/// (this one, the report page's small map) includes them once.
pub(super) fn library() -> Markup {
    html! {
        @for name in STYLES {
            link rel="stylesheet" href=(assets::url(name));
        }
        @for name in SCRIPTS {
            script src=(assets::url(name)) defer {}
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    state: String,
}

/// How a state is drawn: (CSS class suffix of the marker and legend swatch, legend label).
fn group(s: State) -> &'static str {
    match s {
        State::Submitted | State::Screened => "new",
        State::Referred => "referred",
        State::Assigned | State::InProgress | State::Returned => "working",
        State::Deferred => "deferred",
        State::Resolved | State::Published | State::Closed => "done",
        State::Rejected => "rejected",
    }
}

const LEGEND: [(&str, &str); 6] = [
    ("new", "Mới gửi, đã sàng lọc — chờ giao"),
    ("referred", "Chờ lãnh đạo chỉ đạo"),
    ("working", "Đang xử lý (đã giao, bị trả lại)"),
    ("deferred", "Chưa giải quyết được"),
    ("done", "Đã có kết quả, công khai, đóng"),
    ("rejected", "Từ chối tiếp nhận"),
];

fn bad_state(raw: &str) -> Problem {
    Problem::bad_request(
        "invalid_state",
        "state",
        format!("Trạng thái “{raw}” không tồn tại."),
    )
}

fn parse_state(raw: &str) -> Result<Option<State>, Problem> {
    if raw.is_empty() {
        return Ok(None);
    }
    State::parse(raw).map(Some).ok_or_else(|| bad_state(raw))
}

async fn map_page(ctx: Ctx, AxState(s): AxState<HttpState>, Query(p): Query<Params>) -> Response {
    let cfg = &s.app.rules().config;
    let state = parse_state(&p.state).ok().flatten();
    let reports_url = match state {
        Some(st) => format!("/console/map/reports.json?state={}", st.as_str()),
        None => "/console/map/reports.json".to_string(),
    };
    let illustrative = cfg.wards.iter().any(|w| w.illustrative);
    let body: Markup = html! {
        h1 { (TITLE) }
        form class="filters map-filters" method="get" action=(NAV) {
            div class="field" {
                label for="state" { "Trạng thái" }
                select id="state" name="state" {
                    option value="" { "Tất cả" }
                    @for st in State::ALL {
                        option value=(st.as_str()) selected[state == Some(st)] { (state_name(st)) }
                    }
                }
            }
            div class="field" { button type="submit" { "Lọc" } }
        }
        @if !p.state.is_empty() && state.is_none() {
            p class="error" role="alert" { "Trạng thái “" (p.state) "” không tồn tại; đang hiển thị tất cả." }
        }
        div id="map" role="region" aria-label=(TITLE)
            data-reports-url=(reports_url)
            data-wards-url="/console/map/wards.json"
            data-tiles=(cfg.city.map_tile_url)
            data-attribution=(cfg.city.map_attribution) {
            noscript { p { "Bản đồ cần JavaScript. Danh sách phản ánh ở trang " a href="/console/search" { "Tìm kiếm" } "." } }
        }
        p id="map-tiles-note" class="map-note" role="status" hidden {
            "Không tải được nền bản đồ — vẫn hiển thị phản ánh và ranh giới phường, xã."
        }
        p id="map-status" class="map-status muted" aria-live="polite" {}
        ul class="map-legend" aria-label="Chú giải" {
            @for (g, label) in LEGEND {
                li { span class=(format!("swatch st-{g}")) aria-hidden="true" {} (label) }
            }
            li { span class="swatch ward" aria-hidden="true" {} "Ranh giới phường, xã" }
        }
        @if illustrative {
            p class="muted map-illustrative" { (ILLUSTRATIVE_NOTE) }
        }
        (library())
    };
    ctx.page(TITLE, NAV, body)
}

/// A report as a marker: no reporter, nothing the staff view would not show.
#[derive(Debug, Serialize)]
struct Marker {
    id: String,
    url: String,
    title: String,
    state: &'static str,
    state_name: &'static str,
    group: &'static str,
    category: String,
    overdue: bool,
    lat: f64,
    lon: f64,
}

async fn reports_json(
    ctx: Ctx,
    AxState(s): AxState<HttpState>,
    Query(p): Query<Params>,
) -> Response {
    let state = match parse_state(&p.state) {
        Ok(st) => st,
        Err(e) => return e.into_response(),
    };
    let actor = &ctx.session.actor;
    let rules = s.app.rules();
    let now = s.app.now();
    let mut markers = Vec::new();
    let mut cursor = None;
    let mut truncated = false;
    loop {
        let q = ReportQuery {
            limit: PAGE,
            states: state.into_iter().collect(),
            cursor,
            ..Default::default()
        };
        let page = match s.app.list(actor, q).await {
            Ok(page) => page,
            Err(e) => return Problem::from(e).into_response(),
        };
        for r in &page.items {
            let v = staff_view(r, actor, rules, now);
            let Some(loc) = v.report.location.filter(|l| l.is_valid()) else {
                continue;
            };
            if markers.len() == MAX_REPORTS {
                truncated = true;
                break;
            }
            markers.push(Marker {
                id: v.report.id.as_str().to_string(),
                url: report_url(&v.report.id),
                title: v.report.title.clone(),
                state: v.report.state.as_str(),
                state_name: state_name(v.report.state),
                group: group(v.report.state),
                category: category_name(rules, &v.report.category),
                overdue: v.overdue,
                lat: loc.lat,
                lon: loc.lon,
            });
        }
        match page.next_cursor {
            Some(next) if !truncated => cursor = Some(next),
            _ => break,
        }
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "reports": markers, "truncated": truncated, "max": MAX_REPORTS })),
    )
        .into_response()
}

/// A ward as a GeoJSON feature: its boundary as a closed ring of [lon, lat].
pub(crate) fn feature(w: &WardConfig) -> Value {
    let mut ring: Vec<[f64; 2]> = w.boundary.clone();
    if let (Some(first), Some(last)) = (ring.first().copied(), ring.last().copied()) {
        if first != last {
            ring.push(first);
        }
    }
    json!({
        "type": "Feature",
        "id": w.id,
        "properties": {
            "id": w.id,
            "name": w.name,
            "kind": w.kind,
            "unit": w.unit,
            "illustrative": w.illustrative,
        },
        "geometry": if ring.len() >= 4 {
            json!({ "type": "Polygon", "coordinates": [ring] })
        } else {
            Value::Null
        },
    })
}

async fn wards_json(_ctx: Ctx, AxState(s): AxState<HttpState>) -> Response {
    let cfg = &s.app.rules().config;
    let mut body = json!({
        "type": "FeatureCollection",
        "features": cfg.wards.iter().map(feature).collect::<Vec<_>>(),
    });
    if cfg.wards.iter().any(|w| w.illustrative) {
        body["note"] = Value::String(ILLUSTRATIVE_NOTE.into());
    }
    (
        [(header::CACHE_CONTROL, "private, max-age=300")],
        Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_legend_entry() {
        for s in State::ALL {
            assert!(LEGEND.iter().any(|(g, _)| *g == group(s)), "{s:?}");
        }
    }

    #[test]
    fn a_ward_ring_is_closed() {
        let w = WardConfig {
            id: "a".into(),
            name: "Phường A".into(),
            kind: "phuong".into(),
            unit: "ubnd_a".into(),
            boundary: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]],
            illustrative: true,
        };
        let f = feature(&w);
        let ring = &f["geometry"]["coordinates"][0];
        assert_eq!(ring.as_array().map(Vec::len), Some(4));
        assert_eq!(ring[0], ring[3]);
    }
}
