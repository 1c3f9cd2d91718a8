//! The transparency page: for the current month and the last 12 months, reports received,
//! resolved and the on-time rate, per unit and per category. Only core's aggregates
//! ([`phananh_core::app::transparency`], read from the statistics' aggregate rows): no
//! report, no title, no person.

use super::i18n::{t, Lang};
use super::SiteCtx;
use crate::HttpState;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use phananh_core::app::transparency::{Transparency, TransparencyRow};

fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "—".into(),
    }
}

fn table(lang: Lang, caption: &str, first: &str, rows: &[TransparencyRow]) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (first) }
                    th scope="col" .num { (t(lang, "tr.received")) }
                    th scope="col" .num { (t(lang, "tr.resolved")) }
                    th scope="col" .num { (t(lang, "tr.on_time")) }
                    th scope="col" .num { (t(lang, "tr.rate")) }
                } }
                tbody {
                    @for r in rows {
                        tr data-code=(r.code) {
                            th scope="row" { (r.name) }
                            td.num { (r.received) }
                            td.num { (r.resolved) }
                            td.num { (r.on_time) }
                            td.num { (percent(r.on_time_rate)) }
                        }
                    }
                }
            }
        }
    }
}

/// `YYYY-MM` as the page shows it: `MM/YYYY`.
fn month_label(m: &str) -> String {
    match m.split_once('-') {
        Some((y, mm)) => format!("{mm}/{y}"),
        None => m.to_string(),
    }
}

fn period(lang: Lang, title: &str, id: &str, x: &Transparency) -> Markup {
    html! {
        section.period id=(id) {
            h2 { (title) }
            dl.totals {
                div { dt { (t(lang, "tr.received")) } dd { (x.received) } }
                div { dt { (t(lang, "tr.resolved")) } dd { (x.resolved) } }
                div { dt { (t(lang, "tr.rate")) } dd.rate { (percent(x.on_time_rate)) } }
            }
            @if x.from_month == x.to_month {
                p.months { (t(lang, "tr.month")) " " (month_label(&x.to_month)) }
            } @else {
                p.months { (t(lang, "tr.months")) " " (month_label(&x.from_month)) " – " (month_label(&x.to_month)) }
            }
            (table(lang, t(lang, "tr.by_unit"), t(lang, "tr.unit"), &x.by_unit))
            (table(lang, t(lang, "tr.by_category"), t(lang, "tr.category"), &x.by_category))
        }
    }
}

/// GET /transparency
pub async fn page(State(s): State<HttpState>, ctx: SiteCtx) -> Response {
    let lang = ctx.lang;
    let month = match s.app.transparency(1).await {
        Ok(x) => x,
        Err(e) => return ctx.failure(&e),
    };
    let year = match s.app.transparency(12).await {
        Ok(x) => x,
        Err(e) => return ctx.failure(&e),
    };
    let body = html! {
        h1 { (t(lang, "tr.title")) }
        p.intro { (t(lang, "tr.intro")) }
        (period(lang, t(lang, "tr.this_month"), "this-month", &month))
        (period(lang, t(lang, "tr.last12"), "last-12-months", &year))
    };
    ctx.page(t(lang, "tr.title"), "/transparency", body)
}
