//! Staff accounts for the office (Đ.9.2; staff never register themselves, Đ.4.1): listing,
//! creating, disabling and enabling, resetting a password. The account policy (who may manage
//! accounts, username, role, unit and password rules) is core's (`phananh_core::app::accounts`);
//! this file turns requests into its calls and accounts into answers without the hash.

use super::ok;
use crate::extract::{Authed, Json};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_core::app::NewAccount;
use phananh_core::model::Role;
use phananh_core::ports::StaffAccount;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An account as the API shows it (never the password hash).
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
    let list = s.app.list_accounts(&actor).await?;
    let items: Vec<AccountOut> = list.iter().map(AccountOut::from).collect();
    Ok(ok(json!({ "items": items })))
}

pub async fn create_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Json(b): Json<NewAccount>,
) -> ApiResult<Response> {
    let acc = s.app.create_account(&actor, b).await?;
    Ok((StatusCode::CREATED, axum::Json(AccountOut::from(&acc))).into_response())
}

pub async fn disable_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let acc = s.app.set_account_disabled(&actor, &id, true).await?;
    Ok(ok(AccountOut::from(&acc)))
}

pub async fn enable_account(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let acc = s.app.set_account_disabled(&actor, &id, false).await?;
    Ok(ok(AccountOut::from(&acc)))
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
    let acc = s.app.reset_password(&actor, &id, &b.password).await?;
    Ok(ok(AccountOut::from(&acc)))
}
