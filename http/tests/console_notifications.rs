//! The delivery log in the console and the API (Đ.7.2): "Tin nhắn sẽ được gửi" for the office
//! and the IOC, the report page's "Thông báo đã gửi", dead letters re-sent through a form
//! (CSRF checked), the reporter's address never shown, units refused.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{location, text, world, World, CSRF};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_testkit::actors::{ioc_operator, office};

async fn seed(w: &World) -> phananh_core::model::ReportId {
    let id = w.submit("Rác thải ùn ứ trước chợ Tân Phong").await;
    let unit_sms = Notification {
        id: format!("{id}:evt-1:sms:+84912000111"),
        channel: Channel::Sms,
        to: "+84912000111".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: None,
        body: "PA moi duoc giao cho don vi, han xu ly 08:00 26/11/2026".into(),
        report_id: Some(id.clone()),
    };
    let reporter_sms = Notification {
        id: format!("{id}:evt-2:sms:reporter"),
        channel: Channel::Sms,
        to: "+84912345678".into(),
        unit: None,
        subject: None,
        body: "Phan anh cua ban da duoc tiep nhan".into(),
        report_id: Some(id.clone()),
    };
    w.notifier.fail_to("+84912000111", true);
    w.notifier.send(&unit_sms).await.unwrap();
    w.notifier.send(&reporter_sms).await.unwrap();
    id
}

#[tokio::test]
async fn the_office_sees_the_sms_and_re_sends_a_dead_letter() {
    let w = world();
    seed(&w).await;
    let res = w.get(&office(), "/console/notifications").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("Tin nhắn sẽ được gửi"), "{page}");
    assert!(page.contains("PA moi duoc giao cho don vi"));
    assert!(page.contains("Gửi không thành công"));
    assert!(page.contains("Gửi lại"));
    assert!(page.contains("người phản ánh"));
    assert!(
        !page.contains("912345678"),
        "the reporter's number is never shown"
    );

    let dead_id = w
        .notifier
        .all()
        .iter()
        .find(|n| n.unit.is_none())
        .map(|n| n.id.replace("evt-2:sms:reporter", "evt-1:sms:+84912000111"))
        .unwrap();
    // Without the CSRF token: refused, nothing sent.
    w.notifier.fail_to("+84912000111", false);
    let res = w
        .post_form(
            &office(),
            "/console/notifications/resend",
            &[("id", &dead_id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!w.notifier.all().iter().any(|n| n.id == dead_id));
    let res = w
        .post_form(
            &office(),
            "/console/notifications/resend",
            &[
                ("_csrf", CSRF),
                ("id", &dead_id),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/console/notifications?done=resent");
    assert!(w.notifier.all().iter().any(|n| n.id == dead_id));
    let page = text(w.get(&office(), "/console/notifications?done=resent").await).await;
    assert!(page.contains("Đã gửi lại thông báo."));
    assert!(!page.contains("Gửi không thành công</td>"));
    // Both rounds: the re-sent one, and the dead letter before it with its error.
    assert!(
        page.contains("Lần trước (") && page.contains("refused by the test"),
        "{page}"
    );
}

#[tokio::test]
async fn the_report_page_shows_the_delivery_log_to_the_ioc_not_to_units() {
    let w = world();
    let id = seed(&w).await;
    let url = format!("/console/reports/{}", urlencoding::encode(id.as_str()));
    let page = text(w.get(&ioc_operator(), &url).await).await;
    assert!(page.contains("Thông báo đã gửi"), "{page}");
    assert!(page.contains("PA moi duoc giao cho don vi"));
    let unit = Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"));
    let res = w.get(&unit, "/console/notifications").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_lists_a_reports_deliveries_and_the_dead_letters() {
    let w = world();
    let id = seed(&w).await;
    let get = |uri: String, actor: Actor| {
        Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(header::AUTHORIZATION, w.bearer(&actor))
            .body(Body::empty())
            .unwrap()
    };
    let res = w
        .send(get(
            format!("/v1/staff/reports/{}/deliveries", id.as_str()),
            office(),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .any(|d| d["status"] == "dead" && d["to"] == "+84912000111"));
    assert!(items.iter().any(|d| d["to"] == "người phản ánh"));

    let res = w
        .send(get("/v1/staff/deliveries?status=dead".into(), office()))
        .await;
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let res = w
        .send(get("/v1/staff/deliveries?status=lost".into(), office()))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let unit = Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"));
    let res = w.send(get("/v1/staff/deliveries".into(), unit)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    w.notifier.fail_to("+84912000111", false);
    let dead = format!("{}:evt-1:sms:+84912000111", id.as_str());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/v1/staff/deliveries/{}/resend",
            urlencoding::encode(&dead)
        ))
        .header(header::AUTHORIZATION, w.bearer(&office()))
        .body(Body::empty())
        .unwrap();
    let res = w.send(req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["status"], "sent");
}
