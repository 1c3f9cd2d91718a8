//! Đ.4.4 on the report page: the third-party share requests of the report with where each
//! stands, the form to ask (who asks is the signed-in person; for whom and why), a leader's
//! approve and refuse forms, and the release of an approved request as a download of the
//! watermarked export. Who may do each step and from which state is core's.

use super::*;
use axum::http::header;
use phananh_core::lifecycle::allowed_roles;
use phananh_core::lifecycle::share::{share_state, ShareState};

pub(super) fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/reports/{id}/shares", post(request))
        .route(
            "/console/reports/{id}/shares/{request}/decision",
            post(decide),
        )
        .route(
            "/console/reports/{id}/shares/{request}/release",
            post(release),
        )
}

fn shares_url(id: &ReportId) -> String {
    format!("{}/shares", report_url(id))
}

fn status_of(s: &ShareState) -> (&'static str, &'static str) {
    match (s.approved, s.released) {
        (None, _) => ("pending", "Chờ Lãnh đạo UBND quyết định"),
        (Some(false), _) => ("refused", "Lãnh đạo đã từ chối"),
        (Some(true), false) => ("approved", "Lãnh đạo đã đồng ý, chưa cung cấp"),
        (Some(true), true) => ("released", "Đã cung cấp (có dấu nhận diện)"),
    }
}

/// The report's share requests and the forms the signed-in person may use.
pub(super) fn section(r: &Report, actor: &phananh_core::model::Actor, csrf: &str) -> Markup {
    let may = |a: Action| allowed_roles(a).contains(&actor.role);
    let requests: Vec<ShareState> = r
        .timeline
        .iter()
        .enumerate()
        .filter(|(_, e)| e.action == Action::RequestShare)
        .filter_map(|(i, _)| share_state(r, i as u32).ok())
        .collect();
    // Only the roles that take part in a share see the requests (not the units).
    let involved = [
        Action::RequestShare,
        Action::DecideShare,
        Action::ReleaseShare,
    ]
    .into_iter()
    .any(may);
    if !involved || (requests.is_empty() && !may(Action::RequestShare)) {
        return html! {};
    }
    html! {
        section class="shares" {
            h2 { "Chia sẻ cho bên thứ ba (Điều 4.4)" }
            p class="muted" { "Thông tin phản ánh và thông tin cá nhân người phản ánh chỉ được cung cấp cho bên ngoài khi Lãnh đạo UBND thành phố đồng ý." }
            @for s in &requests {
                @let (code, label) = status_of(s);
                div class="share" data-share-request=(s.request) data-share-status=(code) {
                    p {
                        strong { "Yêu cầu #" (s.request) } " · cho " strong { (s.recipient) }
                        @if s.personal_data { " · " span class="badge flag" { "gồm thông tin người phản ánh" } }
                        " · " span class="badge" { (label) }
                    }
                    p { "Lý do: " (s.reason) }
                    @if s.approved.is_none() && may(Action::DecideShare) {
                        form method="post" action=(format!("{}/{}/decision", shares_url(&r.id), s.request)) class="share-decision" {
                            input type="hidden" name="_csrf" value=(csrf);
                            label for=(format!("share-note-{}", s.request)) { "Ý kiến " span.muted { "(không bắt buộc)" } }
                            input id=(format!("share-note-{}", s.request)) name="note";
                            button type="submit" name="approve" value="true" { "Đồng ý cung cấp" }
                            " "
                            button type="submit" name="approve" value="false" class="danger" { "Từ chối" }
                        }
                    }
                    @if s.approved == Some(true) && !s.released && may(Action::ReleaseShare) {
                        form method="post" action=(format!("{}/{}/release", shares_url(&r.id), s.request)) class="share-release" {
                            input type="hidden" name="_csrf" value=(csrf);
                            button type="submit" { "Cung cấp và tải tệp (có dấu nhận diện)" }
                        }
                    }
                }
            }
            @if may(Action::RequestShare) {
                details class="action share-request" {
                    summary { (action_label(Action::RequestShare)) }
                    form method="post" action=(shares_url(&r.id)) data-action="request_share" {
                        input type="hidden" name="_csrf" value=(csrf);
                        label for="share-recipient" { "Cơ quan, tổ chức, cá nhân đề nghị được cung cấp" }
                        input id="share-recipient" name="recipient" required;
                        label for="share-reason" { "Lý do, mục đích sử dụng" }
                        textarea id="share-reason" name="reason" required {}
                        label class="check" {
                            input type="checkbox" name="personal_data" value="true";
                            " Gồm thông tin cá nhân của người phản ánh"
                        }
                        button type="submit" { "Gửi đề nghị" }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    personal_data: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    approve: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
}

fn done(id: &ReportId, action: Action) -> Response {
    Redirect::to(&format!("{}?done={}", report_url(id), action.as_str())).into_response()
}

async fn request(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RequestForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let id = ReportId(id);
    let personal = f.personal_data.as_deref() == Some("true");
    let values = vec![
        ("recipient".to_string(), f.recipient.clone()),
        ("reason".to_string(), f.reason.clone()),
    ];
    match s
        .app
        .request_share(&ctx.session.actor, &id, f.recipient, f.reason, personal)
        .await
    {
        Ok(_) => done(&id, Action::RequestShare),
        Err(e) => refused(&s, &ctx, &id, "request_share".into(), values, e).await,
    }
}

async fn decide(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path((id, request)): Path<(String, u32)>,
    Form(f): Form<DecisionForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let id = ReportId(id);
    let approve = f.approve == "true";
    let note = Some(f.note.clone()).filter(|n| !n.trim().is_empty());
    match s
        .app
        .decide_share(&ctx.session.actor, &id, request, approve, note)
        .await
    {
        Ok(_) => done(&id, Action::DecideShare),
        Err(e) => {
            let values = vec![("note".to_string(), f.note)];
            refused(&s, &ctx, &id, "decide_share".into(), values, e).await
        }
    }
}

/// Releases the approved request (recorded on the timeline) and answers the watermarked
/// export as a file to hand over.
async fn release(
    State(s): State<HttpState>,
    ctx: Ctx,
    Path((id, request)): Path<(String, u32)>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let id = ReportId(id);
    match s.app.release_share(&ctx.session.actor, &id, request).await {
        Ok(export) => {
            let body = match serde_json::to_vec_pretty(&export) {
                Ok(b) => b,
                Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            };
            let name = export.watermark.replace('/', "-");
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/json; charset=utf-8".to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.json\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => refused(&s, &ctx, &id, "release_share".into(), Vec::new(), e).await,
    }
}
