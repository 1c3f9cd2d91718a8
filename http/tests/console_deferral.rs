//! Đ.7.5 through the router: a leader or the IOC head decides on a unit's deferral from the
//! API and from the report page's two buttons; the target date is shown beside the regulated
//! deadline, each labelled, on the report page, the unit's queue, the leadership's list and
//! the reporter's tracking page; bad input is problem+json with a Vietnamese message and a
//! stable code.

mod common;

use axum::http::{Method, StatusCode};
use common::{text, world, World, CSRF};
use phananh_core::lifecycle::Command;
use phananh_core::model::{ReportId, State};
use phananh_testkit::actors;
use serde_json::json;

const UNIT: &str = "phong_tnmt";

/// A citizen's report assigned to [`UNIT`] and deferred by it to 20/03/2025 (the world's clock
/// is Monday 03/03/2025 09:00).
async fn deferred(w: &World) -> ReportId {
    let id = w.submit("Rác thải ùn ứ trước chợ").await;
    let app = &w.state.app;
    app.classify(&id).await.expect("screened");
    let assign = Command::Assign {
        lead_unit: UNIT.into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(&id, &actors::ioc_head(), assign)
        .await
        .expect("assigned");
    let defer = Command::Defer {
        reason: "Chờ kinh phí thuê xe thu gom".into(),
        expected_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 20).expect("a date"),
    };
    app.act(&id, &actors::unit_staff(UNIT), defer)
        .await
        .expect("deferred");
    id
}

fn actions(id: &ReportId) -> String {
    format!("/v1/staff/reports/{id}/actions")
}

#[tokio::test]
async fn d7_5_the_api_decides_a_deferral_and_refuses_bad_input_with_stable_codes() {
    let w = world();
    let id = deferred(&w).await;
    let url = actions(&id);
    // Wrong role: the unit's head, the office.
    for who in [actors::unit_head(UNIT), actors::office()] {
        let (s, p) = w
            .api(
                &who,
                Method::POST,
                &url,
                Some(json!({"action": "decide_deferral", "accept": true})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
        assert_eq!(p["code"], "forbidden_role");
    }
    // A date in the past.
    let (s, p) = w
        .api(
            &actors::leader(),
            Method::POST,
            &url,
            Some(json!({"action": "decide_deferral", "accept": true, "target_date": "2025-03-01"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        (p["code"].as_str(), p["field"].as_str()),
        (Some("invalid_input"), Some("target_date"))
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("không được ở quá khứ"),
        "{p}"
    );
    // Accepted with a date of the leader's.
    let (s, v) = w
        .api(
            &actors::leader(),
            Method::POST,
            &url,
            Some(json!({"action": "decide_deferral", "accept": true, "target_date": "2025-03-14"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let report = if v.get("report").is_some() {
        &v["report"]
    } else {
        &v
    };
    assert_eq!(report["deferral"]["decision"]["accepted"], true, "{v}");
    assert_eq!(report["deferral"]["decision"]["target_date"], "2025-03-14");
    assert_eq!(report["deferral"]["decision"]["role"], "leader");
    assert_eq!(report["state"], "deferred");
    // No pending deferral any more.
    let (s, p) = w
        .api(
            &actors::ioc_head(),
            Method::POST,
            &url,
            Some(json!({"action": "decide_deferral", "accept": false, "note": "Không đồng ý"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "invalid_state");
    assert_eq!(
        p["detail"],
        "Phản ánh không có đề nghị gia hạn nào đang chờ quyết định."
    );
    // The staff view carries it; the regulated deadline is unchanged.
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(
        r.target_date(),
        chrono::NaiveDate::from_ymd_opt(2025, 3, 14)
    );
    assert_eq!(r.due_at(), r.assignment.as_ref().map(|a| a.due_at));
}

#[tokio::test]
async fn d7_5_the_report_page_offers_the_decision_to_a_leader_and_shows_the_target_beside_the_deadline(
) {
    let w = world();
    let id = deferred(&w).await;
    let page = format!("/console/reports/{id}");
    // The IOC head and a leader get the form with its two buttons; the unit does not.
    for who in [actors::ioc_head(), actors::leader()] {
        let html = text(w.get(Some(&who), &page).await).await;
        assert!(
            html.contains(r#"details class="action" data-action="decide_deferral""#),
            "{who:?}"
        );
        assert!(html.contains(r#"name="accept" value="true""#));
        assert!(html.contains(r#"name="accept" value="false""#));
        assert!(html.contains("Chờ Lãnh đạo hoặc Trưởng bộ phận IOC quyết định"));
    }
    let unit = actors::unit_staff(UNIT);
    let html = text(w.get(Some(&unit), &page).await).await;
    assert!(!html.contains(r#"details class="action" data-action="decide_deferral""#));

    // Refusing without a reason: the form comes back with core's message by the field.
    let form = format!("{page}/actions");
    let res = w
        .post_form(
            &actors::leader(),
            &form,
            &[
                ("_csrf", CSRF),
                ("action", "decide_deferral"),
                ("target_date", ""),
                ("note", ""),
                ("accept", "false"),
            ],
        )
        .await;
    let html = text(res).await;
    assert!(html.contains("không được để trống"), "{html}");
    assert_eq!(
        w.state.app.load(&id).await.expect("stored").state,
        State::Deferred
    );

    // Accepting with the unit's date (the date field left empty).
    let res = w
        .post_form(
            &actors::leader(),
            &form,
            &[
                ("_csrf", CSRF),
                ("action", "decide_deferral"),
                ("target_date", ""),
                ("note", ""),
                ("accept", "true"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!(
        r.target_date(),
        chrono::NaiveDate::from_ymd_opt(2025, 3, 20)
    );

    // Both dates, each labelled: the report page, the unit's queue, the leadership's list.
    let html = text(w.get(Some(&actors::ioc_head()), &page).await).await;
    assert!(html.contains("Hạn xử lý theo quy định: "), "{html}");
    assert!(html.contains("Hạn giải quyết mới (đã chấp nhận gia hạn): <strong>20/03/2025</strong>"));
    assert!(html.contains("Đã chấp nhận, hạn mới 20/03/2025"));
    assert!(
        !html.contains(r#"details class="action" data-action="decide_deferral""#),
        "decided once"
    );
    let queue = text(w.get(Some(&unit), "/console/unit").await).await;
    assert!(
        queue.contains("Đã chấp nhận, hạn mới 20/03/2025"),
        "{queue}"
    );
    assert!(queue.contains("Hạn xử lý theo quy định: "));
    let list = text(w.get(Some(&actors::leader()), "/console/leadership").await).await;
    assert!(list.contains("Đã chấp nhận, hạn mới 20/03/2025"), "{list}");
}
