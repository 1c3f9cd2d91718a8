//! Search (every staff role): filters by state, category, ward, unit, overdue, creation date
//! range (local days) and free text that ignores diacritics and case, paged with the store's
//! cursor. Results come from core's `App::list` (which confines units to their own unit) and
//! are rendered only from core's staff view; each links to its report page.

use super::common::read_error;
use super::names::{category_name, local_time, report_url, state_name, unit_name, ward_name};
use super::Ctx;
use crate::HttpState;
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use phananh_core::city::CityRules;
use phananh_core::model::{Role, State};
use phananh_core::ports::ReportQuery;
use phananh_core::views::staff_view;
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new().route("/console/search", get(search_page))
}

const TITLE: &str = "Tìm kiếm phản ánh";
const NAV: &str = "/console/search";
/// Results per page.
const PAGE: u32 = 50;

/// The form's fields as typed (kept on errors and in the next-page link).
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

impl Params {
    fn overdue(&self) -> bool {
        matches!(self.overdue.as_str(), "1" | "on" | "true")
    }

    /// The query string of these filters (without the cursor).
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("state", &self.state),
            ("category", &self.category),
            ("ward", &self.ward),
            ("unit", &self.unit),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", urlencoding::encode(v.trim())));
            }
        }
        if self.overdue() {
            parts.push("overdue=1".into());
        }
        parts.join("&")
    }
}

/// A field the person must correct, with the Vietnamese message shown next to it.
#[derive(Debug)]
struct FieldError {
    field: &'static str,
    message: String,
}

fn parse_day(raw: &str) -> Result<Option<NaiveDate>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

/// The core query of the form, or the field to correct.
fn to_query(p: &Params, rules: &CityRules, now: DateTime<Utc>) -> Result<ReportQuery, FieldError> {
    let mut q = ReportQuery {
        limit: PAGE,
        ..Default::default()
    };
    if !p.state.is_empty() {
        q.states = vec![State::parse(&p.state).ok_or(FieldError {
            field: "state",
            message: format!("Trạng thái “{}” không tồn tại.", p.state),
        })?];
    }
    let cfg = &rules.config;
    if !p.category.is_empty() {
        if cfg.category(&p.category).is_none() {
            return Err(FieldError {
                field: "category",
                message: format!("Lĩnh vực “{}” không tồn tại.", p.category),
            });
        }
        q.category = Some(p.category.clone());
    }
    if !p.ward.is_empty() {
        if cfg.ward(&p.ward).is_none() {
            return Err(FieldError {
                field: "ward",
                message: format!("Phường, xã “{}” không tồn tại.", p.ward),
            });
        }
        q.ward = Some(p.ward.clone());
    }
    if !p.unit.is_empty() {
        if cfg.unit(&p.unit).is_none() {
            return Err(FieldError {
                field: "unit",
                message: format!("Đơn vị “{}” không tồn tại.", p.unit),
            });
        }
        q.unit = Some(p.unit.clone());
    }
    if p.overdue() {
        q.overdue_at = Some(now);
    }
    let bad_day = |field| FieldError {
        field,
        message: "Ngày không hợp lệ (định dạng năm-tháng-ngày).".into(),
    };
    let from = parse_day(&p.from).map_err(|_| bad_day("from"))?;
    let to = parse_day(&p.to).map_err(|_| bad_day("to"))?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(FieldError {
                field: "to",
                message: "“Đến ngày” phải từ “Từ ngày” trở đi.".into(),
            });
        }
    }
    q.created_from = from.and_then(|d| rules.local_day_start(d));
    // Up to the end of the local day `to`.
    q.created_to = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| rules.local_day_start(d));
    let text = p.q.trim();
    if text.chars().count() > 200 {
        return Err(FieldError {
            field: "q",
            message: "Nội dung tìm kiếm tối đa 200 ký tự.".into(),
        });
    }
    if !text.is_empty() {
        q.text = Some(text.to_string());
    }
    if !p.cursor.is_empty() {
        q.cursor = Some(p.cursor.clone());
    }
    Ok(q)
}

fn field_error(err: Option<&FieldError>, field: &str) -> Markup {
    html! {
        @if let Some(e) = err.filter(|e| e.field == field) {
            span class="field-error" role="alert" id=(format!("{field}-error")) { (e.message) }
        }
    }
}

fn form(p: &Params, rules: &CityRules, role: Role, err: Option<&FieldError>) -> Markup {
    let cfg = &rules.config;
    let unit_bound = matches!(role, Role::UnitStaff | Role::UnitHead);
    html! {
        form class="filters search-form" method="get" action=(NAV) role="search" {
            div class="field field-q" {
                label for="q" { "Nội dung" }
                input type="search" id="q" name="q" value=(p.q)
                    placeholder="Ví dụ: o ga tran phu" autocomplete="off";
                (field_error(err, "q"))
            }
            div class="field" {
                label for="state" { "Trạng thái" }
                select id="state" name="state" {
                    option value="" { "Tất cả" }
                    @for s in State::ALL {
                        option value=(s.as_str()) selected[p.state == s.as_str()] { (state_name(s)) }
                    }
                }
                (field_error(err, "state"))
            }
            div class="field" {
                label for="category" { "Lĩnh vực" }
                select id="category" name="category" {
                    option value="" { "Tất cả" }
                    @for c in &cfg.categories {
                        option value=(c.code) selected[p.category == c.code] { (category_name(rules, &c.code)) }
                    }
                }
                (field_error(err, "category"))
            }
            div class="field" {
                label for="ward" { "Phường, xã" }
                select id="ward" name="ward" {
                    option value="" { "Tất cả" }
                    @for w in &cfg.wards {
                        option value=(w.id) selected[p.ward == w.id] { (w.name) }
                    }
                }
                (field_error(err, "ward"))
            }
            // Units only ever see their own unit (core enforces it): no choice to offer.
            @if !unit_bound {
                div class="field" {
                    label for="unit" { "Đơn vị xử lý" }
                    select id="unit" name="unit" {
                        option value="" { "Tất cả" }
                        @for u in &cfg.units {
                            option value=(u.id) selected[p.unit == u.id] { (u.name) }
                        }
                    }
                    (field_error(err, "unit"))
                }
            }
            div class="field" {
                label for="from" { "Từ ngày" }
                input type="date" id="from" name="from" value=(p.from);
                (field_error(err, "from"))
            }
            div class="field" {
                label for="to" { "Đến ngày" }
                input type="date" id="to" name="to" value=(p.to);
                (field_error(err, "to"))
            }
            div class="field field-check" {
                label {
                    input type="checkbox" name="overdue" value="1" checked[p.overdue()];
                    " Chỉ phản ánh quá hạn"
                }
            }
            div class="field field-submit" {
                button type="submit" { "Tìm kiếm" }
                " "
                a href=(NAV) { "Xoá bộ lọc" }
            }
        }
    }
}

async fn search_page(
    ctx: Ctx,
    AxState(s): AxState<HttpState>,
    Query(p): Query<Params>,
) -> Response {
    let actor = &ctx.session.actor;
    let rules = s.app.rules();
    let now = s.app.now();
    let q = match to_query(&p, rules, now) {
        Ok(q) => q,
        Err(e) => {
            let body = html! {
                h1 { (TITLE) }
                (form(&p, rules, actor.role, Some(&e)))
            };
            let mut r = ctx.page(TITLE, NAV, body);
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return r;
        }
    };
    let page = match s.app.list(actor, q).await {
        Ok(page) => page,
        Err(e) => return read_error(&ctx, TITLE, NAV, &e),
    };
    let next = page.next_cursor.as_ref().map(|c| {
        let qs = p.query_string();
        let sep = if qs.is_empty() { "" } else { "&" };
        format!("{NAV}?{qs}{sep}cursor={}", urlencoding::encode(c))
    });
    let body = html! {
        h1 { (TITLE) }
        (form(&p, rules, actor.role, None))
        section id="results" class="search-results" aria-live="polite" {
            @if page.items.is_empty() {
                p class="muted empty" { "Không tìm thấy phản ánh nào phù hợp." }
            } @else {
                p class="muted result-count" {
                    (page.items.len()) " phản ánh"
                    @if next.is_some() { " (còn trang sau)" }
                }
                ol class="results" {
                    @for raw in &page.items {
                        @let v = staff_view(raw, actor, rules, now);
                        @let r = &v.report;
                        li {
                            article class="card" data-report-id=(r.id.as_str()) {
                                h2 {
                                    a class="open" href=(report_url(&r.id)) { (r.title) }
                                }
                                p class="meta" {
                                    span class="badge state" { (state_name(r.state)) }
                                    " "
                                    span class="badge" { (category_name(rules, &r.category)) }
                                    @if let Some(w) = &r.ward {
                                        " " span class="badge ward" { (ward_name(rules, w)) }
                                    }
                                    @if v.overdue {
                                        " " span class="badge time-over" { "Quá hạn" }
                                    }
                                }
                                p class="muted" {
                                    "Tiếp nhận " (local_time(rules, r.created_at))
                                    @if let Some(a) = &r.assignment {
                                        " · chủ trì: " (unit_name(rules, &a.lead_unit))
                                    }
                                }
                                @if let Some(addr) = &r.address {
                                    p class="address" { (addr) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(href) = &next {
                nav class="pager" aria-label="Trang" {
                    a class="next" rel="next" href=(href) { "Trang sau →" }
                }
            }
        }
    };
    ctx.page(TITLE, NAV, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phananh_testkit::fixtures::rules;

    #[test]
    fn local_days_are_city_midnights() {
        let p = Params {
            from: "2026-03-01".into(),
            to: "2026-03-01".into(),
            ..Default::default()
        };
        let q = to_query(&p, rules(), Utc::now()).unwrap();
        // Asia/Ho_Chi_Minh is UTC+7: the local day 1 March is 17:00 28 Feb .. 17:00 1 March UTC.
        assert_eq!(
            q.created_from.unwrap().to_rfc3339(),
            "2026-02-28T17:00:00+00:00"
        );
        assert_eq!(
            q.created_to.unwrap().to_rfc3339(),
            "2026-03-01T17:00:00+00:00"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let p = Params {
            from: "01/03/2026".into(),
            ..Default::default()
        };
        assert_eq!(to_query(&p, rules(), Utc::now()).unwrap_err().field, "from");
        let p = Params {
            from: "2026-03-02".into(),
            to: "2026-03-01".into(),
            ..Default::default()
        };
        assert_eq!(to_query(&p, rules(), Utc::now()).unwrap_err().field, "to");
        let p = Params {
            state: "nope".into(),
            ..Default::default()
        };
        assert_eq!(
            to_query(&p, rules(), Utc::now()).unwrap_err().field,
            "state"
        );
    }
}
