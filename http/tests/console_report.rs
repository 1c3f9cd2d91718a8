//! The report page and its actions, in process against the whole router: sessions, CSRF,
//! what a unit may see (never the reporter), forms turned into core commands, errors shown by
//! their field with what was typed, lost races, uploads and attachments.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{location, text, world, World, CSRF, NAME, PHONE};
use phananh_core::lifecycle::Command;
use phananh_core::model::{Actor, ReportId, Role, State};
use phananh_core::ports::MediaStore;
use phananh_testkit::actors;

impl World {
    /// A citizen's report with name and phone, screened (as the classify consumer does).
    async fn screened_report(&self) -> ReportId {
        let id = self.submit("Rác thải ùn ứ trước chợ").await;
        self.state.app.classify(&id).await.expect("screened");
        let r = self.state.app.load(&id).await.expect("stored");
        assert_eq!(
            r.state,
            State::Screened,
            "auto-assign is off for this category"
        );
        r.id
    }

    async fn assigned_report(&self, unit: &str) -> ReportId {
        let id = self.screened_report().await;
        let cmd = Command::Assign {
            lead_unit: unit.into(),
            coordinating_units: vec![],
            note: None,
        };
        self.state
            .app
            .act(&id, &actors::ioc_head(), cmd)
            .await
            .expect("assigned");
        id
    }
}

fn page_url(id: &ReportId) -> String {
    format!("/console/reports/{id}")
}

#[tokio::test]
async fn the_report_page_needs_a_session_and_comes_back_after_sign_in() {
    let w = world();
    let id = w.screened_report().await;
    let res = w.get(None, &page_url(&id)).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = location(&res);
    assert_eq!(
        to,
        format!(
            "/console/login?next={}",
            urlencoding::encode(&page_url(&id))
        )
    );
}

#[tokio::test]
async fn a_unit_never_sees_the_reporter_and_the_ioc_sees_them_masked() {
    let w = world();
    let id = w.assigned_report("phong_tnmt").await;
    let unit = actors::unit_staff("phong_tnmt");
    let res = w.get(Some(&unit), &page_url(&id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains("Rác thải ùn ứ trước chợ"));
    for secret in [
        NAME,
        PHONE,
        "+84912345678",
        "an.nguyen@example.vn",
        "N*** V*** A***",
        "09******78",
    ] {
        assert!(!html.contains(secret), "the unit's page shows {secret}");
    }
    assert!(
        html.contains(r#"data-action="accept""#),
        "the unit may accept"
    );
    assert!(!html.contains(r#"data-action="reveal_reporter""#));

    let ioc = w.get(Some(&actors::ioc_head()), &page_url(&id)).await;
    let html = text(ioc).await;
    assert!(!html.contains(NAME) && !html.contains(PHONE));
    assert!(html.contains("N*** V*** A***"), "masked for the IOC");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let w = world();
    let id = w.screened_report().await;
    let res = w
        .post_form(
            &actors::ioc_head(),
            &format!("{}/actions", page_url(&id)),
            &[("action", "assign"), ("lead_unit", "phong_tnmt")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let wrong = w
        .post_form(
            &actors::ioc_head(),
            &format!("{}/actions", page_url(&id)),
            &[
                ("_csrf", &"0".repeat(64)),
                ("action", "assign"),
                ("lead_unit", "phong_tnmt"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(r.state, State::Screened, "nothing happened");
}

#[tokio::test]
async fn the_ioc_head_assigns_the_proposed_unit_through_the_form() {
    let w = world();
    let id = w.screened_report().await;
    let head = actors::ioc_head();
    let html = text(w.get(Some(&head), &page_url(&id)).await).await;
    assert!(
        html.contains(r#"<details class="action" data-action="assign""#),
        "{html}"
    );
    assert!(html.contains(r#"<form method="post" action="/console/reports/"#));
    assert!(
        html.contains(r#"value="phong_tnmt" selected"#),
        "the proposed unit is preselected"
    );
    assert!(html.contains("Hạn xử lý nếu giao bây giờ: "));
    assert!(html.contains(">Giao xử lý</button>"));
    assert!(html.contains(r#"div class="minimap" data-lat="22.410000" data-lon="103.470000""#));
    assert!(html.contains(r#"<ol class="timeline">"#));

    let res = w
        .post_form(
            &head,
            &format!("{}/actions", page_url(&id)),
            &[
                ("_csrf", CSRF),
                ("action", "assign"),
                ("lead_unit", "phong_tnmt"),
                ("coordinating_units", "ubnd_tan_phong"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{}?done=assign", page_url(&id)));
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(r.state, State::Assigned);
    let a = r.assignment.expect("an assignment");
    assert_eq!(a.lead_unit, "phong_tnmt");
    assert_eq!(a.coordinating_units, vec!["ubnd_tan_phong".to_string()]);

    let html = text(
        w.get(Some(&head), &format!("{}?done=assign", page_url(&id)))
            .await,
    )
    .await;
    assert!(html.contains("Đã thực hiện: Giao xử lý"));
    assert!(html.contains("Còn "), "time left is shown");
}

#[tokio::test]
async fn an_invalid_form_shows_the_message_by_its_field_and_keeps_what_was_typed() {
    let w = world();
    let id = w.screened_report().await;
    let res = w
        .post_form(
            &actors::ioc_head(),
            &format!("{}/actions", page_url(&id)),
            &[
                ("_csrf", CSRF),
                ("action", "assign"),
                ("lead_unit", "khong_ton_tai"),
                ("note", "ghi chú đang gõ dở"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    let select = html.find(r#"name="lead_unit""#).expect("the unit select");
    let err = html.find("field-error").expect("a message by a field");
    let note = html.find(r#"name="note""#).expect("the note");
    assert!(
        select < err && err < note,
        "the message is by the unit, before the note"
    );
    assert!(
        html[err..].contains("lead_unit"),
        "core's message names the field"
    );
    assert!(
        html.contains("ghi chú đang gõ dở"),
        "what was typed is kept"
    );
    assert!(html.contains(r#"<details class="action" data-action="assign" open"#));

    let res = w
        .post_form(
            &actors::ioc_head(),
            &format!("{}/actions", page_url(&id)),
            &[("_csrf", CSRF), ("action", "reject"), ("reason", "  ")],
        )
        .await;
    let html = text(res).await;
    assert!(
        html.contains("không được để trống"),
        "core's message for the empty reason"
    );
}

#[tokio::test]
async fn an_action_that_lost_a_race_shows_the_current_state() {
    let w = world();
    let id = w.assigned_report("phong_tnmt").await;
    let res = w
        .post_form(
            &actors::ioc_head(),
            &format!("{}/actions", page_url(&id)),
            &[
                ("_csrf", CSRF),
                ("action", "assign"),
                ("lead_unit", "phong_tnmt"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = text(res).await;
    assert!(html.contains("Phản ánh vừa được cập nhật bởi người khác — đây là trạng thái hiện tại"));
    assert!(html.contains("Đã giao xử lý"));
}

#[tokio::test]
async fn pages_carry_the_csp_and_no_inline_script_or_style() {
    let w = world();
    let id = w.assigned_report("phong_tnmt").await;
    let res = w
        .get(Some(&actors::unit_head("phong_tnmt")), &page_url(&id))
        .await;
    let csp = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = text(res).await;
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..html[i..].find('>').map(|e| i + e).unwrap_or(html.len())];
        assert!(tag.contains(" src="), "inline script: {tag}");
    }
    assert!(!html.contains(" style="), "no inline style");
}

#[tokio::test]
async fn a_unit_accepts_uploads_evidence_and_resolves_and_the_file_is_served_by_redirect() {
    let w = world();
    let id = w.assigned_report("phong_tnmt").await;
    let staff = actors::unit_staff("phong_tnmt");
    let actions = format!("{}/actions", page_url(&id));
    let res = w
        .post_form(
            &staff,
            &actions,
            &[("_csrf", CSRF), ("action", "accept"), ("note", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let html = text(w.get(Some(&staff), &page_url(&id)).await).await;
    assert!(html.contains(r#"<input id="evidence-file" type="file" accept="image/*,video/*,audio/*,application/pdf" capture="environment""#), "{html}");
    assert!(html.contains(r#"data-upload="evidence-ids""#));
    assert!(html.contains(r#"<input id="evidence-ids" type="hidden" name="evidence""#));

    // Resolving without evidence: core's message by the upload field, the summary kept.
    let res = w
        .post_form(
            &staff,
            &actions,
            &[
                ("_csrf", CSRF),
                ("action", "resolve"),
                ("summary", "Đã thu gom rác"),
                ("evidence", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("Điều 7.3") && html.contains("Đã thu gom rác"));

    // The upload slot: CSRF header required, then the ticket.
    let upload = |with_token: bool, body: &str| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/console/uploads")
            .header(header::COOKIE, w.cookie(&staff))
            .header(header::CONTENT_TYPE, "application/json");
        if with_token {
            b = b.header("x-csrf-token", CSRF);
        }
        b.body(Body::from(body.to_string())).expect("a request")
    };
    let res = w
        .send(upload(false, r#"{"content_type":"image/jpeg","size":4}"#))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = w
        .send(upload(true, r#"{"content_type":"text/html","size":4}"#))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .contains("problem+json"));
    let res = w
        .send(upload(true, r#"{"content_type":"image/jpeg","size":4000}"#))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ticket: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    let aid = ticket["attachment_id"].as_str().expect("an id").to_string();
    let key = ticket["upload"]["url"]
        .as_str()
        .expect("a url")
        .trim_start_matches("memory://")
        .to_string();
    let jpeg = phananh_testkit::samples::jpeg_with_gps(
        32,
        24,
        phananh_testkit::samples::SAMPLE_LAT,
        phananh_testkit::samples::SAMPLE_LON,
        1,
    );
    w.media
        .write(&key, &jpeg, "image/jpeg")
        .await
        .expect("uploaded");

    let res = w
        .post_form(
            &staff,
            &actions,
            &[
                ("_csrf", CSRF),
                ("action", "resolve"),
                ("summary", "Đã thu gom rác"),
                ("evidence", &aid),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(r.state, State::Resolved);

    let html = text(w.get(Some(&staff), &page_url(&id)).await).await;
    let href = format!("/console/reports/{id}/attachments/{aid}");
    assert!(
        html.contains(&format!(r#"<img src="{href}""#)),
        "the photo is shown"
    );
    assert!(
        html.contains("Gợi ý vị trí chụp") && html.contains("22.39650, 103.45820"),
        "the photo's GPS is a staff hint"
    );
    let res = w.get(Some(&staff), &href).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("memory://media/"));

    // The IOC head publishes with a chosen public photo.
    let head = actors::ioc_head();
    let html = text(w.get(Some(&head), &page_url(&id)).await).await;
    assert!(
        html.contains(r#"data-action="publish""#) && html.contains(r#"name="public_attachments""#)
    );
    let res = w
        .post_form(
            &head,
            &actions,
            &[
                ("_csrf", CSRF),
                ("action", "publish"),
                ("public_answer", "Đã xử lý xong."),
                ("public_attachments", &aid),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(r.state, State::Published);
    assert!(r.attachments.iter().all(|a| a.public));
}

#[tokio::test]
async fn a_leaders_directive_is_a_signed_entry_and_a_reveal_is_shown_once() {
    let w = world();
    let id = w.assigned_report("phong_tnmt").await;
    let leader = Actor::new("leader-1", Role::Leader, None);
    let actions = format!("{}/actions", page_url(&id));
    let res = w
        .post_form(
            &leader,
            &actions,
            &[
                ("_csrf", CSRF),
                ("action", "directive"),
                ("text", "Xử lý dứt điểm trong tuần."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(w.get(Some(&leader), &page_url(&id)).await).await;
    let at = html
        .find(r#"<li class="directive""#)
        .expect("a directive entry");
    assert!(html[at..].contains("Xử lý dứt điểm trong tuần."));
    assert!(html[at..].contains(r#"<code class="hash">"#));

    let res = w
        .post_form(
            &leader,
            &actions,
            &[
                ("_csrf", CSRF),
                ("action", "reveal_reporter"),
                ("reason", "Cần liên hệ xác minh"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains(NAME), "revealed on the resulting page");
    let again = text(w.get(Some(&leader), &page_url(&id)).await).await;
    assert!(!again.contains(NAME), "only once");
}
