//! The IOC's pages (Đ.7.1, Đ.7.2): the live queue of new and screened reports, each with its
//! screening flags, the category suggestion and why, the ward and the unit routing proposes;
//! and the form an operator uses to create a report seen on a surveillance camera.
//!
//! The queue's inner HTML is one rendering function, served whole in the page and alone at
//! `/console/ioc/queue`, which the console script polls, so new arrivals appear without reload.

use super::layout::respond;
use super::names::{category_name, report_url, state_name, unit_name, ward_name};
use super::Ctx;
use crate::HttpState;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{GeoPoint, State as RState};
use phananh_core::ports::ReportQuery;
use phananh_core::views::staff_view;
use phananh_core::DomainError;
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/ioc", get(queue_page))
        .route("/console/ioc/queue", get(queue_fragment))
        .route("/console/ioc/camera", get(camera_form).post(camera_submit))
}

/// How many reports the queue shows.
const QUEUE_SIZE: u32 = 100;

/// The inner HTML of `section#queue`: the page and the fragment render the same.
async fn queue(s: &HttpState, ctx: &Ctx) -> Markup {
    let actor = &ctx.session.actor;
    let q = ReportQuery {
        states: vec![RState::Submitted, RState::Screened],
        limit: QUEUE_SIZE,
        ..ReportQuery::default()
    };
    let mut items = match s.app.list(actor, q).await {
        Ok(page) => page.items,
        Err(e) => return html! { p class="error" role="alert" { (e.message_vi()) } },
    };
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let rules = s.app.rules();
    let now = s.app.now();
    html! {
        p class="muted queue-count" { (items.len()) " phản ánh chờ xử lý · cập nhật lúc " (rules.format_local(now)) }
        @if items.is_empty() {
            p class="queue-empty" { "Không có phản ánh mới." }
        }
        div class="cards" {
            @for raw in &items {
                @let v = staff_view(raw, actor, rules, now);
                @let r = &v.report;
                @let proposal = s.app.propose_assignment(r);
                article class="card" data-report-id=(r.id.as_str()) data-state=(r.state.as_str()) {
                    h3 { (r.title) }
                    p class="meta" {
                        span class="badge state" { (state_name(r.state)) }
                        span class="badge" { (category_name(rules, &r.category)) }
                        time datetime=(r.created_at.to_rfc3339()) { (rules.format_local(r.created_at)) }
                        " · "
                        @match &r.ward {
                            Some(w) => span class="ward" { (ward_name(rules, w)) },
                            None => span class="ward muted" { "Chưa xác định phường, xã" },
                        }
                    }
                    @if r.flags.abusive || !r.flags.possible_duplicates.is_empty() || r.flags.state_secret || r.flags.possibly_secret {
                        p class="flags" {
                            @if r.flags.abusive {
                                span class="badge flag" title="Điều 3.1.c" {
                                    "Ngôn từ không phù hợp"
                                    @if !r.flags.abusive_terms.is_empty() { ": " (r.flags.abusive_terms.join(", ")) }
                                }
                            }
                            @if r.flags.state_secret {
                                span class="badge flag" { "Bí mật nhà nước" }
                            }
                            @if r.flags.possibly_secret {
                                span class="badge flag possibly-secret" title="Điều 8.2" { "Có thể bí mật" }
                            }
                            @if !r.flags.possible_duplicates.is_empty() {
                                span class="badge dup" {
                                    "Có thể trùng: "
                                    @for (i, d) in r.flags.possible_duplicates.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a class="dup" href=(report_url(d)) { (d.as_str()) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(sg) = &r.flags.suggestion {
                        p class="suggestion" {
                            "Gợi ý lĩnh vực: " strong { (category_name(rules, &sg.category)) }
                            " (độ tin cậy " (format!("{:.0}", sg.confidence * 100.0)) "%)"
                            @if !sg.matched_terms.is_empty() {
                                " — vì có các từ: " em { (sg.matched_terms.join(", ")) }
                            }
                        }
                    }
                    p class="proposal" {
                        "Đơn vị đề xuất: "
                        strong { (proposal.lead_unit.as_deref().map(|u| unit_name(rules, u)).unwrap_or_else(|| "chưa xác định".into())) }
                        @if !proposal.coordinating_units.is_empty() {
                            " · phối hợp: "
                            (proposal.coordinating_units.iter().map(|u| unit_name(rules, u)).collect::<Vec<_>>().join(", "))
                        }
                        br;
                        span.muted { (proposal.reason) }
                        @if let Some(d) = proposal.due_at {
                            br;
                            span.muted { "Hạn xử lý nếu giao bây giờ: " (rules.format_local(d)) }
                        }
                    }
                    a class="open button" href=(report_url(&r.id)) { "Mở phản ánh" }
                }
            }
        }
    }
}

async fn queue_page(State(s): State<HttpState>, ctx: Ctx) -> Response {
    let inner = queue(&s, &ctx).await;
    let body = html! {
        h1 { "Hàng đợi phản ánh mới" }
        p class="hint" {
            "Phản ánh mới gửi và đã sàng lọc, mới nhất trước. Danh sách tự cập nhật, không cần tải lại trang. "
            a href="/console/ioc/camera" { "Tạo phản ánh từ camera giám sát" }
        }
        section id="queue" data-refresh-url="/console/ioc/queue" aria-live="polite" { (inner) }
    };
    ctx.page("Hàng đợi IOC", "/console/ioc", body)
}

async fn queue_fragment(State(s): State<HttpState>, ctx: Ctx) -> Response {
    let inner = queue(&s, &ctx).await;
    respond(inner, ctx.set_cookie.clone())
}

// ---------------------------------------------------------------------------------------------
// Camera reports (Đ.7.1)

#[derive(Deserialize, Default)]
pub struct CameraForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    #[serde(default)]
    camera_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

fn camera_page(s: &HttpState, ctx: &Ctx, f: &CameraForm, err: Option<&DomainError>) -> Response {
    let rules = s.app.rules();
    let field = match err {
        Some(DomainError::Invalid { field, .. }) => Some(field.as_str()),
        _ => None,
    };
    let msg = err.map(DomainError::message_vi);
    let at = |names: &[&str]| -> Markup {
        html! {
            @if let (Some(f), Some(m)) = (field, msg.as_deref()) {
                @if names.contains(&f) { span class="field-error" role="alert" { (m) } }
            }
        }
    };
    const FIELDS: [&str; 8] = [
        "camera_id",
        "category",
        "title",
        "description",
        "address",
        "location",
        "lat",
        "lon",
    ];
    let general = match (field, msg.as_deref()) {
        (Some(f), _) if FIELDS.contains(&f) => None,
        (_, m) => m,
    };
    let body = html! {
        h1 { "Tạo phản ánh từ camera giám sát" }
        p class="hint" { "Cán bộ trực IOC ghi nhận sự việc phát hiện qua camera (Điều 7.1). Phản ánh được sàng lọc và định tuyến như phản ánh của người dân." }
        form class="camera" method="post" action="/console/ioc/camera" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            @if let Some(m) = general { p class="error" role="alert" { (m) } }
            label for="camera_id" { "Mã camera" }
            input id="camera_id" name="camera_id" value=(f.camera_id) required;
            (at(&["camera_id"]))
            label for="category" { "Lĩnh vực" }
            select id="category" name="category" required {
                option value="" { "— Chọn lĩnh vực —" }
                @for c in &rules.config.categories {
                    option value=(c.code) selected[f.category == c.code] { (c.name) }
                }
            }
            (at(&["category"]))
            label for="title" { "Tiêu đề" }
            input id="title" name="title" value=(f.title) required;
            (at(&["title"]))
            label for="description" { "Mô tả" }
            textarea id="description" name="description" required { (f.description) }
            (at(&["description"]))
            label for="address" { "Địa chỉ " span.muted { "(không bắt buộc)" } }
            input id="address" name="address" value=(f.address);
            (at(&["address"]))
            div class="coords" {
                div {
                    label for="lat" { "Vĩ độ " span.muted { "(không bắt buộc)" } }
                    input id="lat" name="lat" inputmode="decimal" value=(f.lat) placeholder="22.3964";
                    (at(&["lat"]))
                }
                div {
                    label for="lon" { "Kinh độ " span.muted { "(không bắt buộc)" } }
                    input id="lon" name="lon" inputmode="decimal" value=(f.lon) placeholder="103.4582";
                    (at(&["lon"]))
                }
            }
            (at(&["location"]))
            button type="submit" { "Tạo phản ánh" }
        }
    };
    let mut r = ctx.page("Phản ánh từ camera", "/console/ioc", body);
    if err.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn camera_form(State(s): State<HttpState>, ctx: Ctx) -> Response {
    camera_page(&s, &ctx, &CameraForm::default(), None)
}

fn location(f: &CameraForm) -> Result<Option<GeoPoint>, DomainError> {
    GeoPoint::parse_pair(("lat", Some(&f.lat)), ("lon", Some(&f.lon)))
}

async fn camera_submit(
    State(s): State<HttpState>,
    ctx: Ctx,
    Form(f): Form<CameraForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let location = match location(&f) {
        Ok(l) => l,
        Err(e) => return camera_page(&s, &ctx, &f, Some(&e)),
    };
    let address = Some(f.address.trim().to_string()).filter(|a| !a.is_empty());
    let input = NewReport {
        category: f.category.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        location,
        address,
        reporter_ward: None,
        attachments: Vec::new(),
        reporter: None,
        camera_id: Some(f.camera_id.clone()),
    };
    match s.app.submit(&ctx.session.actor, input, &[], None).await {
        Ok((r, _)) => {
            Redirect::to(&format!("{}?done=create_from_camera", report_url(&r.id))).into_response()
        }
        Err(e) => camera_page(&s, &ctx, &f, Some(&e)),
    }
}
