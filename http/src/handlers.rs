//! Route handlers: parse, call a core use case, shape the response. No rules here.

use crate::auth::{hash_password, verify_password};
use crate::extract::{Authed, Json, Query};
use crate::problem::{ApiResult, Problem};
use crate::{HttpState, OPENAPI_YAML};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::{Channel, Notification, Page, ReportQuery, StaffAccount, StoreError};
use phananh_core::service::App;
use phananh_core::views::{self, PublicReport, ReporterView, StaffView};
use phananh_core::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn ok<T: Serialize>(v: T) -> Response {
    axum::Json(v).into_response()
}

fn report_id(id: String) -> ApiResult<ReportId> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Problem::not_found());
    }
    Ok(ReportId(id))
}

pub async fn health() -> Response {
    ok(json!({"status": "ok"}))
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML).into_response()
}

pub async fn not_found() -> Problem {
    Problem::not_found()
}

pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Phương thức không được hỗ trợ",
        "Đường dẫn này không hỗ trợ phương thức HTTP đã dùng.",
    )
}

// ------------------------------------------------------------------ catalogues (public)

pub async fn categories(State(s): State<HttpState>) -> Response {
    let items: Vec<_> = s
        .app
        .rules
        .config
        .categories
        .iter()
        .map(|c| {
            json!({
                "code": c.code, "name": c.name, "description": c.description,
                "article": c.article,
                "deadline_hours": c.deadline_hours, "clock": c.clock,
                "local_policy": c.policy.as_ref().map(|p| p.note.clone()),
            })
        })
        .collect();
    ok(json!({ "items": items }))
}

pub async fn units(State(s): State<HttpState>) -> Response {
    // Public: names and kinds only, never contacts.
    let items: Vec<_> = s
        .app
        .rules
        .config
        .units
        .iter()
        .map(|u| json!({"id": u.id, "name": u.name, "kind": u.kind, "ward": u.ward}))
        .collect();
    ok(json!({ "items": items }))
}

pub async fn wards(State(s): State<HttpState>) -> Response {
    let items: Vec<_> = s
        .app
        .rules
        .config
        .wards
        .iter()
        .map(|w| {
            json!({"id": w.id, "name": w.name, "kind": w.kind, "unit": w.unit,
                   "boundary": w.boundary, "illustrative": w.illustrative})
        })
        .collect();
    ok(json!({ "items": items }))
}

// ------------------------------------------------------------------ authentication

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

fn token_response(s: &HttpState, actor: &Actor) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (token, ttl) = tokens.issue(actor)?;
    Ok(ok(json!({
        "access_token": token, "token_type": "Bearer", "expires_in": ttl,
        "role": actor.role, "unit": actor.unit,
    })))
}

pub async fn login(State(s): State<HttpState>, Json(b): Json<LoginBody>) -> ApiResult<Response> {
    if s.tokens.is_none() {
        return Err(Problem::not_found());
    }
    let refused = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Đăng nhập không thành công",
            "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa.",
        )
    };
    let acc = s
        .app
        .accounts
        .account_by_username(b.username.trim())
        .await
        .map_err(store_problem)?
        .ok_or_else(refused)?;
    if acc.disabled || !verify_password(&b.password, &acc.password_hash) {
        tracing::warn!(username = %acc.username, "failed staff login");
        return Err(refused());
    }
    token_response(
        &s,
        &Actor::new(acc.id.clone(), acc.role, acc.unit.as_deref()),
    )
}

/// Anonymous citizen: a device token that lets them follow their own reports.
pub async fn device_token(State(s): State<HttpState>) -> ApiResult<Response> {
    let id = format!("dev-{}", uuid::Uuid::new_v4().simple());
    token_response(&s, &Actor::new(id, Role::Citizen, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn contact_of(b: &OtpBody) -> ApiResult<(String, Channel)> {
    match (&b.phone, &b.email) {
        (Some(p), None) => {
            let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
            let digits = p.trim_start_matches('+');
            if digits.len() < 9 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return Err(Problem::bad_request(
                    "invalid_phone",
                    "phone",
                    "Số điện thoại không hợp lệ.",
                ));
            }
            Ok((p, Channel::Sms))
        }
        (None, Some(e)) => {
            let e = e.trim().to_lowercase();
            if e.len() > 200 || !e.contains('@') || e.starts_with('@') || e.ends_with('@') {
                return Err(Problem::bad_request(
                    "invalid_email",
                    "email",
                    "Địa chỉ e-mail không hợp lệ.",
                ));
            }
            Ok((e, Channel::Email))
        }
        _ => Err(Problem::bad_request(
            "invalid_contact",
            "phone",
            "Cần đúng một trong hai: số điện thoại hoặc e-mail.",
        )),
    }
}

/// Sends a one-time sign-in code to a phone (SMS) or e-mail.
pub async fn citizen_otp(
    State(s): State<HttpState>,
    Json(b): Json<OtpBody>,
) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, channel) = contact_of(&b)?;
    let window = crate::auth::TokenService::otp_window(Utc::now().timestamp());
    let code = tokens.otp(&contact, window)?;
    let body = format!("Ma dang nhap phan anh hien truong: {code} (hieu luc 10 phut)");
    s.app
        .notifier
        .send(&Notification {
            id: format!("otp:{contact}:{window}"),
            channel,
            to: contact.clone(),
            unit: None,
            subject: (channel == Channel::Email).then(|| "Mã đăng nhập".to_string()),
            body,
            report_id: None,
        })
        .await
        .map_err(|e| Problem::from(DomainError::Storage(e.to_string())))?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"sent": true}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    code: String,
}

pub async fn citizen_verify(
    State(s): State<HttpState>,
    Json(b): Json<VerifyBody>,
) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, _) = contact_of(&OtpBody {
        phone: b.phone,
        email: b.email,
    })?;
    if !tokens.check_otp(&contact, b.code.trim())? {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid_otp",
            "Mã xác thực không đúng",
            "Mã xác thực không đúng hoặc đã hết hạn.",
        ));
    }
    let id = tokens.citizen_id_for(&contact)?;
    token_response(&s, &Actor::new(id, Role::Citizen, None))
}

// ------------------------------------------------------------------ uploads & reports

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    content_type: String,
    size: u64,
}

pub async fn request_upload(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Json(b): Json<UploadBody>,
) -> ApiResult<Response> {
    let t = s
        .app
        .request_upload(&actor, &b.content_type, b.size)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    category: String,
    title: String,
    description: String,
    #[serde(default)]
    location: Option<GeoPoint>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    ward: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    reporter: Option<ReporterBody>,
    #[serde(default)]
    camera_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().map_err(|_| {
        Problem::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key",
            "Idempotency-Key chỉ gồm ký tự ASCII.",
        )
    })?;
    if s.is_empty() || s.len() > 255 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Problem::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key",
            "Idempotency-Key phải dài 1–255 ký tự ASCII hiển thị được.",
        ));
    }
    Ok(Some(s.to_string()))
}

/// Citizens submit from the app; IOC operators create from a camera (Đ.7.1).
pub async fn submit_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    headers: HeaderMap,
    Json(b): Json<SubmitBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    if actor.role == Role::Citizen && b.camera_id.is_some() {
        return Err(Problem::bad_request(
            "invalid_field",
            "camera_id",
            "Chỉ cán bộ IOC được tạo phản ánh từ camera.",
        ));
    }
    let input = NewReport {
        category: b.category,
        title: b.title,
        description: b.description,
        location: b.location,
        address: b.address,
        reporter_ward: b.ward,
        attachments: Vec::new(),
        reporter: b.reporter.map(|r| Reporter {
            citizen_id: String::new(),
            name: r.name,
            phone: r.phone,
            email: r.email,
        }),
        camera_id: b.camera_id,
    };
    let (report, created) = s
        .app
        .submit(&actor, input, &b.attachments, key.as_deref())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = if actor.role == Role::Citizen {
        serde_json::to_value(views::reporter_view(&report, &s.app.rules))
    } else {
        serde_json::to_value(staff(&s.app, &report, &actor))
    }
    .map_err(|e| Problem::from(DomainError::Storage(e.to_string())))?;
    Ok((
        status,
        [(header::LOCATION, format!("/v1/me/reports/{}", report.id))],
        axum::Json(body),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    ward: Option<String>,
    #[serde(default)]
    overdue: Option<bool>,
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
}

impl ListParams {
    fn to_query(&self, app: &App) -> ApiResult<ReportQuery> {
        let mut states = Vec::new();
        if let Some(list) = &self.state {
            for s in list.split(',').filter(|s| !s.is_empty()) {
                states.push(phananh_core::model::State::parse(s).ok_or_else(|| {
                    Problem::bad_request(
                        "invalid_query",
                        "state",
                        format!("Trạng thái “{s}” không tồn tại."),
                    )
                })?);
            }
        }
        if let Some(c) = &self.category {
            if app.rules.config.category(c).is_none() {
                return Err(Problem::bad_request(
                    "invalid_query",
                    "category",
                    format!("Lĩnh vực “{c}” không tồn tại."),
                ));
            }
        }
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Problem::bad_request(
                "invalid_query",
                "limit",
                "limit phải từ 1 đến 200.",
            ));
        }
        Ok(ReportQuery {
            states,
            unit: self.unit.clone(),
            category: self.category.clone(),
            ward: self.ward.clone(),
            reporter: None,
            overdue_at: self.overdue.unwrap_or(false).then(|| app.now()),
            public_only: false,
            created_from: self.from,
            created_to: self.to,
            cursor: self.cursor.clone(),
            limit,
        })
    }
}

fn page<T: Serialize>(items: Vec<T>, next: Option<String>) -> Response {
    ok(json!({ "items": items, "next_cursor": next }))
}

pub async fn my_reports(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    require_citizen(&actor)?;
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.list(&actor, q).await?;
    let items: Vec<ReporterView> = items
        .iter()
        .map(|r| views::reporter_view(r, &s.app.rules))
        .collect();
    Ok(page(items, next_cursor))
}

fn require_citizen(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Citizen {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "forbidden_role",
            "Chức năng dành cho người phản ánh.",
        ))
    }
}

fn require_staff(actor: &Actor) -> ApiResult<()> {
    if actor.role.is_staff() {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "forbidden_role",
            "Chức năng dành cho cán bộ.",
        ))
    }
}

pub async fn my_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_citizen(&actor)?;
    let r = s.app.get_for(&report_id(id)?, &actor).await?;
    Ok(ok(views::reporter_view(&r, &s.app.rules)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    stars: u8,
    #[serde(default)]
    comment: Option<String>,
}

pub async fn rate_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<RateBody>,
) -> ApiResult<Response> {
    let cmd = Command::Rate {
        stars: b.stars,
        comment: b.comment,
    };
    let r = s.app.act(&report_id(id)?, &actor, cmd).await?;
    Ok(ok(views::reporter_view(&r, &s.app.rules)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: String,
}

pub async fn reopen_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> ApiResult<Response> {
    let r = s
        .app
        .act(
            &report_id(id)?,
            &actor,
            Command::Reopen { reason: b.reason },
        )
        .await?;
    Ok(ok(views::reporter_view(&r, &s.app.rules)))
}

// ------------------------------------------------------------------ public

pub async fn public_reports(
    State(s): State<HttpState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    if p.unit.is_some() || p.overdue.is_some() {
        return Err(Problem::bad_request(
            "invalid_query",
            "unit",
            "Tham số không dùng cho danh sách công khai.",
        ));
    }
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.public_feed(q).await?;
    let items: Vec<PublicReport> = items
        .iter()
        .filter_map(|r| views::public_view(r, &s.app.rules))
        .collect();
    Ok(page(items, next_cursor))
}

pub async fn public_report(
    State(s): State<HttpState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = report_id(id)?;
    let r = s
        .app
        .store
        .get(&id)
        .await
        .map_err(store_problem)?
        .ok_or_else(Problem::not_found)?;
    let v = views::public_view(&r, &s.app.rules).ok_or_else(Problem::not_found)?;
    Ok(ok(v))
}

pub async fn public_attachment(
    State(s): State<HttpState>,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let url = s.app.attachment_url(&report_id(id)?, &aid, None).await?;
    Ok(ok(url))
}

// ------------------------------------------------------------------ staff

fn staff(app: &App, r: &Report, actor: &Actor) -> StaffView {
    views::staff_view(r, actor, &app.rules, app.now())
}

pub async fn staff_reports(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.list(&actor, q).await?;
    let items: Vec<StaffView> = items.iter().map(|r| staff(&s.app, r, &actor)).collect();
    Ok(page(items, next_cursor))
}

pub async fn staff_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let r = s.app.get_for(&report_id(id)?, &actor).await?;
    Ok(ok(staff(&s.app, &r, &actor)))
}

/// Every lifecycle action: `{"action": "assign", "lead_unit": "...", ...}`.
pub async fn staff_action(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    if !body.is_object() {
        return Err(Problem::bad_request(
            "invalid_body",
            "body",
            "Cần một đối tượng JSON.",
        ));
    }
    let r = s.app.act_json(&report_id(id)?, &actor, body).await?;
    Ok(ok(staff(&s.app, &r, &actor)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveBody {
    text: String,
}

/// Đ.6.2: a leader's directive.
pub async fn directive(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<DirectiveBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let r = s
        .app
        .act(&report_id(id)?, &actor, Command::Directive { text: b.text })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(staff(&s.app, &r, &actor))).into_response())
}

pub async fn reveal_reporter(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let reporter = s
        .app
        .reveal_reporter(&report_id(id)?, &actor, b.reason)
        .await?;
    Ok(ok(json!({ "reporter": reporter })))
}

pub async fn staff_attachment(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let url = s
        .app
        .attachment_url(&report_id(id)?, &aid, Some(&actor))
        .await?;
    Ok(ok(url))
}

// ------------------------------------------------------------------ statistics (Đ.9.2)

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
}

const STATS_MAX: usize = 100_000;

pub async fn stats(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    let st = s.app.stats(&actor, p.from, p.to, STATS_MAX).await?;
    Ok(ok(st))
}

fn csv_field(s: &str) -> String {
    // Also defuse spreadsheet formulas in exported text.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV rows of reports (no reporter data): for reports to the Chairman.
pub fn reports_csv(app: &App, reports: &[Report]) -> String {
    let mut out = String::from(
        "id,created_at,category,ward,state,lead_unit,assigned_at,due_at,resolved_at,on_time,overdue,title\n",
    );
    let now = app.now();
    for r in reports {
        let a = r.assignment.as_ref();
        let row = [
            r.id.to_string(),
            r.created_at.to_rfc3339(),
            r.category.clone(),
            r.ward.clone().unwrap_or_default(),
            r.state.as_str().to_string(),
            a.map(|a| a.lead_unit.clone()).unwrap_or_default(),
            a.map(|a| a.assigned_at.to_rfc3339()).unwrap_or_default(),
            a.map(|a| a.due_at.to_rfc3339()).unwrap_or_default(),
            r.resolution
                .as_ref()
                .map(|x| x.resolved_at.to_rfc3339())
                .unwrap_or_default(),
            r.resolution
                .as_ref()
                .map(|x| x.on_time.to_string())
                .unwrap_or_default(),
            r.is_overdue(now).to_string(),
            r.title.clone(),
        ];
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

pub async fn export_csv(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    App::check_stats_access(&actor)?;
    let reports = s.app.collect(p.from, p.to, STATS_MAX).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phananh.csv\"",
            ),
        ],
        reports_csv(&s.app, &reports),
    )
        .into_response())
}

// ------------------------------------------------------------------ accounts (Đ.4.1, Đ.9.2)

fn require_admin(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::OfficeAdmin {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "forbidden_role",
            "Chỉ Văn phòng HĐND và UBND quản lý tài khoản (Điều 9.2).",
        ))
    }
}

fn store_problem(e: StoreError) -> Problem {
    match e {
        StoreError::AlreadyExists => Problem::new(
            StatusCode::CONFLICT,
            "already_exists",
            "Đã tồn tại",
            "Tên đăng nhập đã được sử dụng.",
        ),
        StoreError::NotFound => Problem::not_found(),
        other => Problem::from(DomainError::Storage(other.to_string())),
    }
}

#[derive(Serialize)]
struct AccountOut {
    id: String,
    username: String,
    display_name: String,
    role: Role,
    unit: Option<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<&StaffAccount> for AccountOut {
    fn from(a: &StaffAccount) -> Self {
        AccountOut {
            id: a.id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            unit: a.unit.clone(),
            disabled: a.disabled,
            created_at: a.created_at,
        }
    }
}

pub async fn list_accounts(
    State(s): State<HttpState>,
    Authed(actor): Authed,
) -> ApiResult<Response> {
    require_admin(&actor)?;
    let list = s
        .app
        .accounts
        .list_accounts()
        .await
        .map_err(store_problem)?;
    let items: Vec<AccountOut> = list.iter().map(AccountOut::from).collect();
    Ok(ok(json!({ "items": items })))
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<String>,
    pub password: String,
}

/// Validates and creates a staff account (used by the API and by `phananh accounts create`).
pub async fn create_staff_account(app: &App, b: NewAccount) -> ApiResult<StaffAccount> {
    let username = b.username.trim().to_lowercase();
    if username.len() < 3
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(Problem::bad_request(
            "invalid_field",
            "username",
            "Tên đăng nhập 3–64 ký tự: chữ, số, . _ -",
        ));
    }
    if !b.role.is_staff() {
        return Err(Problem::bad_request(
            "invalid_field",
            "role",
            "Vai trò phải là vai trò cán bộ.",
        ));
    }
    match (b.role.is_unit_role(), &b.unit) {
        (true, Some(u)) if app.rules.config.unit(u).is_some() => {}
        (true, _) => {
            return Err(Problem::bad_request(
                "invalid_field",
                "unit",
                "Cán bộ đơn vị cần một mã đơn vị hợp lệ.",
            ))
        }
        (false, Some(u)) if app.rules.config.unit(u).is_none() => {
            return Err(Problem::bad_request(
                "invalid_field",
                "unit",
                "Mã đơn vị không tồn tại.",
            ))
        }
        _ => {}
    }
    if b.password.chars().count() < 10 {
        return Err(Problem::bad_request(
            "weak_password",
            "password",
            "Mật khẩu cần ít nhất 10 ký tự.",
        ));
    }
    let display_name = b.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(Problem::bad_request(
            "invalid_field",
            "display_name",
            "Họ tên không hợp lệ.",
        ));
    }
    let acc = StaffAccount {
        id: format!("acc-{}", uuid::Uuid::new_v4().simple()),
        username,
        display_name,
        role: b.role,
        unit: b.unit,
        password_hash: hash_password(&b.password)?,
        disabled: false,
        created_at: app.now(),
    };
    app.accounts
        .create_account(&acc)
        .await
        .map_err(store_problem)?;
    Ok(acc)
}

pub async fn create_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Json(b): Json<NewAccount>,
) -> ApiResult<Response> {
    require_admin(&actor)?;
    let acc = create_staff_account(&s.app, b).await?;
    tracing::info!(account = %acc.id, by = %actor.id, "staff account created");
    Ok((StatusCode::CREATED, axum::Json(AccountOut::from(&acc))).into_response())
}

async fn update_account(
    s: &HttpState,
    actor: &Actor,
    id: &str,
    f: impl FnOnce(&mut StaffAccount) -> ApiResult<()>,
) -> ApiResult<Response> {
    require_admin(actor)?;
    let mut acc = s
        .app
        .accounts
        .account_by_id(id)
        .await
        .map_err(store_problem)?
        .ok_or_else(Problem::not_found)?;
    f(&mut acc)?;
    s.app
        .accounts
        .save_account(&acc)
        .await
        .map_err(store_problem)?;
    tracing::info!(account = %acc.id, by = %actor.id, "staff account updated");
    Ok(ok(AccountOut::from(&acc)))
}

pub async fn disable_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id == actor.id {
        return Err(Problem::bad_request(
            "invalid_field",
            "id",
            "Không thể tự khóa tài khoản của mình.",
        ));
    }
    update_account(&s, &actor, &id, |a| {
        a.disabled = true;
        Ok(())
    })
    .await
}

pub async fn enable_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    update_account(&s, &actor, &id, |a| {
        a.disabled = false;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    password: String,
}

pub async fn reset_password(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<ResetBody>,
) -> ApiResult<Response> {
    require_admin(&actor)?;
    if b.password.chars().count() < 10 {
        return Err(Problem::bad_request(
            "weak_password",
            "password",
            "Mật khẩu cần ít nhất 10 ký tự.",
        ));
    }
    let hash = hash_password(&b.password)?;
    update_account(&s, &actor, &id, move |a| {
        a.password_hash = hash;
        Ok(())
    })
    .await
}
