//! What the console's pages share beyond names: reading every report a person may see (paged
//! through core, bounded), and the pages for a refusal or a failed read.

use super::layout::home_of;
use super::Ctx;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use phananh_core::app::App;
use phananh_core::model::{Actor, Report};
use phananh_core::ports::ReportQuery;
use phananh_core::DomainError;

/// Reports read per page.
const PAGE: u32 = 200;

/// Every report of `q` the actor may see (core confines units to their unit), at most `max`.
pub(super) async fn list_all(
    app: &App,
    actor: &Actor,
    mut q: ReportQuery,
    max: usize,
) -> Result<Vec<Report>, DomainError> {
    let mut out = Vec::new();
    q.limit = PAGE;
    for _ in 0..=(max / PAGE as usize) {
        let page = app.list(actor, q.clone()).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) if out.len() < max => q.cursor = Some(c),
            _ => break,
        }
    }
    out.truncate(max);
    Ok(out)
}

/// A refusal page (403) in the shell, with the way back to the person's own page.
pub(super) fn forbidden(ctx: &Ctx, title: &str, current: &str, message: &str) -> Response {
    let home = home_of(ctx.session.actor.role);
    let mut r = ctx.page(
        title,
        current,
        html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            p { a href=(home) { "Về trang của bạn" } }
        },
    );
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

/// A core error on a read: refusals as 403, anything else as a 500 page with core's words.
pub(super) fn read_error(ctx: &Ctx, title: &str, current: &str, e: &DomainError) -> Response {
    match e {
        DomainError::Forbidden { .. } | DomainError::OutOfUnitScope { .. } => {
            forbidden(ctx, title, current, &e.message_vi())
        }
        _ => {
            let mut r = ctx.page(
                title,
                current,
                html! { h1 { (title) } p.error role="alert" { (e.message_vi()) } },
            );
            *r.status_mut() = if matches!(e, DomainError::Invalid { .. }) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            r
        }
    }
}
