//! The AWS runtime end to end, in-process against the local AWS-API emulator (moto):
//! API function → DynamoDB → its stream → relay function → SNS → SQS (filter policies) →
//! consumer functions → SNS alerts,
//! from submission to publication and escalation. Every handler is driven with an events/
//! sample.

mod support;
use chrono::{Duration, Utc};
use lambda_runtime::{Context, LambdaEvent};
use phananh_core::media::UploadCheck;
use phananh_core::ports::MediaStore;
use phananh_core::CityRules;
use phananh_lambda::{consume, escalate, media_event, relay_stream, Consumer, Runtime};
use phananh_testkit::fakes::FixedClock;
use phananh_tests::moto::{
    delete_succeeded, drain_bodies, provision, receive_as_lambda_event, Moto, Provisioned,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use support::{call, request, sample, StreamRelay};

fn ioc() -> Value {
    json!({"sub": "cognito-ioc-head-0001", "cognito:groups": "[ioc_head]", "custom:unit": "ioc"})
}
fn kinhte() -> Value {
    json!({"sub": "cognito-kinhte-0001", "cognito:groups": "[unit_staff]", "custom:unit": "phong_kinh_te"})
}
fn citizen() -> Value {
    json!({"sub": "cognito-citizen-0001"})
}

/// Presigned POST upload (the form a browser sends) + the media function's ObjectCreated
/// check, which makes the photo's public copy.
async fn upload(rt: &Runtime, claims: Value) -> String {
    let jpeg = phananh_testkit::samples::jpeg(8, 8);
    let (st, t) = call(
        rt,
        request(
            "api-upload.json",
            None,
            Some(json!({"content_type": "image/jpeg", "size": jpeg.len()})),
            Some(claims),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let ticket: phananh_core::ports::PresignedUrl =
        serde_json::from_value(t["upload"].clone()).unwrap();
    assert_eq!(ticket.method, "POST");
    let (status, body) = phananh_tests::upload::upload(&ticket, jpeg, "image/jpeg").await;
    assert!((200..300).contains(&status), "POST {status}: {body}");
    let key = ticket
        .fields
        .iter()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut ev = sample("s3-object-created.json");
    ev["Records"][0]["s3"]["bucket"]["name"] = json!(rt.settings.bucket);
    ev["Records"][0]["s3"]["object"]["key"] = json!(key);
    let checks = media_event(
        rt,
        LambdaEvent::new(serde_json::from_value(ev).unwrap(), Context::default()),
    )
    .await
    .unwrap();
    assert!(
        matches!(checks[0], UploadCheck::Accepted { .. }),
        "{checks:?}"
    );
    t["attachment_id"].as_str().unwrap().to_string()
}

/// What the event source mappings do: the table's stream to the relay (which publishes the
/// events of the writes so far), then the consumer's queue: receive, invoke, delete what
/// succeeded, and the consumer's own writes through the relay again.
async fn deliver(
    p: &Provisioned,
    relay: &mut StreamRelay,
    rt: &Runtime,
    consumer: Consumer,
) -> usize {
    relay.pump(rt).await;
    let q = &p.queues[consumer.as_str()];
    let mut handled = 0;
    for _ in 0..5 {
        let ev = receive_as_lambda_event(&p.clients, &q.url, 30, 1)
            .await
            .unwrap();
        if ev.records.is_empty() {
            break;
        }
        let n = ev.records.len();
        let resp = consume(
            rt,
            consumer,
            LambdaEvent::new(ev.clone(), Context::default()),
        )
        .await
        .unwrap();
        let failed: Vec<String> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert!(failed.is_empty(), "{consumer}: failures {failed:?}");
        delete_succeeded(&p.clients, &q.url, &ev, &failed)
            .await
            .unwrap();
        relay.pump(rt).await;
        handled += n;
    }
    handled
}

/// Units of the alerts published to the alerts topic since the last drain (e-mail fan-out).
async fn alert_units(p: &Provisioned) -> Vec<String> {
    drain_bodies(&p.clients, &p.alerts_tap_url)
        .await
        .unwrap()
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter_map(|v| {
            v["MessageAttributes"]["unit"]["Value"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_submission_to_publication_and_escalation_on_the_emulator() {
    let p = provision().await.expect("provision");
    let mut rt = Runtime::new(
        &p.clients,
        p.settings.clone(),
        CityRules::laichau_default().unwrap(),
    );
    let clock = Arc::new(FixedClock::new(Utc::now()));
    rt.app = rt.app.clone().with_clock(clock.clone());
    let mut relay = StreamRelay::open(&p).await;
    let calls_before = Moto::shared().recorded_requests().len();

    // Intake: a citizen uploads a photo and submits.
    let photo = upload(&rt, citizen()).await;
    let mut body: Value =
        serde_json::from_str(sample("api-submit-report.json")["body"].as_str().unwrap()).unwrap();
    body["attachments"] = json!([photo]);
    let (st, r) = call(
        &rt,
        request("api-submit-report.json", None, Some(body.clone()), None),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    // The same Idempotency-Key (from the sample) again: the same report.
    let (st, again) = call(
        &rt,
        request("api-submit-report.json", None, Some(body), None),
    )
    .await;
    assert_eq!((st, &again["id"]), (StatusCode::OK, &r["id"]));

    // SNS → SQS (filter policy) → classify.
    assert_eq!(deliver(&p, &mut relay, &rt, Consumer::Classify).await, 1);
    let staff_path = format!("/v1/staff/reports/{id}");
    let (_, v) = call(
        &rt,
        request("api-staff-queue.json", Some(&staff_path), None, Some(ioc())),
    )
    .await;
    assert_eq!(v["state"], "screened", "{v}");

    // Đ.7.2: the IOC head assigns; the unit and leadership are alerted, nobody else.
    let actions = format!("/v1/staff/reports/{id}/actions");
    let (st, v) = call(
        &rt,
        request("api-staff-action-assign.json", Some(&actions), None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let a = &v["assignment"];
    let due = chrono::DateTime::parse_from_rfc3339(a["due_at"].as_str().unwrap()).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(a["assigned_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - at, Duration::hours(4));
    drain_bodies(&p.clients, &p.alerts_tap_url).await.unwrap();
    assert!(deliver(&p, &mut relay, &rt, Consumer::Notify).await >= 2);
    let mut units = alert_units(&p).await;
    units.sort();
    units.dedup();
    assert_eq!(
        units,
        vec!["lanh_dao_ubnd", "phong_kinh_te", "ubnd_tan_phong"]
    );
    // Đ.7.2: the IOC reads who was told, by which channel, with SNS's message id (the notify
    // function's delivery log, issue 13).
    let (st, log) = call(
        &rt,
        request(
            "api-staff-queue.json",
            Some(&format!("/v1/staff/reports/{id}/deliveries")),
            None,
            Some(ioc()),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let items = log["items"].as_array().expect("the log");
    assert!(items.len() >= 3, "{log}");
    for d in items {
        assert_eq!(d["status"], "sent", "{d}");
        assert_eq!(d["report_id"], id.as_str());
        assert!(
            !d["provider_message_id"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{d}"
        );
    }
    assert!(items.iter().any(|d| d["unit"] == "phong_kinh_te"), "{log}");

    // The unit handles it with evidence; the IOC publishes.
    let (st, v) = call(
        &rt,
        request("api-unit-action-accept.json", Some(&actions), None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let evidence = upload(&rt, kinhte()).await;
    let (st, v) = call(&rt, request("api-unit-action-accept.json", Some(&actions), Some(json!({"action": "resolve", "summary": "Đã xử phạt, yêu cầu niêm yết giá", "evidence": [evidence]})), None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call(&rt, request("api-staff-action-assign.json", Some(&actions), Some(json!({"action": "publish", "public_answer": "Cơ sở đã bị xử phạt.", "public_attachments": [evidence]})), None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    deliver(&p, &mut relay, &rt, Consumer::Notify).await;
    assert_eq!(deliver(&p, &mut relay, &rt, Consumer::Publish).await, 1);
    let (st, public) = call(
        &rt,
        request(
            "api-public-reports.json",
            Some(&format!("/v1/public/reports/{id}")),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{public}");
    assert!(!public.to_string().contains("0987654321"));
    assert_eq!(public["public_answer"], "Cơ sở đã bị xử phạt.");
    let calls = Moto::shared().recorded_requests().len() - calls_before;
    eprintln!("AWS calls for one report from upload to publication (incl. test harness receives/deletes): {calls}");

    // Escalation: a second report, assigned and left alone past its thresholds.
    let mut body2: Value =
        serde_json::from_str(sample("api-submit-report.json")["body"].as_str().unwrap()).unwrap();
    body2["title"] = json!("Quán karaoke bán nước giá cao");
    let mut ev2 = request("api-submit-report.json", None, Some(body2), None);
    ev2["headers"]["idempotency-key"] = json!("app-7f3c-0002");
    let (st, r2) = call(&rt, ev2).await;
    assert_eq!(st, StatusCode::CREATED, "{r2}");
    let id2 = r2["id"].as_str().unwrap().to_string();
    deliver(&p, &mut relay, &rt, Consumer::Classify).await;
    let (st, _) = call(
        &rt,
        request(
            "api-staff-action-assign.json",
            Some(&format!("/v1/staff/reports/{id2}/actions")),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    deliver(&p, &mut relay, &rt, Consumer::Notify).await;
    drain_bodies(&p.clients, &p.alerts_tap_url).await.unwrap();
    let schedule = || {
        LambdaEvent::new(
            serde_json::from_value(sample("schedule-escalate.json")).unwrap(),
            Context::default(),
        )
    };
    assert_eq!(
        escalate(&rt, schedule()).await.unwrap(),
        0,
        "nothing due yet"
    );
    clock.advance(Duration::hours(3)); // 75 % of 4 h
    assert_eq!(escalate(&rt, schedule()).await.unwrap(), 1);
    assert_eq!(
        escalate(&rt, schedule()).await.unwrap(),
        0,
        "each threshold exactly once"
    );
    assert_eq!(deliver(&p, &mut relay, &rt, Consumer::Notify).await, 1);
    assert!(alert_units(&p).await.iter().any(|u| u == "phong_kinh_te"));

    // The writer publishes nothing: the unit's acceptance is read from the table's stream by
    // the relay, which publishes it for nobody: no consumer receives an acceptance.
    drain_bodies(&p.clients, &p.events_tap_url).await.unwrap();
    let (st, _) = call(
        &rt,
        request(
            "api-unit-action-accept.json",
            Some(&format!("/v1/staff/reports/{id2}/actions")),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(relay.pump(&rt).await, 0, "an acceptance is not published");
    // The unit's return of the case reaches the events topic only when the relay reads it
    // from the table's stream, and only once.
    let (st, v) = call(
        &rt,
        request(
            "api-unit-action-accept.json",
            Some(&format!("/v1/staff/reports/{id2}/actions")),
            Some(json!({"action": "return", "reason": "Không thuộc thẩm quyền của phòng"})),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        drain_bodies(&p.clients, &p.events_tap_url)
            .await
            .unwrap()
            .is_empty(),
        "published by the writer"
    );
    // A relay that cannot publish fails its batch (the event source mapping retries it,
    // bisecting, then hands it to the on-failure queue): nothing is dropped silently.
    let mut settings = p.settings.clone();
    settings.events_topic_arn = format!("{}-missing", p.settings.events_topic_arn);
    let broken = Runtime::new(&p.clients, settings, CityRules::laichau_default().unwrap());
    let mut again = StreamRelay::open(&p).await;
    assert!(
        again.try_pump(&broken).await.is_err(),
        "a failed publish fails the batch"
    );
    assert_eq!(relay.pump(&rt).await, 1);
    assert_eq!(relay.pump(&rt).await, 0, "each event once");
    let tapped = drain_bodies(&p.clients, &p.events_tap_url).await.unwrap();
    assert_eq!(tapped.len(), 1);
    assert!(tapped[0].contains("report_returned"), "{tapped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_message_fails_alone_and_foreign_uploads_are_ignored() {
    let p = provision().await.expect("provision");
    let rt = Runtime::new(
        &p.clients,
        p.settings.clone(),
        CityRules::laichau_default().unwrap(),
    );
    // The classify sample: one event for an unknown report (ignored, succeeds) and one
    // unparseable body (reported alone, so SQS retries it and then moves it to the DLQ).
    let ev = serde_json::from_value(sample("sqs-classify.json")).unwrap();
    let resp = consume(
        &rt,
        Consumer::Classify,
        LambdaEvent::new(ev, Context::default()),
    )
    .await
    .unwrap();
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["msg-2".to_string()]);
    for name in ["sqs-notify.json", "sqs-publish.json"] {
        let ev = serde_json::from_value(sample(name)).unwrap();
        let resp = consume(
            &rt,
            Consumer::Notify,
            LambdaEvent::new(ev, Context::default()),
        )
        .await
        .unwrap();
        assert!(resp.batch_item_failures.is_empty(), "{name}");
    }
    // S3 events for a foreign bucket, a key we never issued, or a missing object: ignored.
    let mut ev = sample("s3-object-created.json");
    let run = |ev: Value| {
        let rt = rt.clone();
        async move {
            media_event(
                &rt,
                LambdaEvent::new(serde_json::from_value(ev).unwrap(), Context::default()),
            )
            .await
            .unwrap()
        }
    };
    assert!(
        matches!(&run(ev.clone()).await[0], UploadCheck::Ignored { reason } if reason == "foreign bucket")
    );
    ev["Records"][0]["s3"]["bucket"]["name"] = json!(rt.settings.bucket);
    assert!(
        matches!(&run(ev.clone()).await[0], UploadCheck::Ignored { reason } if reason == "unknown slot")
    );
    ev["Records"][0]["s3"]["object"]["key"] = json!("public/../../etc/passwd");
    assert!(
        matches!(&run(ev.clone()).await[0], UploadCheck::Ignored { reason } if reason == "foreign key")
    );
    // An upload whose bytes are not what it claims is rejected and deleted.
    let (st, t) = call(
        &rt,
        request(
            "api-upload.json",
            None,
            Some(json!({"content_type": "image/jpeg", "size": 100})),
            Some(citizen()),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let ticket: phananh_core::ports::PresignedUrl =
        serde_json::from_value(t["upload"].clone()).unwrap();
    let key = ticket
        .fields
        .iter()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .unwrap();
    let media = phananh_aws::S3MediaStore::from_settings(&p.clients, &rt.settings);
    media
        .write(&key, b"<html>not a photo</html>", "image/jpeg")
        .await
        .unwrap();
    ev["Records"][0]["s3"]["object"]["key"] = json!(key);
    assert!(matches!(&run(ev).await[0], UploadCheck::Rejected { .. }));
    assert_eq!(
        media.head(&key).await.unwrap(),
        None,
        "refused bytes are deleted"
    );
    // Anonymous requests cannot reach staff routes; a unit token without a unit is refused.
    let (st, _) = call(
        &rt,
        request("api-staff-queue.json", None, None, Some(json!({}))),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = call(
        &rt,
        request(
            "api-staff-queue.json",
            None,
            None,
            Some(json!({"sub": "x", "cognito:groups": "[unit_staff]"})),
        ),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_unit"))
    );
    // Local sign-in does not exist on AWS (Cognito issues tokens).
    let (st, _) = call(
        &rt,
        request(
            "api-upload.json",
            Some("/v1/auth/login"),
            Some(json!({"username": "a", "password": "b"})),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The relay with the stream sample: the report item and the unreadable event item are
    // skipped, the submission is published, the acceptance (no consumer receives it) is not.
    drain_bodies(&p.clients, &p.events_tap_url).await.unwrap();
    let ev = serde_json::from_value(sample("dynamodb-stream-relay.json")).unwrap();
    assert_eq!(
        relay_stream(&rt, LambdaEvent::new(ev, Context::default()))
            .await
            .unwrap(),
        1
    );
    let tapped = drain_bodies(&p.clients, &p.events_tap_url).await.unwrap();
    assert_eq!(tapped.len(), 1);
    assert!(tapped[0].contains("report_submitted"), "{tapped:?}");
}
