//! The delivery log and its dead letters on AWS (issue 13 items 1–2), in-process against the
//! emulator (moto): an e-mail SES refuses (the sender is not a verified identity) is tried
//! three times with backoff, then kept as a dead letter; the office sees it in the staff API
//! (the report's log and the dead letters), re-sends it once the sender is verified, and the
//! log shows both rounds: the dead one with SES's error, the new one with SES's message id.
//! Only the office and the IOC may see and re-send (Đ.7.2), through the same route and core
//! permission as the embedded runtime.

mod support;
use phananh_aws::SnsNotifier;
use phananh_core::delivery::RetrySchedule;
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_core::CityRules;
use phananh_lambda::Runtime;
use phananh_tests::fixtures::unique;
use phananh_tests::moto::{provision, Moto};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{call, request};

const FROM: &str = "ioc-deliveries@laichau.gov.vn";

fn office() -> Value {
    json!({"sub": "cognito-office-0001", "cognito:groups": "[office_admin]"})
}
fn kinhte() -> Value {
    json!({"sub": "cognito-kinhte-0001", "cognito:groups": "[unit_staff]", "custom:unit": "phong_kinh_te"})
}

fn get(path: &str, query: &[(&str, &str)], claims: Value) -> Value {
    let mut ev = request("api-staff-queue.json", Some(path), None, Some(claims));
    ev["routeKey"] = json!(format!("GET {path}"));
    ev["requestContext"]["routeKey"] = json!(format!("GET {path}"));
    if !query.is_empty() {
        let raw: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        ev["rawQueryString"] = json!(raw.join("&"));
        ev["queryStringParameters"] = json!(query
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect::<serde_json::Map<_, _>>());
    }
    ev
}

fn post(path: &str, claims: Value) -> Value {
    let mut ev = request(
        "api-staff-action-assign.json",
        Some(path),
        Some(json!({})),
        Some(claims),
    );
    ev["routeKey"] = json!(format!("POST {path}"));
    ev["requestContext"]["routeKey"] = json!(format!("POST {path}"));
    ev
}

/// SES send requests moto received for `to`.
fn ses_sends(to: &str) -> usize {
    Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.url.contains("/v2/email/outbound-emails"))
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter(|v| v["Destination"]["ToAddresses"][0] == to)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_e_mail_is_dead_lettered_then_re_sent_by_the_office_and_the_log_shows_both_rounds(
) {
    let p = provision().await.expect("provision");
    let mut settings = p.settings.clone();
    settings.ses_from = Some(FROM.into());
    let rt = Runtime::new(
        &p.clients,
        settings.clone(),
        CityRules::laichau_default().unwrap(),
    );

    // A report, submitted through the citizen route.
    let (st, r) = call(&rt, request("api-submit-report.json", None, None, None)).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let report_id = r["id"].as_str().unwrap().to_string();

    // The notify function's notifier, its backoff shortened: SES refuses the unverified sender.
    let notifier = SnsNotifier::from_settings(&p.clients, &settings).with_schedule(RetrySchedule {
        max_attempts: 3,
        first_backoff: chrono::Duration::milliseconds(10),
        max_backoff: chrono::Duration::milliseconds(20),
    });
    let to = format!("{}@laichau.gov.vn", unique("kinhte"));
    let mail = Notification {
        id: unique("assigned-email"),
        channel: Channel::Email,
        to: to.clone(),
        unit: Some("phong_kinh_te".into()),
        subject: Some("Phản ánh mới được giao".into()),
        body: "Kính gửi Phòng Kinh tế,\nđề nghị xử lý phản ánh.".into(),
        report_id: Some(ReportId(report_id.clone())),
    };
    notifier
        .send(&mail)
        .await
        .expect("a refused send is recorded, not an error");
    assert_eq!(ses_sends(&to), 3, "three attempts, then the dead letter");
    notifier.send(&mail).await.expect("the same id again");
    assert_eq!(
        ses_sends(&to),
        3,
        "a dead letter is not sent again by a redelivery"
    );

    // The office sees it in the report's log and among the dead letters.
    let log_path = format!("/v1/staff/reports/{report_id}/deliveries");
    let (st, log) = call(&rt, get(&log_path, &[], office())).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let rec = &log["items"].as_array().expect("a list")[0];
    assert_eq!(rec["id"], mail.id.as_str());
    assert_eq!(rec["status"], "dead", "{rec}");
    assert_eq!(rec["attempts"], 3);
    assert_eq!(rec["provider"], "ses");
    assert!(
        rec["error"].as_str().unwrap_or_default().contains("ses"),
        "{rec}"
    );
    assert_eq!(rec["to"], to.as_str(), "a unit's address is shown");
    let (st, dead) = call(
        &rt,
        get(
            "/v1/staff/deliveries",
            &[("channel", "email"), ("status", "dead")],
            office(),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{dead}");
    assert!(dead["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == mail.id.as_str() && d["status"] == "dead"));

    // Đ.7.2: a unit's staff may neither see nor re-send.
    let resend_path = format!("/v1/staff/deliveries/{}/resend", mail.id);
    let (st, _) = call(&rt, get(&log_path, &[], kinhte())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(&rt, post(&resend_path, kinhte())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(ses_sends(&to), 3);

    // The cause is fixed (the sender verified); the office re-sends.
    p.clients
        .sesv2
        .create_email_identity()
        .email_identity(FROM)
        .send()
        .await
        .expect("verified sender");
    let (st, v) = call(&rt, post(&resend_path, office())).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "sent", "{v}");
    assert_eq!(ses_sends(&to), 4, "the one message re-sent once");
    let (st, again) = call(&rt, post(&resend_path, office())).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a sent notification is not re-sent: {again}"
    );
    assert_eq!(ses_sends(&to), 4);

    // The log shows both rounds.
    let (_, log) = call(&rt, get(&log_path, &[], office())).await;
    let rec = &log["items"].as_array().unwrap()[0];
    assert_eq!(rec["status"], "sent");
    assert_eq!(rec["attempts"], 1);
    assert_eq!(rec["provider"], "ses");
    assert!(
        !rec["provider_message_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{rec}"
    );
    assert!(rec["error"].is_null(), "{rec}");
    let earlier = rec["earlier"].as_array().expect("the earlier round");
    assert_eq!(earlier.len(), 1, "{rec}");
    assert_eq!(earlier[0]["status"], "dead");
    assert_eq!(earlier[0]["attempts"], 3);
    assert!(earlier[0]["error"]
        .as_str()
        .unwrap_or_default()
        .contains("ses"));
    let (_, dead) = call(
        &rt,
        get("/v1/staff/deliveries", &[("status", "dead")], office()),
    )
    .await;
    assert!(
        !dead["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == mail.id.as_str()),
        "no longer dead"
    );
}
