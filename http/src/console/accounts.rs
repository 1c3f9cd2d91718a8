//! Staff accounts for the office (Đ.4.1, Đ.9.2): the list, a create form (roles and units
//! from the config), and per account disable/enable and a new password. Every rule (who may
//! manage, username and password rules, units of unit roles) is core's: a refusal is shown
//! next to the field it names, with what was typed kept (never a password).

use super::common::{forbidden, read_error};
use super::names::{local_time, unit_name};
use super::Ctx;
use crate::console::layout::role_name;
use crate::HttpState;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use phananh_core::app::NewAccount;
use phananh_core::city::CityRules;
use phananh_core::error::DomainError;
use phananh_core::model::Role;
use phananh_core::ports::StaffAccount;
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/office/accounts", get(accounts_page).post(create))
        .route("/console/office/accounts/{id}/disabled", post(set_disabled))
        .route(
            "/console/office/accounts/{id}/password",
            post(reset_password),
        )
}

const TITLE: &str = "Tài khoản cán bộ";
const HERE: &str = "/console/office/accounts";

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DisabledForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    disabled: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    password: String,
}

/// A refusal to show: next to a field of the create form, or on one account's row.
enum Problem {
    None,
    Create {
        field: String,
        message: String,
    },
    Row {
        id: String,
        field: String,
        message: String,
    },
}

impl Problem {
    fn create_field(&self, f: &str) -> Option<&str> {
        match self {
            Problem::Create { field, message } if field == f => Some(message),
            _ => None,
        }
    }
    fn row_field(&self, id: &str, f: &str) -> Option<&str> {
        match self {
            Problem::Row {
                id: i,
                field,
                message,
            } if i == id && field == f => Some(message),
            _ => None,
        }
    }
}

/// The field a core refusal names (`Invalid`, `AlreadyExists`), else `fallback`.
fn field_of(e: &DomainError, fallback: &str) -> String {
    match e {
        DomainError::Invalid { field, .. } | DomainError::AlreadyExists { field } => field.clone(),
        _ => fallback.to_string(),
    }
}

fn done_text(done: &str) -> &'static str {
    match done {
        "created" => "Đã tạo tài khoản.",
        "disabled" => "Đã khóa tài khoản.",
        "enabled" => "Đã mở khóa tài khoản.",
        "password" => "Đã đặt mật khẩu mới.",
        _ => "Đã lưu.",
    }
}

fn field_error(msg: Option<&str>) -> Markup {
    html! { @if let Some(m) = msg { span.field-error role="alert" { (m) } } }
}

fn create_form(rules: &CityRules, csrf: &str, typed: &CreateForm, p: &Problem) -> Markup {
    // A refusal not about one of the form's fields is shown above it.
    let general = match p {
        Problem::Create { field, message }
            if !["username", "display_name", "role", "unit", "password"]
                .contains(&field.as_str()) =>
        {
            Some(message.as_str())
        }
        _ => None,
    };
    html! {
        form id="create-account" class="create-account" method="post" action=(HERE) {
            input type="hidden" name="_csrf" value=(csrf);
            @if let Some(m) = general { p.error role="alert" { (m) } }
            label for="username" { "Tên đăng nhập" }
            input type="text" id="username" name="username" autocomplete="off" required
                value=(typed.username) aria-invalid=[p.create_field("username").map(|_| "true")];
            (field_error(p.create_field("username")))
            label for="display_name" { "Họ và tên" }
            input type="text" id="display_name" name="display_name" required
                value=(typed.display_name) aria-invalid=[p.create_field("display_name").map(|_| "true")];
            (field_error(p.create_field("display_name")))
            label for="role" { "Vai trò" }
            select id="role" name="role" required {
                option value="" { "— Chọn vai trò —" }
                @for r in Role::STAFF {
                    option value=(r.as_str()) selected[typed.role == r.as_str()] { (role_name(r)) }
                }
            }
            (field_error(p.create_field("role")))
            label for="unit" { "Đơn vị" }
            select id="unit" name="unit" {
                option value="" { "— Không thuộc đơn vị xử lý —" }
                @for u in &rules.config.units {
                    option value=(u.id) selected[typed.unit == u.id] { (u.name) }
                }
            }
            span.hint { "Bắt buộc với cán bộ và lãnh đạo đơn vị." }
            (field_error(p.create_field("unit")))
            label for="password" { "Mật khẩu ban đầu" }
            input type="password" id="password" name="password" autocomplete="new-password" required
                aria-invalid=[p.create_field("password").map(|_| "true")];
            (field_error(p.create_field("password")))
            button type="submit" { "Tạo tài khoản" }
        }
    }
}

fn account_row(a: &StaffAccount, rules: &CityRules, csrf: &str, p: &Problem) -> Markup {
    let pw_id = format!("pw-{}", a.id);
    html! {
        tr data-account-id=(a.id) class=[a.disabled.then_some("disabled")] {
            td { (a.username) }
            td { (a.display_name) }
            td { (role_name(a.role)) }
            td { @if let Some(u) = &a.unit { (unit_name(rules, u)) } }
            td {
                @if a.disabled { span class="badge flag" { "Đã khóa" } } @else { span.badge { "Đang hoạt động" } }
                br; span.muted { "Tạo: " (local_time(rules, a.created_at)) }
            }
            td.account-actions {
                form method="post" action=(format!("{HERE}/{}/disabled", a.id)) {
                    input type="hidden" name="_csrf" value=(csrf);
                    @if a.disabled {
                        input type="hidden" name="disabled" value="false";
                        button.secondary type="submit" { "Mở khóa" }
                    } @else {
                        input type="hidden" name="disabled" value="true";
                        button.danger type="submit" { "Khóa" }
                    }
                    (field_error(p.row_field(&a.id, "id")))
                }
                details.reset-password open[p.row_field(&a.id, "password").is_some()] {
                    summary { "Đặt lại mật khẩu" }
                    form method="post" action=(format!("{HERE}/{}/password", a.id)) {
                        input type="hidden" name="_csrf" value=(csrf);
                        label for=(pw_id) { "Mật khẩu mới" }
                        input type="password" id=(pw_id) name="password" autocomplete="new-password" required;
                        (field_error(p.row_field(&a.id, "password")))
                        button type="submit" { "Đặt mật khẩu" }
                    }
                }
            }
        }
    }
}

/// The whole page: the create form (with what was typed) and the list.
async fn render(
    s: &HttpState,
    ctx: &Ctx,
    typed: &CreateForm,
    problem: &Problem,
    done: Option<&str>,
    status: StatusCode,
) -> Response {
    let actor = &ctx.session.actor;
    let mut accounts = match s.app.list_accounts(actor).await {
        Ok(a) => a,
        Err(e) => return read_error(ctx, TITLE, HERE, &e),
    };
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    let rules = s.app.rules();
    let mut r = ctx.page(
        TITLE,
        HERE,
        html! {
            h1 { (TITLE) }
            @if let Some(d) = done { p.notice role="status" { (done_text(d)) } }
            @if let Problem::Row { message, .. } = problem { p.error role="alert" { (message) } }
            section.card.accounts-create {
                h2 { "Tạo tài khoản" }
                (create_form(rules, &ctx.csrf, typed, problem))
            }
            h2 { "Danh sách tài khoản (" (accounts.len()) ")" }
            div.table-wrap {
                table id="accounts" {
                    thead { tr {
                        th { "Tên đăng nhập" } th { "Họ và tên" } th { "Vai trò" } th { "Đơn vị" }
                        th { "Trạng thái" } th { "Thao tác" }
                    } }
                    tbody {
                        @for a in &accounts { (account_row(a, rules, &ctx.csrf, problem)) }
                    }
                }
            }
        },
    );
    *r.status_mut() = status;
    r
}

fn status_of(e: &DomainError) -> StatusCode {
    match e {
        DomainError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        DomainError::AlreadyExists { .. } => StatusCode::CONFLICT,
        DomainError::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn done(what: &str) -> Response {
    Redirect::to(&format!("{HERE}?done={what}")).into_response()
}

async fn accounts_page(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Query(q): Query<DoneQuery>,
) -> Response {
    render(
        &s,
        &ctx,
        &CreateForm::default(),
        &Problem::None,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn create(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Form(mut f): Form<CreateForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let actor = ctx.session.actor.clone();
    let password = std::mem::take(&mut f.password);
    let result = match Role::parse(f.role.trim()) {
        Some(role) => {
            let new = NewAccount {
                username: f.username.clone(),
                display_name: f.display_name.clone(),
                role,
                unit: Some(f.unit.trim().to_string()).filter(|u| !u.is_empty()),
                password,
            };
            s.app.create_account(&actor, new).await
        }
        None => Err(DomainError::invalid("role", "hãy chọn một vai trò cán bộ")),
    };
    match result {
        Ok(_) => done("created"),
        Err(e @ DomainError::Forbidden { .. }) => forbidden(&ctx, TITLE, HERE, &e.message_vi()),
        Err(e) => {
            let problem = Problem::Create {
                field: field_of(&e, "username"),
                message: e.message_vi(),
            };
            render(&s, &ctx, &f, &problem, None, status_of(&e)).await
        }
    }
}

async fn row_result(
    s: &HttpState,
    ctx: &Ctx,
    id: &str,
    result: Result<StaffAccount, DomainError>,
    fallback_field: &str,
    done_what: &str,
) -> Response {
    match result {
        Ok(_) => done(done_what),
        Err(e @ DomainError::Forbidden { .. }) => forbidden(ctx, TITLE, HERE, &e.message_vi()),
        Err(e) => {
            let field = match &e {
                DomainError::Invalid { field, .. } => field.clone(),
                _ => fallback_field.to_string(),
            };
            let problem = Problem::Row {
                id: id.to_string(),
                field,
                message: e.message_vi(),
            };
            render(
                s,
                ctx,
                &CreateForm::default(),
                &problem,
                None,
                status_of(&e),
            )
            .await
        }
    }
}

async fn set_disabled(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<DisabledForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let disabled = matches!(f.disabled.as_str(), "true" | "1" | "on");
    let result = s
        .app
        .set_account_disabled(&ctx.session.actor, &id, disabled)
        .await;
    let what = if disabled { "disabled" } else { "enabled" };
    row_result(&s, &ctx, &id, result, "id", what).await
}

async fn reset_password(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let result = s
        .app
        .reset_password(&ctx.session.actor, &id, &f.password)
        .await;
    row_result(&s, &ctx, &id, result, "password", "password").await
}
