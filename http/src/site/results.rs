//! The published results (Đ.8.1): the home page, the feed with its filters (category, ward,
//! period), the map, one result and its public media. Everything is rendered from core's
//! public view only: never a reporter (Đ.4), only attachments approved for publication, and
//! for a report touching state secrets (Đ.8.2) only its category, state and approved answer.

use super::i18n::{state_name, t, Lang};
use super::track::{parse_id, when};
use super::SiteCtx;
use crate::HttpState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use maud::{html, Markup};
use phananh_core::model::MediaKind;
use phananh_core::ports::ReportQuery;
use phananh_core::views::{public_view, PublicReport};
use phananh_core::DomainError;
use serde::Deserialize;
use serde_json::json;

/// Results on one page of the feed.
const PAGE: u32 = 20;
/// Results on the map (the newest).
const MAP_MAX: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    category: String,
    #[serde(default)]
    ward: String,
    /// Days back: 30, 90, 365, or empty for all time.
    #[serde(default)]
    period: String,
    #[serde(default)]
    cursor: String,
}

const PERIODS: [(&str, &str); 4] = [
    ("30", "results.p30"),
    ("90", "results.p90"),
    ("365", "results.p365"),
    ("", "results.pall"),
];

impl Filters {
    /// The store query; unknown values are ignored (a filter never fails a page).
    fn query(&self, s: &HttpState, limit: u32) -> ReportQuery {
        let cfg = &s.app.rules().config;
        let days: Option<i64> = PERIODS
            .iter()
            .find(|(p, _)| !p.is_empty() && *p == self.period)
            .and_then(|(p, _)| p.parse().ok());
        ReportQuery {
            category: cfg.category(&self.category).map(|_| self.category.clone()),
            ward: cfg.ward(&self.ward).map(|_| self.ward.clone()),
            created_from: days.map(|d| s.app.now() - Duration::days(d)),
            cursor: Some(self.cursor.clone()).filter(|c| !c.is_empty() && c.len() <= 200),
            limit,
            ..Default::default()
        }
    }

    /// The filters as a query string (without the cursor).
    fn as_query(&self) -> String {
        let mut q = Vec::new();
        for (k, v) in [
            ("category", &self.category),
            ("ward", &self.ward),
            ("period", &self.period),
        ] {
            if !v.is_empty() {
                q.push(format!("{k}={}", urlencoding::encode(v)));
            }
        }
        q.join("&")
    }
}

/// The public results of a query, and the next page's cursor.
async fn published(
    s: &HttpState,
    q: ReportQuery,
) -> Result<(Vec<PublicReport>, Option<String>), DomainError> {
    let page = s.app.published_results(q).await?;
    let items = page
        .items
        .iter()
        .filter_map(|r| public_view(r, s.app.rules()))
        .collect();
    Ok((items, page.next_cursor))
}

fn media_url(r: &PublicReport, aid: &str) -> String {
    format!("/results/{}/media/{}", r.id, urlencoding::encode(aid))
}

/// One result as a card of the feed.
fn card(s: &HttpState, lang: Lang, r: &PublicReport) -> Markup {
    let rules = s.app.rules();
    let secret = r.title.is_none();
    let photo = r.attachments.iter().find(|a| a.kind == MediaKind::Photo);
    html! {
        article.card.result data-report-id=(r.id) {
            p.meta {
                span.category { (r.category_name) }
                @if let Some(w) = &r.ward_name { " · " (w) }
            }
            @if secret {
                h2 { (r.category_name) }
                p.secret { (t(lang, "results.secret")) }
            } @else {
                h2 { a href=(format!("/results/{}", r.id)) { (r.title.as_deref().unwrap_or("")) } }
            }
            @if let Some(p) = photo {
                img.thumb src=(media_url(r, &p.id)) alt="" loading="lazy" width="120" height="90";
            }
            p.state {
                (state_name(lang, r.state))
                @match r.resolved_on_time {
                    Some(true) => { " · " span.ontime { (t(lang, "results.on_time")) } },
                    Some(false) => { " · " span.late { (t(lang, "results.late")) } },
                    None => {},
                }
                @if let Some(at) = r.published_at { " · " (t(lang, "results.published_at")) " " (when(rules, at)) }
            }
            @if let Some(a) = r.public_answer.as_ref().filter(|_| !secret) {
                p.answer { (a) }
            }
        }
    }
}

/// The filter form (GET, works without JavaScript).
fn filter_form(s: &HttpState, lang: Lang, f: &Filters, action: &str) -> Markup {
    let cfg = &s.app.rules().config;
    let active = !(f.category.is_empty() && f.ward.is_empty() && f.period.is_empty());
    html! {
        details.filters open[active] {
            summary { (t(lang, "results.filter")) }
            form method="get" action=(action) {
            fieldset {
                legend.visually-hidden { (t(lang, "results.filter")) }
                label for="f-category" { (t(lang, "form.category").trim_end_matches(" *")) }
                select #f-category name="category" {
                    option value="" { (t(lang, "results.all_categories")) }
                    @for c in &cfg.categories { option value=(c.code) selected[f.category == c.code] { (c.name) } }
                }
                label for="f-ward" { (t(lang, "form.ward")) }
                select #f-ward name="ward" {
                    option value="" { (t(lang, "results.all_wards")) }
                    @for w in &cfg.wards { option value=(w.id) selected[f.ward == w.id] { (w.name) } }
                }
                label for="f-period" { (t(lang, "results.period")) }
                select #f-period name="period" {
                    @for (p, key) in PERIODS { option value=(p) selected[f.period == p] { (t(lang, key)) } }
                }
                button type="submit" { (t(lang, "results.apply")) }
            }
            }
        }
    }
}

/// GET /: what the site is for, the way to report, the latest results.
pub async fn home(State(s): State<HttpState>, ctx: SiteCtx) -> Response {
    let lang = ctx.lang;
    let items = match published(&s, Filters::default().query(&s, 5)).await {
        Ok((items, _)) => items,
        Err(e) => return ctx.failure(&e),
    };
    let body = html! {
        section.hero {
            h1 { (t(lang, "site.name")) " · " (ctx.city) }
            p { (t(lang, "home.lead")) }
            p { a.button.primary href="/report" { (t(lang, "home.report")) } }
            p { a href="/track" { (t(lang, "nav.track")) } " · " a href="/transparency" { (t(lang, "nav.transparency")) } }
        }
        h2 { (t(lang, "home.recent")) }
        @for r in &items { (card(&s, lang, r)) }
        p { a href="/results" { (t(lang, "home.all_results")) } }
    };
    ctx.page(t(lang, "site.name"), "/", body)
}

/// GET /results: the feed, newest first, with filters and a "more" link.
pub async fn feed(State(s): State<HttpState>, ctx: SiteCtx, Query(f): Query<Filters>) -> Response {
    let lang = ctx.lang;
    let (items, next) = match published(&s, f.query(&s, PAGE)).await {
        Ok(x) => x,
        Err(DomainError::Invalid { .. }) => (Vec::new(), None),
        Err(e) => return ctx.failure(&e),
    };
    let q = f.as_query();
    let body = html! {
        h1 { (t(lang, "results.title")) }
        p.intro { (t(lang, "results.intro")) }
        (filter_form(&s, lang, &f, "/results"))
        p { a href=(format!("/results/map?{q}")) { (t(lang, "results.see_map")) } }
        section #results {
            @if items.is_empty() { p { (t(lang, "results.none")) } }
            @for r in &items { (card(&s, lang, r)) }
        }
        @if let Some(c) = next {
            p { a.button href=(format!("/results?{q}&cursor={}", urlencoding::encode(&c))) { (t(lang, "results.more")) } }
        }
    };
    ctx.page(t(lang, "results.title"), "/results", body)
}

/// GET /results/map: the map of published results (drawn by `site-map.js` from
/// `/results/map.json` with the same filters); the list stays one link away without script.
pub async fn map_page(
    State(s): State<HttpState>,
    ctx: SiteCtx,
    Query(f): Query<Filters>,
) -> Response {
    let lang = ctx.lang;
    let cfg = &s.app.rules().config;
    let q = f.as_query();
    let body = html! {
        h1 { (t(lang, "map.title")) }
        (filter_form(&s, lang, &f, "/results/map"))
        noscript { p { (t(lang, "map.nojs")) } }
        p #map-tiles-note .status hidden { (t(lang, "map.tiles")) }
        div #results-map role="region" aria-label=(t(lang, "map.title"))
            data-reports-url=(format!("/results/map.json?{q}")) data-wards-url="/results/wards.json"
            data-tiles=(cfg.city.map_tile_url) data-attribution=(cfg.city.map_attribution) {}
        p { a href=(format!("/results?{q}")) { (t(lang, "results.list")) } }
    };
    ctx.map_page(t(lang, "map.title"), "/results/map", body)
}

/// GET /results/map.json: the located public results: id, point, title, category, link.
pub async fn map_json(State(s): State<HttpState>, Query(f): Query<Filters>) -> Response {
    let items = match published(&s, f.query(&s, MAP_MAX)).await {
        Ok((items, _)) => items,
        Err(e) => return crate::problem::Problem::from(e).into_response(),
    };
    let points: Vec<_> = items
        .iter()
        .filter_map(|r| {
            let p = r.location?;
            Some(json!({
                "id": r.id, "lat": p.lat, "lon": p.lon,
                "title": r.title, "category": r.category_name,
                "url": format!("/results/{}", r.id),
            }))
        })
        .collect();
    axum::Json(json!({ "items": points })).into_response()
}

/// GET /results/wards.json: the configured wards' boundaries (public city data, the same
/// GeoJSON as the console's map), drawn under the results and on the form's map.
pub async fn wards_json(State(s): State<HttpState>) -> Response {
    let cfg = &s.app.rules().config;
    let body = json!({
        "type": "FeatureCollection",
        "features": cfg.wards.iter().map(crate::console::map::feature).collect::<Vec<_>>(),
    });
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        axum::Json(body),
    )
        .into_response()
}

/// GET /results/{id}: one published result (404 page when not public).
pub async fn detail(State(s): State<HttpState>, ctx: SiteCtx, Path(id): Path<String>) -> Response {
    let lang = ctx.lang;
    let Some(id) = parse_id(&id) else {
        return ctx.not_found();
    };
    let r = match s.app.load(&id).await {
        Ok(r) => r,
        Err(DomainError::NotFound) => return ctx.not_found(),
        Err(e) => return ctx.failure(&e),
    };
    let Some(v) = public_view(&r, s.app.rules()) else {
        return ctx.not_found();
    };
    let rules = s.app.rules();
    let title = v.title.clone().unwrap_or_else(|| v.category_name.clone());
    let body = html! {
        article.result.full data-report-id=(v.id) {
            h1 { (title) }
            dl.facts {
                dt { (t(lang, "track.state")) } dd { (state_name(lang, v.state)) }
                dt { (t(lang, "tr.category")) } dd { (v.category_name) }
                @if let Some(w) = &v.ward_name { dt { (t(lang, "form.ward")) } dd { (w) } }
                @if let Some(u) = &v.unit_name { dt { (t(lang, "track.unit")) } dd { (u) } }
                dt { (t(lang, "track.sent_at")) } dd { (when(rules, v.created_at)) }
                @if let Some(at) = v.published_at { dt { (t(lang, "results.published_at")) } dd { (when(rules, at)) } }
                @if let Some(on) = v.resolved_on_time {
                    dt { (t(lang, "tr.on_time")) }
                    dd { (if on { t(lang, "results.on_time") } else { t(lang, "results.late") }) }
                }
                @if let Some(stars) = v.rating { dt { (t(lang, "results.rating")) } dd { (stars) "/5" } }
            }
            @match &v.description {
                Some(d) => p.description { (d) },
                None => p.secret { (t(lang, "results.secret")) },
            }
            @if let Some(a) = v.public_answer.as_ref().filter(|_| v.title.is_some()) {
                section.answer { h2 { (t(lang, "track.answer")) } p { (a) } }
            }
            @if !v.attachments.is_empty() {
                section.media {
                    h2 { (t(lang, "results.media")) }
                    @for a in &v.attachments {
                        @match a.kind {
                            MediaKind::Photo => img src=(media_url(&v, &a.id)) alt=(title) loading="lazy";,
                            MediaKind::Audio => audio controls preload="none" src=(media_url(&v, &a.id)) {},
                            MediaKind::Video => video controls preload="none" src=(media_url(&v, &a.id)) {},
                            _ => a href=(media_url(&v, &a.id)) { (a.content_type) },
                        }
                    }
                }
            }
            @if let Some(p) = v.location {
                p { a href=(format!("/results/map#{},{}", p.lat, p.lon)) { (t(lang, "results.see_map")) } }
            }
        }
    };
    ctx.page(&title, "/results", body)
}

/// GET /results/{id}/media/{attachment_id}: to a short-lived URL of an approved public file
/// (core refuses anything else: not public, secret, not approved).
pub async fn media(
    State(s): State<HttpState>,
    ctx: SiteCtx,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return ctx.not_found();
    };
    match s.app.attachment_url(&id, &aid, None).await {
        Ok(u) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, u.url),
                (header::CACHE_CONTROL, "private, max-age=300".to_string()),
            ],
        )
            .into_response(),
        Err(DomainError::NotFound) => ctx.not_found(),
        Err(e) => ctx.failure(&e),
    }
}
