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

mod command;
mod forms;
mod page;
mod share;

use command::*;
use forms::*;
use page::*;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/reports/{id}", get(show))
        .route("/console/reports/{id}/actions", post(act))
        .route(
            "/console/reports/{id}/attachments/{attachment_id}",
            get(attachment),
        )
        .merge(share::routes())
}

// ---------------------------------------------------------------------------------------------
// Names shared by the console's report renderings (also used by the IOC queue).

fn action_by_name(name: &str) -> Option<Action> {
    phananh_core::lifecycle::REPORT_ACTIONS
        .into_iter()
        .chain([
            Action::CreateFromCamera,
            Action::RequestShare,
            Action::DecideShare,
        ])
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
    let seen_version = fields
        .iter()
        .find(|(k, _)| k == forms::VERSION_FIELD)
        .and_then(|(_, v)| v.trim().parse::<u64>().ok());
    let values: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != super::csrf::CSRF_FIELD && k != "action" && k != forms::VERSION_FIELD)
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
    match s.app.act_json_at(&id, actor, body, seen_version).await {
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
        DomainError::Conflict | DomainError::Stale { .. } | DomainError::InvalidState { .. } => {
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
