//! The shell of every site page: the language, a skip link, the header with the city's name,
//! the navigation and the language switch, the footer's word on personal data (Đ.4), and the
//! console's security headers (no inline scripts, no framing). Mobile-first CSS, one small
//! script; the map library only on pages that draw a map.

use super::i18n::{t, Lang};
use super::SiteCtx;
use crate::console::assets;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup, DOCTYPE};

/// The navigation: (path, text key).
const NAV: [(&str, &str); 5] = [
    ("/report", "nav.report"),
    ("/track", "nav.track"),
    ("/results", "nav.results"),
    ("/results/map", "nav.map"),
    ("/transparency", "nav.transparency"),
];

/// The vendored map library (shared with the console) and the site's map script.
pub const MAP_LIBRARY: [&str; 6] = [
    "leaflet-1.9.4.css",
    "leaflet.markercluster-1.5.3.css",
    "leaflet.markercluster-1.5.3.default.css",
    "leaflet-1.9.4.js",
    "leaflet.markercluster-1.5.3.js",
    "site-map.js",
];

/// The same path in the other language (other query parameters kept).
fn switch_href(ctx: &SiteCtx) -> String {
    let other = ctx.lang.other().code();
    if ctx.query.is_empty() {
        format!("{}?lang={other}", ctx.path)
    } else {
        format!("{}?{}&lang={other}", ctx.path, ctx.query)
    }
}

pub fn page(ctx: &SiteCtx, title: &str, current: &str, extra: &[&str], body: Markup) -> Markup {
    let lang = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="description" content=(t(lang, "site.tagline"));
                title { (title) " — " (t(lang, "site.name")) " · " (ctx.city) }
                link rel="stylesheet" href=(assets::url("site.css"));
                @for name in extra.iter().filter(|n| n.ends_with(".css")) {
                    link rel="stylesheet" href=(assets::url(name));
                }
                script src=(assets::url("site.js")) defer {}
                @for name in extra.iter().filter(|n| n.ends_with(".js")) {
                    script src=(assets::url(name)) defer {}
                }
            }
            body data-lang=(lang.code()) {
                a.skip href="#main" { (t(lang, "skip")) }
                header.site {
                    div.bar {
                        a.brand href="/" {
                            span.name { (t(lang, "site.name")) }
                            span.city { (ctx.city) }
                        }
                        a.lang href=(switch_href(ctx)) lang=(lang.other().code()) hreflang=(lang.other().code()) {
                            (t(lang, "lang.switch"))
                        }
                    }
                    nav aria-label=(t(lang, "nav.main")) {
                        @for (path, key) in NAV {
                            @if current == path {
                                a href=(path) aria-current="page" { (t(lang, key)) }
                            } @else {
                                a href=(path) { (t(lang, key)) }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
                footer.site {
                    p { (t(lang, "footer.privacy")) }
                }
            }
        }
    }
}

/// The friendly "not found" body.
pub fn not_found_body(lang: Lang) -> Markup {
    html! {
        section.notfound {
            h1 { (t(lang, "nf.title")) }
            p { (t(lang, "nf.text")) }
            p { a.button href="/" { (t(lang, "nf.home")) } }
        }
    }
}

/// A 404 page without a request context (Vietnamese, no cookies): for callers outside the
/// site's handlers.
pub fn not_found_page() -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t(Lang::Vi, "nf.title")) }
                link rel="stylesheet" href=(assets::url("site.css"));
            }
            body { main id="main" { (not_found_body(Lang::Vi)) } }
        }
    };
    status(respond(body, Vec::new()), StatusCode::NOT_FOUND)
}

pub fn respond(markup: Markup, cookies: Vec<HeaderValue>) -> Response {
    crate::console::layout::respond(markup, cookies)
}

pub fn status(mut r: Response, code: StatusCode) -> Response {
    *r.status_mut() = code;
    r
}
