//! The report page every staff member works on: details, location, media, the hash-chained
//! timeline (directives shown as signed, immutable entries), the time left or overdue, and one
//! form per action the signed-in person may take now (`lifecycle::available_actions`).
//!
//! Rendered ONLY from `views::staff_view` (units never see the reporter; the IOC, office and
//! leadership see them masked until an audited reveal). Actions are turned into core's
//! `Command` JSON and taken through `App::act_json`: core checks every rule again.

use super::layout::role_name;
use super::names::{action_label, category_name, report_url, state_name, unit_name, ward_name};
use super::Ctx;
use crate::HttpState;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use phananh_core::app::Proposal;
use phananh_core::lifecycle::available_actions;
use phananh_core::model::{
    Action, Attachment, MediaKind, Report, ReportId, Reporter, Role, Source, TimelineEntry,
};
use phananh_core::views::{staff_view, StaffView};
use phananh_core::{CityRules, DomainError};
use serde::Deserialize;
use serde_json::{Map, Value};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/reports/{id}", get(show))
        .route("/console/reports/{id}/actions", post(act))
        .route(
            "/console/reports/{id}/attachments/{attachment_id}",
            get(attachment),
        )
}

// ---------------------------------------------------------------------------------------------
// Names shared by the console's report renderings (also used by the IOC queue).

fn action_by_name(name: &str) -> Option<Action> {
    phananh_core::lifecycle::REPORT_ACTIONS
        .into_iter()
        .chain([Action::CreateFromCamera])
        .find(|a| a.as_str() == name)
}

/// Minutes as "3 giờ 20 phút".
fn duration_vi(minutes: i64) -> String {
    let m = minutes.abs();
    match (m / 60, m % 60) {
        (0, m) => format!("{m} phút"),
        (h, 0) => format!("{h} giờ"),
        (h, m) => format!("{h} giờ {m} phút"),
    }
}

fn attachment_href(id: &ReportId, attachment_id: &str) -> String {
    format!(
        "/console/reports/{}/attachments/{}",
        urlencoding::encode(id.as_str()),
        urlencoding::encode(attachment_id)
    )
}

// ---------------------------------------------------------------------------------------------
// What was typed in a form that core refused, kept to show it again with the message.

#[derive(Default)]
struct Typed {
    action: String,
    values: Vec<(String, String)>,
    /// The field the message belongs to (None: the whole form).
    field: Option<String>,
    message: Option<String>,
}

/// The typed values and error of one form (empty for the other forms).
struct FormState<'a> {
    typed: Option<&'a Typed>,
}

impl FormState<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        self.typed?
            .values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn values(&self, name: &str) -> Vec<&str> {
        self.typed
            .map(|t| {
                t.values
                    .iter()
                    .filter(|(k, _)| k == name)
                    .flat_map(|(_, v)| v.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn typed_any(&self) -> bool {
        self.typed.is_some()
    }

    /// The message for `names` (a field and its aliases in core's messages).
    fn error(&self, names: &[&str]) -> Option<&str> {
        let t = self.typed?;
        let f = t.field.as_deref()?;
        names.contains(&f).then_some(t.message.as_deref()).flatten()
    }

    /// The message that belongs to no field of the form.
    fn general(&self, fields: &[&str]) -> Option<&str> {
        let t = self.typed?;
        match t.field.as_deref() {
            Some(f) if fields.contains(&f) => None,
            _ => t.message.as_deref(),
        }
    }
}

fn field_error(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg {
            span class="field-error" role="alert" { (m) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    done: Option<String>,
}

#[derive(Default)]
struct Extra {
    done: Option<String>,
    typed: Option<Typed>,
    /// Someone acted meanwhile: show the notice and the current state.
    changed: bool,
    /// The reporter's identity just revealed (audited), shown once.
    revealed: Option<Option<Reporter>>,
}

async fn show(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let extra = Extra {
        done: q.done,
        ..Extra::default()
    };
    render(&s, &ctx, &ReportId(id), extra, StatusCode::OK).await
}

/// A short-lived URL of an attachment the person may see.
async fn attachment(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Response {
    match s
        .app
        .attachment_url(&ReportId(id), &attachment_id, Some(&ctx.session.actor))
        .await
    {
        Ok(url) => Redirect::to(&url.url).into_response(),
        Err(e) => error_page(&ctx, &e),
    }
}

/// Turns the form into core's command JSON and takes the action through core.
async fn act(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let sent = fields
        .iter()
        .find(|(k, _)| k == super::csrf::CSRF_FIELD)
        .map(|(_, v)| v.as_str());
    if let Err(r) = ctx.check_csrf(sent) {
        return r;
    }
    let id = ReportId(id);
    let actor = &ctx.session.actor;
    let action = fields
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let values: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != super::csrf::CSRF_FIELD && k != "action")
        .cloned()
        .collect();

    if action == Action::RevealReporter.as_str() {
        let reason = values
            .iter()
            .find(|(k, _)| k == "reason")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        return match s.app.reveal_reporter(&id, actor, reason).await {
            Ok(reporter) => {
                let extra = Extra {
                    done: Some(action),
                    revealed: Some(reporter),
                    ..Extra::default()
                };
                render(&s, &ctx, &id, extra, StatusCode::OK).await
            }
            Err(e) => refused(&s, &ctx, &id, action, values, e).await,
        };
    }

    let body = match to_command(&action, &values) {
        Ok(b) => b,
        Err(e) => return refused(&s, &ctx, &id, action, values, e).await,
    };
    match s.app.act_json(&id, actor, body).await {
        Ok(_) => {
            let to = format!("{}?done={}", report_url(&id), urlencoding::encode(&action));
            Redirect::to(&to).into_response()
        }
        Err(e) => refused(&s, &ctx, &id, action, values, e).await,
    }
}

/// The page again after core refused an action: the message by its field and what was typed,
/// or, when someone acted meanwhile, the notice and the current state.
async fn refused(
    s: &HttpState,
    ctx: &Ctx,
    id: &ReportId,
    action: String,
    values: Vec<(String, String)>,
    e: DomainError,
) -> Response {
    match e {
        DomainError::Conflict | DomainError::InvalidState { .. } => {
            let extra = Extra {
                changed: true,
                ..Extra::default()
            };
            render(s, ctx, id, extra, StatusCode::CONFLICT).await
        }
        DomainError::NotFound => error_page(ctx, &e),
        e => {
            let status = match &e {
                DomainError::Forbidden { .. } | DomainError::OutOfUnitScope { .. } => {
                    StatusCode::FORBIDDEN
                }
                DomainError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let field = match &e {
                DomainError::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            };
            let typed = Typed {
                action,
                values,
                field,
                message: Some(e.message_vi()),
            };
            let extra = Extra {
                typed: Some(typed),
                ..Extra::default()
            };
            render(s, ctx, id, extra, status).await
        }
    }
}

fn error_page(ctx: &Ctx, e: &DomainError) -> Response {
    let status = match e {
        DomainError::NotFound => StatusCode::NOT_FOUND,
        DomainError::Forbidden { .. } | DomainError::OutOfUnitScope { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = html! {
        h1 { "Phản ánh" }
        p.error role="alert" { (e.message_vi()) }
        p { a href=(super::layout::home_of(ctx.session.actor.role)) { "Về trang làm việc" } }
    };
    let mut r = ctx.page("Phản ánh", "", body);
    *r.status_mut() = status;
    r
}

// ---------------------------------------------------------------------------------------------
// Form → command JSON

/// List fields of core's commands: comma-separated ids or repeated fields → arrays.
const LIST_FIELDS: [&str; 4] = [
    "coordinating_units",
    "evidence",
    "attachments",
    "public_attachments",
];

/// Fields a command may leave out: empty → absent. Other empty fields are sent empty, so core
/// answers with its own message for the field ("không được để trống").
fn optional_field(action: &str, field: &str) -> bool {
    matches!(
        (action, field),
        (
            "assign" | "accept" | "resume" | "reclassify" | "close",
            "note"
        ) | (_, "suggested_category")
            | (_, "comment")
    )
}

/// The form's fields as core's `Command` JSON: comma lists → arrays, empty optional fields →
/// absent, `stars` a number. Rules are core's: only the shape is made here.
fn to_command(action: &str, values: &[(String, String)]) -> Result<Value, DomainError> {
    if action.is_empty() {
        return Err(DomainError::invalid("action", "chưa chọn thao tác"));
    }
    let mut m = Map::new();
    m.insert("action".into(), Value::String(action.to_string()));
    for (k, v) in values {
        if LIST_FIELDS.contains(&k.as_str()) {
            let entry = m
                .entry(k.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_string())),
                );
            }
            continue;
        }
        if v.trim().is_empty() && optional_field(action, k) {
            continue;
        }
        match k.as_str() {
            "stars" => {
                let n: u8 = v
                    .trim()
                    .parse()
                    .map_err(|_| DomainError::invalid("stars", "phải là một số từ 1 đến 5"))?;
                m.insert(k.clone(), Value::from(n));
            }
            "expected_date" => {
                let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                    DomainError::invalid(
                        "expected_date",
                        "cần chọn một ngày hợp lệ (năm-tháng-ngày)",
                    )
                })?;
                m.insert(k.clone(), Value::String(d.format("%Y-%m-%d").to_string()));
            }
            _ => {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------------------------
// The page

async fn render(
    s: &HttpState,
    ctx: &Ctx,
    id: &ReportId,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let actor = &ctx.session.actor;
    let raw = match s.app.get_for(id, actor).await {
        Ok(r) => r,
        Err(e) => return error_page(ctx, &e),
    };
    let rules = s.app.rules();
    let now = s.app.now();
    // From here on only what staff may see: the raw report is not used again.
    let v = staff_view(&raw, actor, rules, now);
    drop(raw);
    let r = &v.report;
    let actions = available_actions(r, actor);
    let proposal = actions
        .contains(&Action::Assign)
        .then(|| s.app.propose_assignment(r));
    let body = html! {
        @if extra.changed {
            p class="notice" role="alert" {
                "Phản ánh vừa được cập nhật bởi người khác — đây là trạng thái hiện tại: "
                strong { (state_name(r.state)) }
            }
        }
        @if let Some(done) = extra.done.as_deref() {
            p class="done" role="status" {
                "Đã thực hiện: "
                (action_by_name(done).map(action_label).unwrap_or("thao tác"))
                "."
            }
        }
        article class="report" data-report-id=(r.id.as_str()) data-state=(r.state.as_str()) {
            (details(&v, rules, now))
            @if let Some(revealed) = &extra.revealed {
                (revealed_block(revealed.as_ref()))
            }
            (location(r, rules))
            (media(r))
            (timeline(r, rules))
            section class="actions" {
                h2 { "Thao tác" }
                @if actions.is_empty() {
                    p.muted { "Bạn không có thao tác nào trên phản ánh này ở trạng thái hiện tại." }
                }
                @for a in &actions {
                    @let typed = extra.typed.as_ref().filter(|t| t.action == a.as_str());
                    (action_form(&v, *a, proposal.as_ref(), FormState { typed }, &ctx.csrf, rules))
                }
                @if let Some(t) = extra.typed.as_ref().filter(|t| !actions.iter().any(|a| a.as_str() == t.action)) {
                    @if let Some(m) = &t.message {
                        p class="error" role="alert" { (m) }
                    }
                }
            }
        }
    };
    let mut resp = ctx.page(&r.title, "", body);
    *resp.status_mut() = status;
    resp
}

fn details(v: &StaffView, rules: &CityRules, now: DateTime<Utc>) -> Markup {
    let r = &v.report;
    html! {
        header class="report-head" {
            h1 { (r.title) }
            p {
                span class="badge state" { (state_name(r.state)) }
                span class="badge" { (category_name(rules, &r.category)) }
                @if r.flags.abusive {
                    span class="badge flag" { "Có ngôn từ không phù hợp" }
                }
                @if r.flags.state_secret {
                    span class="badge flag" { "Bí mật nhà nước" }
                }
            }
        }
        (deadline(v, rules, now))
        section class="details" {
            h2 { "Nội dung" }
            p class="description" { (r.description) }
            dl {
                dt { "Mã phản ánh" } dd { code { (r.id.as_str()) } }
                dt { "Thời điểm gửi" } dd { (rules.format_local(r.created_at)) }
                dt { "Nguồn" }
                dd {
                    @match &r.source {
                        Source::App => "Ứng dụng của người dân",
                        Source::Camera { camera_id } => { "Camera giám sát " code { (camera_id) } }
                    }
                }
                @if r.reported_category != r.category {
                    dt { "Lĩnh vực người phản ánh chọn" }
                    dd { (category_name(rules, &r.reported_category)) }
                }
                @if let Some(w) = &r.ward {
                    dt { "Phường, xã" } dd { (ward_name(rules, w)) }
                }
                @if let Some(addr) = &r.address {
                    dt { "Địa chỉ" } dd { (addr) }
                }
                @if let Some(rep) = &r.reporter {
                    dt { "Người phản ánh" }
                    dd class="reporter-masked" {
                        (rep.name.as_deref().unwrap_or("(không nêu tên)"))
                        @if let Some(p) = &rep.phone { " · " (p) }
                        @if let Some(e) = &rep.email { " · " (e) }
                        " "
                        span.muted { "(đã che; xem đầy đủ cần nêu lý do và được ghi nhật ký)" }
                    }
                }
                @if let Some(a) = &r.assignment {
                    dt { "Đơn vị chủ trì" } dd { (unit_name(rules, &a.lead_unit)) }
                    @if !a.coordinating_units.is_empty() {
                        dt { "Đơn vị phối hợp" }
                        dd {
                            @for (i, u) in a.coordinating_units.iter().enumerate() {
                                @if i > 0 { ", " }
                                (unit_name(rules, u))
                            }
                        }
                    }
                    dt { "Giao lúc" } dd { (rules.format_local(a.assigned_at)) }
                }
                @if let Some(d) = &r.deferral {
                    dt { "Chưa giải quyết được" }
                    dd { (d.reason) " — dự kiến " (d.expected_date.format("%d/%m/%Y")) }
                }
                @if let Some(res) = &r.resolution {
                    dt { "Kết quả xử lý" }
                    dd {
                        (res.summary) " — " (unit_name(rules, &res.unit)) ", "
                        (rules.format_local(res.resolved_at))
                        @if res.on_time { " (đúng hạn)" } @else { " (quá hạn)" }
                    }
                }
                @if let Some(ans) = &r.public_answer {
                    dt { "Trả lời công khai" } dd { (ans) }
                }
                @if let Some(rt) = &r.rating {
                    dt { "Đánh giá của người dân" }
                    dd { (rt.stars) "/5" @if let Some(c) = &rt.comment { " — " (c) } }
                }
            }
        }
    }
}

/// Time left or overdue, coloured by the share of the deadline used.
fn deadline(v: &StaffView, rules: &CityRules, now: DateTime<Utc>) -> Markup {
    let r = &v.report;
    let Some(a) = &r.assignment else {
        return html! {};
    };
    let due = rules.format_local(a.due_at);
    if !r.state.unit_clock_running() {
        return html! {
            p class="deadline" { "Hạn xử lý: " (due) }
        };
    }
    let remaining = v.remaining_minutes;
    let class = if v.overdue || remaining.is_some_and(|m| m < 0) {
        "time-over"
    } else {
        let total = f64::from(a.deadline_minutes.max(1));
        let used = 1.0 - remaining.map(|m| m as f64).unwrap_or(total) / total;
        if used < 0.5 {
            "time-ok"
        } else if used < 0.75 {
            "time-warn"
        } else {
            "time-late"
        }
    };
    html! {
        p class={ "deadline card " (class) } {
            @if class == "time-over" {
                strong { "Quá hạn" }
                @if let Some(m) = remaining.filter(|m| *m < 0) { " " (duration_vi(m)) }
                " — hạn xử lý " (due)
            } @else {
                "Còn " strong { (remaining.map(duration_vi).unwrap_or_default()) }
                " — hạn xử lý " (due)
            }
            " (bây giờ " (rules.format_local(now)) ")"
        }
    }
}

fn revealed_block(reporter: Option<&Reporter>) -> Markup {
    html! {
        section class="revealed" role="status" {
            h2 { "Thông tin người phản ánh (đã ghi nhật ký)" }
            @match reporter {
                Some(rep) => {
                    dl {
                        dt { "Họ tên" } dd { (rep.name.as_deref().unwrap_or("(không nêu)")) }
                        dt { "Điện thoại" } dd { (rep.phone.as_deref().unwrap_or("(không nêu)")) }
                        dt { "Thư điện tử" } dd { (rep.email.as_deref().unwrap_or("(không nêu)")) }
                    }
                    p.muted { "Thông tin chỉ hiển thị một lần trên trang này." }
                }
                None => p { "Phản ánh này không có thông tin người phản ánh (ví dụ: tạo từ camera)." }
            }
        }
    }
}

fn location(r: &Report, rules: &CityRules) -> Markup {
    html! {
        section class="location" {
            h2 { "Vị trí" }
            @if let Some(p) = r.location {
                @let (lat, lon) = (format!("{:.6}", p.lat), format!("{:.6}", p.lon));
                div class="minimap" data-lat=(lat) data-lon=(lon)
                    data-tiles=(rules.config.city.map_tile_url)
                    data-attribution=(rules.config.city.map_attribution)
                    data-wards-url="/console/map/wards.json" {
                    span.muted { (lat) ", " (lon) }
                }
                (super::map::library())
                p {
                    "Tọa độ: " (lat) ", " (lon) " · "
                    a href=(format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}")) rel="noopener noreferrer" target="_blank" {
                        "Mở bản đồ"
                    }
                }
            } @else {
                p.muted { "Không có tọa độ." }
            }
        }
    }
}

fn media_item(id: &ReportId, a: &Attachment) -> Markup {
    let href = attachment_href(id, &a.id);
    html! {
        figure class="media-item" data-attachment-id=(a.id) {
            @match a.kind {
                MediaKind::Photo => {
                    a href=(href) { img src=(href) alt="Ảnh đính kèm" loading="lazy"; }
                }
                MediaKind::Audio => { audio controls preload="none" src=(href) {} }
                MediaKind::Video => { video controls preload="none" src=(href) {} }
                MediaKind::Document => { a href=(href) { "Tài liệu (" (a.content_type) ")" } }
            }
            figcaption.muted {
                (a.id)
                @if a.public { " · công khai" }
            }
        }
    }
}

fn media(r: &Report) -> Markup {
    html! {
        section class="media" {
            h2 { "Hình ảnh, âm thanh, video" }
            @if r.attachments.is_empty() {
                p.muted { "Không có tệp đính kèm." }
            } @else {
                div class="media-grid" {
                    @for a in &r.attachments { (media_item(&r.id, a)) }
                }
            }
        }
    }
}

fn entry_actor(e: &TimelineEntry, rules: &CityRules) -> Markup {
    html! {
        span class="who" {
            (role_name(e.role))
            @if let Some(u) = &e.unit { " · " (unit_name(rules, u)) }
            // A citizen's id is personal data: only staff accounts are named.
            @if e.role != Role::Citizen && e.role != Role::System { " (" (e.actor_id) ")" }
        }
    }
}

fn timeline(r: &Report, rules: &CityRules) -> Markup {
    let intact = r.verify_timeline();
    html! {
        section class="history" {
            h2 { "Diễn biến xử lý" }
            @match intact {
                Ok(()) => p.muted { "Nhật ký liên kết bằng mã băm: toàn vẹn, không thể sửa." },
                Err(seq) => p.error role="alert" { "Cảnh báo: nhật ký bị thay đổi từ mục " (seq) "." },
            }
            ol class="timeline" {
                @for e in &r.timeline {
                    li class=[(e.action == Action::Directive).then_some("directive")] data-action=(e.action.as_str()) {
                        time datetime=(e.at.to_rfc3339()) { (rules.format_local(e.at)) }
                        " — " strong { (action_label(e.action)) } " — " (entry_actor(e, rules))
                        @if let Some(from) = e.from_state.filter(|f| *f != e.to_state) {
                            " " span.muted { "(" (state_name(from)) " → " (state_name(e.to_state)) ")" }
                        }
                        @if let Some(lead) = e.data.get("lead_unit").and_then(Value::as_str) {
                            div { "Giao cho: " (unit_name(rules, lead))
                                @if let Some(due) = e.data.get("due_at").and_then(Value::as_str).and_then(|d| d.parse::<DateTime<Utc>>().ok()) {
                                    ", hạn " (rules.format_local(due))
                                }
                            }
                        }
                        @if let Some(note) = &e.note {
                            @if e.action == Action::Directive {
                                blockquote class="directive-text" { (note) }
                            } @else {
                                div class="note" { (note) }
                            }
                        }
                        @if !e.attachments.is_empty() {
                            div {
                                "Tệp: "
                                @for (i, a) in e.attachments.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(attachment_href(&r.id, a)) { (a) }
                                }
                            }
                        }
                        @if e.action == Action::Directive {
                            div class="signature" {
                                "Chỉ đạo đã ký, không thể sửa đổi · mã băm "
                                code class="hash" { (e.hash) }
                                " · nối tiếp " code class="hash" { (e.prev_hash.get(..16).unwrap_or(&e.prev_hash)) "…" }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Action forms

/// The fields each form shows (messages for other fields go on top of the form).
fn form_fields(a: Action) -> &'static [&'static str] {
    match a {
        Action::Assign | Action::Reassign => &["lead_unit", "coordinating_units", "note"],
        Action::Refer
        | Action::Accept
        | Action::Resume
        | Action::Urge
        | Action::MarkSecret
        | Action::Close
        | Action::AddNote => &["note"],
        Action::Progress => &["note", "attachments"],
        Action::Reject | Action::RevealReporter => &["reason"],
        Action::Reclassify => &["category", "note"],
        Action::Resolve => &["summary", "evidence", "attachments"],
        Action::Defer => &["reason", "expected_date"],
        Action::Return => &["reason", "suggested_category"],
        Action::Publish => &["public_answer", "public_attachments"],
        Action::Directive => &["text"],
        _ => &[],
    }
}

fn textarea(
    a: Action,
    name: &str,
    label: &str,
    f: &FormState,
    initial: Option<&str>,
    required: bool,
) -> Markup {
    let id = format!("{}-{name}", a.as_str());
    let value = f.value(name).or(if f.typed_any() { None } else { initial });
    html! {
        label for=(id) { (label) @if !required { " " span.muted { "(không bắt buộc)" } } }
        textarea id=(id) name=(name) required[required] { (value.unwrap_or_default()) }
        (field_error(f.error(&[name])))
    }
}

fn unit_selects(
    a: Action,
    rules: &CityRules,
    f: &FormState,
    lead: Option<&str>,
    coordinating: &[String],
) -> Markup {
    let lead_id = format!("{}-lead_unit", a.as_str());
    let coord_id = format!("{}-coordinating_units", a.as_str());
    let chosen_lead = f.value("lead_unit").or(lead);
    let chosen_coord: Vec<String> = if f.typed_any() {
        f.values("coordinating_units")
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        coordinating.to_vec()
    };
    html! {
        label for=(lead_id) { "Đơn vị chủ trì" }
        select id=(lead_id) name="lead_unit" required {
            option value="" { "— Chọn đơn vị —" }
            @for u in &rules.config.units {
                option value=(u.id) selected[chosen_lead == Some(u.id.as_str())] { (u.name) }
            }
        }
        (field_error(f.error(&["lead_unit"])))
        label for=(coord_id) { "Đơn vị phối hợp " span.muted { "(chọn nhiều bằng Ctrl/⌘)" } }
        select id=(coord_id) name="coordinating_units" multiple size="5" {
            @for u in &rules.config.units {
                option value=(u.id) selected[chosen_coord.iter().any(|c| c == &u.id)] { (u.name) }
            }
        }
        (field_error(f.error(&["coordinating_units"])))
    }
}

fn category_select(
    a: Action,
    name: &str,
    label: &str,
    rules: &CityRules,
    f: &FormState,
    current: Option<&str>,
    optional: bool,
) -> Markup {
    let id = format!("{}-{name}", a.as_str());
    let chosen = f.value(name).or(current);
    html! {
        label for=(id) { (label) @if optional { " " span.muted { "(không bắt buộc)" } } }
        select id=(id) name=(name) required[!optional] {
            option value="" { "— Chọn lĩnh vực —" }
            @for c in &rules.config.categories {
                option value=(c.code) selected[chosen == Some(c.code.as_str())] { (c.name) }
            }
        }
        (field_error(f.error(&[name])))
    }
}

/// An upload input (through the console script) filling a hidden field of upload ids.
fn upload(prefix: &str, name: &str, label: &str, f: &FormState, aliases: &[&str]) -> Markup {
    let hidden = format!("{prefix}-ids");
    html! {
        label for=(format!("{prefix}-file")) { (label) }
        input id=(format!("{prefix}-file")) type="file" accept="image/*,video/*,audio/*,application/pdf" capture="environment" multiple
            data-upload=(hidden) data-progress=(format!("{prefix}-progress")) data-list=(format!("{prefix}-list"));
        input id=(hidden) type="hidden" name=(name) value=(f.values(name).join(","));
        progress id=(format!("{prefix}-progress")) max="100" value="0" hidden {}
        ul id=(format!("{prefix}-list")) class="uploads" {}
        (field_error(f.error(aliases)))
    }
}

fn action_form(
    v: &StaffView,
    a: Action,
    proposal: Option<&Proposal>,
    f: FormState,
    csrf: &str,
    rules: &CityRules,
) -> Markup {
    let r = &v.report;
    let name = a.as_str();
    let fields = form_fields(a);
    let body = match a {
        Action::Assign => {
            let lead = proposal.and_then(|p| p.lead_unit.as_deref());
            let coord = proposal
                .map(|p| p.coordinating_units.clone())
                .unwrap_or_default();
            html! {
                @if let Some(p) = proposal {
                    p class="proposal" {
                        "Đề xuất: " strong { (lead.map(|u| unit_name(rules, u)).unwrap_or_else(|| "chưa xác định đơn vị".into())) }
                        " — " (p.reason)
                    }
                    p class="due-if-now" {
                        @match p.due_at {
                            Some(d) => { "Hạn xử lý nếu giao bây giờ: " strong { (rules.format_local(d)) } }
                            None => "Lĩnh vực này không có thời hạn xử lý quy định.",
                        }
                    }
                }
                (unit_selects(a, rules, &f, lead, &coord))
                (textarea(a, "note", "Ghi chú", &f, None, false))
            }
        }
        Action::Reassign => {
            let lead = r.lead_unit();
            let coord = r
                .assignment
                .as_ref()
                .map(|x| x.coordinating_units.clone())
                .unwrap_or_default();
            html! {
                (unit_selects(a, rules, &f, lead, &coord))
                (textarea(a, "note", "Lý do giao lại", &f, None, true))
            }
        }
        Action::Refer => textarea(a, "note", "Nội dung xin ý kiến lãnh đạo", &f, None, true),
        Action::Urge => textarea(a, "note", "Nội dung đôn đốc", &f, None, true),
        Action::MarkSecret => textarea(a, "note", "Căn cứ đánh dấu bí mật", &f, None, true),
        Action::AddNote => textarea(
            a,
            "note",
            "Ghi chú nội bộ (người phản ánh không thấy)",
            &f,
            None,
            true,
        ),
        Action::Accept | Action::Resume | Action::Close => {
            textarea(a, "note", "Ghi chú", &f, None, false)
        }
        Action::Progress => html! {
            (textarea(a, "note", "Tiến độ", &f, None, true))
            (upload("progress", "attachments", "Ảnh, tài liệu kèm theo", &f, &["attachments"]))
        },
        Action::Reject => textarea(
            a,
            "reason",
            "Lý do từ chối (người phản ánh sẽ thấy)",
            &f,
            None,
            true,
        ),
        Action::RevealReporter => textarea(
            a,
            "reason",
            "Lý do cần xem (được ghi nhật ký)",
            &f,
            None,
            true,
        ),
        Action::Reclassify => html! {
            (category_select(a, "category", "Lĩnh vực mới", rules, &f, None, false))
            (textarea(a, "note", "Ghi chú", &f, None, false))
        },
        Action::Resolve => html! {
            (textarea(a, "summary", "Kết quả xử lý", &f, None, true))
            (upload("evidence", "evidence", "Hồ sơ, hình ảnh kết quả (chụp từ điện thoại hoặc chọn tệp)", &f, &["evidence", "attachments"]))
        },
        Action::Defer => {
            let id = "defer-expected_date";
            html! {
                (textarea(a, "reason", "Lý do chưa giải quyết được", &f, None, true))
                label for=(id) { "Ngày dự kiến giải quyết" }
                input id=(id) type="date" name="expected_date" required value=(f.value("expected_date").unwrap_or_default());
                (field_error(f.error(&["expected_date"])))
            }
        }
        Action::Return => html! {
            (textarea(a, "reason", "Lý do trả lại", &f, None, true))
            (category_select(a, "suggested_category", "Lĩnh vực đề nghị", rules, &f, None, true))
        },
        Action::Publish => {
            let initial = r
                .public_answer
                .as_deref()
                .or(r.resolution.as_ref().map(|x| x.summary.as_str()));
            let chosen = f.values("public_attachments");
            html! {
                (textarea(a, "public_answer", "Trả lời công khai (người dân sẽ thấy)", &f, initial, true))
                fieldset class="public-media" {
                    legend { "Tệp được công khai (Điều 8.1)" }
                    @if r.attachments.is_empty() { p.muted { "Không có tệp đính kèm." } }
                    @for att in &r.attachments {
                        @let checked = if f.typed_any() { chosen.contains(&att.id.as_str()) } else { att.public };
                        label class="check" {
                            input type="checkbox" name="public_attachments" value=(att.id) checked[checked];
                            " " (att.id) " (" (att.content_type) ")"
                            " · " a href=(attachment_href(&r.id, &att.id)) target="_blank" rel="noopener" { "xem" }
                        }
                    }
                    (field_error(f.error(&["public_attachments"])))
                }
            }
        }
        Action::Directive => textarea(
            a,
            "text",
            "Nội dung chỉ đạo (ký bằng tài khoản của bạn, không sửa được sau khi ban hành)",
            &f,
            None,
            true,
        ),
        _ => html! {},
    };
    html! {
        details class="action" data-action=(name) open[f.typed_any()] {
            summary { (action_label(a)) }
            form method="post" action=(format!("{}/actions", report_url(&r.id))) data-action=(name) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="action" value=(name);
                @if let Some(m) = f.general(fields) {
                    p class="error" role="alert" { (m) }
                }
                (body)
                button type="submit" class=[matches!(a, Action::Reject | Action::MarkSecret).then_some("danger")] { (action_label(a)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_become_core_commands() {
        let c = to_command(
            "assign",
            &kv(&[
                ("lead_unit", "phong_tnmt"),
                ("coordinating_units", "a"),
                ("coordinating_units", "b, c"),
                ("note", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "assign", "lead_unit": "phong_tnmt", "coordinating_units": ["a", "b", "c"]})
        );
        let c = to_command("resolve", &kv(&[("summary", "xong"), ("evidence", "")])).unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "resolve", "summary": "xong", "evidence": []})
        );
        let c = to_command("refer", &kv(&[("note", "")])).unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "refer", "note": ""}),
            "required: core says why"
        );
        let c = to_command("rate", &kv(&[("stars", "4"), ("comment", "")])).unwrap();
        assert_eq!(c, serde_json::json!({"action": "rate", "stars": 4}));
        assert!(matches!(
            to_command("defer", &kv(&[("reason", "x"), ("expected_date", "mai")])),
            Err(DomainError::Invalid { field, .. }) if field == "expected_date"
        ));
    }
}
