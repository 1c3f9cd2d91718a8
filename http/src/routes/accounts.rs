//! Staff accounts, managed only by the Office of the People's Council and Committee (Đ.9.2);
//! staff never register themselves (Đ.4.1). The account policy (username, role, unit and
//! password rules) is [`create_staff_account`], written once for the API and for
//! `phananh accounts create`.

use super::{ok, store_problem};
use crate::auth::hash_password;
use crate::extract::{Authed, Json};
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::StaffAccount;
use phananh_core::service::App;
use serde::{Deserialize, Serialize};
use serde_json::json;

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

/// The fewest characters a staff password may have.
const MIN_PASSWORD_CHARS: usize = 10;

fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Problem::bad_request(
            "weak_password",
            "password",
            "Mật khẩu cần ít nhất 10 ký tự.",
        ));
    }
    Ok(())
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
    check_password(&b.password)?;
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
    check_password(&b.password)?;
    let hash = hash_password(&b.password)?;
    update_account(&s, &actor, &id, move |a| {
        a.password_hash = hash;
        Ok(())
    })
    .await
}
