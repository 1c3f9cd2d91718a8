//! AWS-only behaviour on a local moto server: SNS→SQS routing by filter policy, the SQS
//! partial-batch helper with its DLQ, redelivery, unit membership on reassignment, SMS/e-mail
//! specifics. (The port contracts themselves run in `contract_aws.rs`.)

use phananh_aws::aws_sdk_s3::types::ServerSideEncryption;
use phananh_aws::dynamo::stream::{events_of, StreamEvent};
use phananh_aws::topology::{Consumer, Topology, CONSUMERS, MAX_RECEIVE_COUNT};
use phananh_aws::{
    process_sqs_batch, unwrap_envelope, DynamoReportStore, S3MediaStore, SnsEventBus, SnsNotifier,
};
use phananh_core::model::{DomainEvent, EscalationLevel, EventEnvelope};
use phananh_core::ports::{
    Channel, EventBus, EventDelivery, MediaStore, Notification, Notifier, ReadWhole, ReportQuery,
    ReportStore, StoreError, UploadedBody, UploadedObject,
};
use phananh_tests::fixtures::*;
use phananh_tests::moto::{self, Moto};
use phananh_tests::stream_tap::StreamTap;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn all_event_kinds(r: &phananh_core::model::Report) -> Vec<EventEnvelope> {
    let kinds = vec![
        DomainEvent::ReportSubmitted,
        DomainEvent::ReportScreened {
            auto_assignable: true,
        },
        DomainEvent::ReportAssigned {
            lead_unit: "ubnd_tan_phong".into(),
            coordinating_units: vec![],
            due_at: at(600),
        },
        DomainEvent::DeadlineEscalated {
            threshold: "100".into(),
            level: EscalationLevel::Ioc,
            unit: "ubnd_tan_phong".into(),
        },
        DomainEvent::ReportPublished,
        DomainEvent::ReportRated { stars: 5 },
        DomainEvent::ReportAccepted,
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, e)| event(r, i as u32, e))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_policies_route_each_event_type_to_its_consumers_only() {
    let p = moto::provision().await.expect("provision");
    let bus = SnsEventBus::from_settings(&p.clients, &p.settings);
    let r = report(&unique("route"), at(0));
    let events = all_event_kinds(&r);
    bus.publish(&events).await.expect("publish");

    for c in CONSUMERS {
        let q = &p.queues[c.name()];
        let got: BTreeSet<String> = moto::drain_bodies(&p.clients, &q.url)
            .await
            .expect("drain")
            .iter()
            .map(|b| unwrap_envelope(b).expect("raw envelope").kind().to_string())
            .collect();
        let want: BTreeSet<String> = events
            .iter()
            .map(|e| e.kind())
            .filter(|k| c.receives(k))
            .map(str::to_string)
            .collect();
        assert!(!want.is_empty(), "{} receives some of the sample", c.name());
        assert_eq!(got, want, "queue {}", c.name());
    }
    // Timeline-only events reach nobody but the unfiltered test tap.
    assert!(!CONSUMERS.iter().any(|c| c.receives("report_accepted")));
    let tapped = moto::drain_bodies(&p.clients, &p.events_tap_url)
        .await
        .expect("tap");
    assert_eq!(tapped.len(), events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_message_reaches_the_dlq_while_its_batch_succeeds() {
    let p = moto::provision().await.expect("provision");
    let bus = SnsEventBus::from_settings(&p.clients, &p.settings);
    let q = p.queues[Consumer::Classify.name()].clone();
    let reports: Vec<_> = (0..3).map(|i| report(&unique("batch"), at(i))).collect();
    let good: Vec<EventEnvelope> = reports.iter().map(submitted).collect();
    bus.publish(&good).await.expect("publish");
    p.clients
        .sqs
        .send_message()
        .queue_url(&q.url)
        .message_body("{\"not\": \"an event\"")
        .send()
        .await
        .expect("send garbage");

    let handled: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut failures_seen = 0;
    // Lambda's loop: receive, handle, delete what succeeded; the rest comes back.
    for _ in 0..(MAX_RECEIVE_COUNT as usize + 5) {
        let ev = moto::receive_as_lambda_event(&p.clients, &q.url, 0, 0)
            .await
            .expect("receive");
        if ev.records.is_empty() {
            break;
        }
        let h = handled.clone();
        let resp = process_sqs_batch(ev.clone(), move |env: EventEnvelope| {
            let h = h.clone();
            async move {
                h.lock().expect("lock").push(env.id);
                Ok::<(), String>(())
            }
        })
        .await;
        let failed: Vec<String> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        failures_seen += failed.len();
        for id in &failed {
            let body = ev
                .records
                .iter()
                .find(|m| m.message_id.as_deref() == Some(id.as_str()))
                .and_then(|m| m.body.clone());
            assert_eq!(
                body.as_deref(),
                Some("{\"not\": \"an event\""),
                "only the garbage fails"
            );
        }
        moto::delete_succeeded(&p.clients, &q.url, &ev, &failed)
            .await
            .expect("delete");
    }
    let mut handled = handled.lock().expect("lock").clone();
    handled.sort();
    let mut want: Vec<String> = good.iter().map(|e| e.id.clone()).collect();
    want.sort();
    assert_eq!(handled, want, "each good event handled exactly once");
    assert_eq!(
        failures_seen, MAX_RECEIVE_COUNT as usize,
        "the garbage was tried maxReceiveCount times"
    );
    let dlq = moto::drain_bodies(&p.clients, &q.dlq_url)
        .await
        .expect("dlq");
    assert_eq!(dlq, vec!["{\"not\": \"an event\"".to_string()]);
    assert!(moto::drain_bodies(&p.clients, &q.url)
        .await
        .expect("queue")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_changes_nothing_thanks_to_the_version_check() {
    let p = moto::provision().await.expect("provision");
    let store = DynamoReportStore::from_settings(&p.clients, &p.settings);
    let bus = SnsEventBus::from_settings(&p.clients, &p.settings);
    let r = report(&unique("dup"), at(0));
    store
        .create(&r, &[submitted(&r)], None)
        .await
        .expect("create");
    let ev = submitted(&r);
    // The same event delivered twice (SNS/SQS are at-least-once).
    bus.publish(std::slice::from_ref(&ev))
        .await
        .expect("publish");
    bus.publish(std::slice::from_ref(&ev))
        .await
        .expect("publish again");

    // A consumer that applies the event as a versioned update of the report it names.
    let store = Arc::new(store);
    let applied: Arc<Mutex<u32>> = Arc::default();
    let q = p.queues[Consumer::Classify.name()].clone();
    for _ in 0..5 {
        let ev = moto::receive_as_lambda_event(&p.clients, &q.url, 30, 0)
            .await
            .expect("receive");
        if ev.records.is_empty() {
            break;
        }
        let (s, a) = (store.clone(), applied.clone());
        let resp = process_sqs_batch(ev.clone(), move |env: EventEnvelope| {
            let (s, a) = (s.clone(), a.clone());
            async move {
                let current = s.get(&env.report_id).await?.ok_or(StoreError::NotFound)?;
                let next = in_state(
                    next_version(&current, "sàng lọc"),
                    phananh_core::model::State::Screened,
                );
                let screened = event(
                    &next,
                    0,
                    DomainEvent::ReportScreened {
                        auto_assignable: false,
                    },
                );
                match s.update(&next, env.version, &[screened]).await {
                    Ok(()) => {
                        *a.lock().expect("lock") += 1;
                        Ok(())
                    }
                    // Already applied by the first delivery.
                    Err(StoreError::Conflict) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        })
        .await;
        assert!(resp.batch_item_failures.is_empty());
        moto::delete_succeeded(&p.clients, &q.url, &ev, &[])
            .await
            .expect("delete");
    }
    assert_eq!(*applied.lock().expect("lock"), 1, "applied once");
    let stored = store.get(&r.id).await.expect("get").expect("present");
    assert_eq!(stored.version, 2);
    // The table's stream carried the events of the create and of the one applied update.
    let mut tap = StreamTap::open(&p.clients, &p.settings.table)
        .await
        .expect("stream");
    assert_eq!(
        streamed_ids(&mut tap).await,
        vec![submitted(&r).id, format!("{}:2:0", r.id)]
    );
}

/// The ids of the events the stream carried since the last read, as the relay reads them.
async fn streamed_ids(tap: &mut StreamTap) -> Vec<String> {
    let batch: StreamEvent =
        serde_json::from_value(tap.next_batch().await.expect("records")).expect("stream event");
    let got = events_of(&batch);
    assert!(got.unreadable.is_empty(), "{:?}", got.unreadable);
    got.events.into_iter().map(|e| e.id).collect()
}

/// Events through DynamoDB Streams: exactly the events of committed changes reach the
/// stream, in commit order — none of a refused create, a stale update or a reused
/// idempotency key — and the store keeps no outbox to poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_carries_exactly_the_events_of_committed_changes() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    assert_eq!(store.event_delivery(), EventDelivery::Stream);
    let mut tap = StreamTap::open(&clients, &settings.table)
        .await
        .expect("stream");
    let r = report(&unique("st"), at(0));
    let e0 = submitted(&r);
    let e1 = event(
        &r,
        1,
        DomainEvent::ReportScreened {
            auto_assignable: true,
        },
    );
    let key = unique("citizen:key");
    store
        .create(&r, &[e0.clone(), e1.clone()], Some(&key))
        .await
        .expect("create");
    // Refused: same id; same idempotency key; stale version.
    let mut other = report(r.id.as_str(), at(5));
    other.title = "Khác".into();
    let refused = event(&other, 7, DomainEvent::ReportSubmitted);
    assert_eq!(
        store
            .create(&other, std::slice::from_ref(&refused), None)
            .await,
        Err(StoreError::AlreadyExists)
    );
    let again = report(&unique("st"), at(1));
    let replay = submitted(&again);
    store
        .create(&again, std::slice::from_ref(&replay), Some(&key))
        .await
        .expect("replayed");
    let r2 = next_version(&r, "x");
    let e2 = event(&r2, 0, DomainEvent::ReportAccepted);
    store
        .update(&r2, 1, std::slice::from_ref(&e2))
        .await
        .expect("update");
    let stale = next_version(&r, "cũ");
    let e_stale = event(&stale, 3, DomainEvent::ReportAccepted);
    assert_eq!(
        store.update(&stale, 1, &[e_stale]).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(streamed_ids(&mut tap).await, vec![e0.id, e1.id, e2.id]);
    assert_eq!(
        streamed_ids(&mut tap).await,
        Vec::<String>::new(),
        "read once"
    );
    assert_eq!(store.pending_events(100).await, Ok(vec![]), "no outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_moves_the_report_between_unit_queues() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let (a, b, c) = (unique("unit-a"), unique("unit-b"), unique("unit-c"));
    let r1 = assigned(report(&unique("re"), at(0)), &a, &[&b], at(600));
    store.create(&r1, &[], None).await.expect("create");
    let by_unit = |u: &str| ReportQuery {
        unit: Some(u.to_string()),
        limit: 10,
        ..Default::default()
    };
    for u in [&a, &b] {
        let page = store.query(&by_unit(u)).await.expect("query");
        assert_eq!(page.items, vec![r1.clone()], "unit {u}");
    }
    // Same units, new content: the unit index serves the new version.
    let r2 = next_version(&r1, "đang xử lý");
    store.update(&r2, 1, &[]).await.expect("update");
    assert_eq!(
        store.query(&by_unit(&b)).await.expect("query").items,
        vec![r2.clone()]
    );

    // Reassigned: lead c, no coordinating unit. a and b no longer see it.
    let r3 = assigned(next_version(&r2, "giao lại"), &c, &[], at(900));
    store.update(&r3, 2, &[]).await.expect("reassign");
    assert_eq!(
        store.query(&by_unit(&c)).await.expect("query").items,
        vec![r3.clone()]
    );
    for u in [&a, &b] {
        assert!(
            store
                .query(&by_unit(u))
                .await
                .expect("query")
                .items
                .is_empty(),
            "unit {u}"
        );
    }
    // Updating a report that does not exist is NotFound, not a silent insert.
    let ghost = next_version(&report(&unique("ghost"), at(0)), "x");
    assert_eq!(
        store.update(&ghost, 1, &[]).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(store.get(&ghost.id).await, Ok(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_goes_to_e164_as_transactional_and_email_only_to_the_units_subscription() {
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings);
    let report_id = phananh_core::model::ReportId(unique("notif"));
    let sms = Notification {
        id: unique("sms"),
        channel: Channel::Sms,
        to: "0912 345 678".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: None,
        body: "Phan anh moi duoc giao cho don vi.".into(),
        report_id: Some(report_id.clone()),
    };
    notifier.send(&sms).await.expect("sms");
    let publishes: Vec<_> = Moto::shared()
        .recorded_requests()
        .into_iter()
        .map(|r| r.form())
        .filter(|f| f.get("Action").map(String::as_str) == Some("Publish"))
        .filter(|f| f.values().any(|v| v == &sms.id))
        .collect();
    assert_eq!(publishes.len(), 1);
    let f = &publishes[0];
    assert_eq!(
        f.get("PhoneNumber").map(String::as_str),
        Some("+84912345678")
    );
    let attr = |name: &str| {
        (1..=20).find_map(|i| {
            (f.get(&format!("MessageAttributes.entry.{i}.Name"))
                .map(String::as_str)
                == Some(name))
            .then(|| {
                f.get(&format!("MessageAttributes.entry.{i}.Value.StringValue"))
                    .cloned()
            })
            .flatten()
        })
    };
    assert_eq!(
        attr("AWS.SNS.SMS.SMSType").as_deref(),
        Some("Transactional")
    );
    assert_eq!(attr("AWS.SNS.SMS.SenderID").as_deref(), Some("LaiChau"));

    // A unit's mailbox subscribes to the alerts topic with a filter on its unit.
    let (unit_q, unit_arn) = {
        let url = p
            .clients
            .sqs
            .create_queue()
            .queue_name(format!("mail-{}", &unique("u")[..30]))
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        let arn = p
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(phananh_aws::aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("attrs")
            .attributes
            .and_then(|mut a| {
                a.remove(&phananh_aws::aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            })
            .expect("arn");
        (url, arn)
    };
    p.clients
        .sns
        .subscribe()
        .topic_arn(&p.settings.alerts_topic_arn)
        .protocol("sqs")
        .endpoint(&unit_arn)
        .attributes("FilterPolicy", r#"{"unit": ["ubnd_tan_phong"]}"#)
        .send()
        .await
        .expect("subscribe");
    for (unit, to) in [
        ("ubnd_tan_phong", "tanphong@laichau.gov.vn"),
        ("ubnd_doan_ket", "doanket@laichau.gov.vn"),
    ] {
        let mail = Notification {
            id: unique("mail"),
            channel: Channel::Email,
            to: to.into(),
            unit: Some(unit.into()),
            subject: Some("Phản ánh mới được giao".into()),
            body: format!("Kính gửi {unit}"),
            report_id: Some(report_id.clone()),
        };
        notifier.send(&mail).await.expect("mail");
    }
    let bodies = moto::drain_bodies(&p.clients, &unit_q)
        .await
        .expect("drain");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).expect("sns json");
    assert_eq!(envelope["Message"], "Kính gửi ubnd_tan_phong");
    assert_eq!(envelope["Subject"], "Phản ánh mới được giao");
    assert_eq!(
        envelope["MessageAttributes"]["to"]["Value"],
        "tanphong@laichau.gov.vn"
    );
}

/// A short backoff for the tests (the functions wait 0.5 s, then 1 s).
fn quick() -> phananh_core::delivery::RetrySchedule {
    phananh_core::delivery::RetrySchedule {
        max_attempts: 3,
        first_backoff: chrono::Duration::milliseconds(5),
        max_backoff: chrono::Duration::milliseconds(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_is_retried_then_dead_lettered_not_swallowed_as_a_duplicate() {
    use phananh_core::delivery::{DeliveryLog, DeliveryStatus};
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings).with_schedule(quick());
    let report_id = phananh_core::model::ReportId(unique("failed"));
    let bad = Notification {
        id: unique("bad"),
        channel: Channel::Sms,
        to: "not a phone".into(),
        unit: None,
        subject: None,
        body: "x".into(),
        report_id: Some(report_id.clone()),
    };
    // Recorded as a dead letter after three attempts, not an error that retries the event.
    notifier.send(&bad).await.expect("recorded");
    notifier
        .send(&bad)
        .await
        .expect("a repeat is a refused claim");
    let log = notifier
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0].status, log[0].attempts), (DeliveryStatus::Dead, 3));
    // SNS's refusal is kept, with the recipient it quotes redacted (issue 12 item 5).
    let error = log[0].error.as_deref().unwrap_or_default();
    assert!(error.contains("number"), "{:?}", log[0]);
    assert!(!error.contains("not a phone"), "{:?}", log[0]);
    // A good one with the same id pattern goes once.
    let good = Notification {
        to: "+84912000111".into(),
        id: unique("good"),
        ..bad
    };
    notifier.send(&good).await.expect("send");
    notifier.send(&good).await.expect("duplicate is fine");
    let count = Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.form().get("Action").map(String::as_str) == Some("Publish"))
        .filter(|r| r.form().values().any(|v| v == &good.id))
        .count();
    assert_eq!(count, 1);
    // Three calls per message: the claim that records it pending, the send, the outcome
    // (SNS's message id); a repeat is one refused claim.
    let ops: Vec<String> = Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.body.contains(&good.id) || r.form().values().any(|v| v == &good.id))
        .filter_map(|r| r.operation())
        .collect();
    assert_eq!(
        ops,
        ["PutItem", "Publish", "UpdateItem", "PutItem"],
        "{ops:?}"
    );
    let log = notifier
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log");
    let sent = log
        .iter()
        .find(|r| r.notification.id == good.id)
        .expect("logged");
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert!(!sent
        .provider_message_id
        .as_deref()
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_encrypted_and_presigned_posts_carry_a_signed_policy() {
    let p = moto::provision().await.expect("provision");
    let media = S3MediaStore::from_settings(&p.clients, &p.settings);
    let key = format!("uploads/{}/a.jpg", unique("r"));
    let url = media
        .presign_put(&key, "image/jpeg", 1000, Duration::from_secs(600))
        .await
        .expect("presign");
    assert_eq!(url.method, "POST");
    let names: BTreeSet<String> = url
        .fields
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    for n in [
        "key",
        "content-type",
        "x-amz-server-side-encryption",
        "x-amz-meta-max-size",
        "policy",
        "x-amz-signature",
        "x-amz-credential",
    ] {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    assert!(
        url.url.ends_with(&format!("/{}/", p.settings.bucket)),
        "the bucket's URL: {}",
        url.url
    );
    let (status, body) =
        phananh_tests::upload::upload(&url, vec![0xFFu8, 0xD8, 0xFF], "image/jpeg").await;
    assert!((200..300).contains(&status), "POST {status}: {body}");
    // The emulator stores the object but applies neither the policy nor the form's encryption
    // field (S3 does both; the bucket's default encryption also applies): the policy itself is
    // checked by `phananh_aws::s3` unit tests.
    assert_eq!(
        media.head(&key).await.expect("head").map(|m| m.size),
        Some(3)
    );
    // The check's one read (issue 10) gets the type, the size and the slot's limit the form
    // stored as metadata, with the bytes: whole for a type read whole, else the first ones.
    let whole = |max| ReadWhole {
        types: &["image/jpeg"],
        max,
    };
    let read = media
        .read_upload(&key, 2, whole(10))
        .await
        .expect("read")
        .expect("the object");
    assert_eq!(
        read,
        UploadedObject {
            content_type: Some("image/jpeg".into()),
            size: 3,
            max_size: Some(1000),
            body: UploadedBody::Whole(vec![0xFF, 0xD8, 0xFF]),
        }
    );
    let over = media.read_upload(&key, 2, whole(2)).await.expect("read");
    assert_eq!(over.map(|o| o.body), Some(UploadedBody::TooLarge));
    let head = media
        .read_upload(
            &key,
            2,
            ReadWhole {
                types: &[],
                max: 10,
            },
        )
        .await
        .expect("read");
    assert_eq!(
        head.map(|o| o.body),
        Some(UploadedBody::Head(vec![0xFF, 0xD8]))
    );
    assert_eq!(
        media
            .read_upload(&format!("{key}-none"), 2, whole(10))
            .await
            .expect("read"),
        None
    );
    // Server-side writes are encrypted too.
    media
        .write("public/x.jpg", b"abc", "image/jpeg")
        .await
        .expect("write");
    let head = p
        .clients
        .s3
        .head_object()
        .bucket(&p.settings.bucket)
        .key("public/x.jpg")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
}

#[test]
fn a_started_emulator_answers_and_stops_when_dropped() {
    let m = Moto::start().expect("moto starts");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], m.port));
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok());
    assert!(m.endpoint.starts_with("http://127.0.0.1:"));
    drop(m);
    // The server is gone (bounded wait for the port to close).
    let mut closed = false;
    for _ in 0..50 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(closed, "moto still listening on {addr}");
}

/// The messages of one event are claimed in one transaction, then sent, then their outcomes
/// recorded in one more; a failed one is dead-lettered (not given back), so a redelivered
/// event sends none again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_messages_are_claimed_together_and_sent_once() {
    use phananh_core::delivery::{DeliveryLog, DeliveryStatus};
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings).with_schedule(quick());
    let tag = unique("batch");
    let report_id = phananh_core::model::ReportId(tag.clone());
    let sms = |i: u32, to: &str| Notification {
        id: format!("{tag}:sms:{i}"),
        channel: Channel::Sms,
        to: to.into(),
        unit: None,
        subject: None,
        body: "Phan anh moi".into(),
        report_id: Some(report_id.clone()),
    };
    let ns = vec![
        sms(1, "+84912000001"),
        sms(2, "not a phone"),
        sms(3, "+84912000003"),
    ];
    let ops = |from: usize| -> Vec<String> {
        Moto::shared().recorded_requests()[from..]
            .iter()
            .filter(|r| r.body.contains(&tag) || r.form().values().any(|v| v.contains(&tag)))
            .filter_map(|r| r.operation())
            .collect()
    };
    let start = Moto::shared().recorded_requests().len();
    let first = notifier.send_all(&ns).await;
    assert!(first.iter().all(Result::is_ok), "{first:?}");
    assert_eq!(
        ops(start),
        [
            "TransactWriteItems",
            "Publish",
            "Publish",
            "TransactWriteItems"
        ],
        "one claim for all, the sends, one write of all outcomes"
    );
    let mut log = notifier
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log");
    log.sort_by(|a, b| a.notification.id.cmp(&b.notification.id));
    let statuses: Vec<_> = log.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Sent,
            DeliveryStatus::Dead,
            DeliveryStatus::Sent
        ]
    );
    // The event again (SQS redelivery): nothing is sent again.
    let again_from = Moto::shared().recorded_requests().len();
    let again = notifier.send_all(&ns).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");
    let again_ops = ops(again_from);
    assert_eq!(
        again_ops.iter().filter(|o| *o == "Publish").count(),
        0,
        "{again_ops:?}"
    );
    assert_eq!(again_ops[0], "TransactWriteItems", "{again_ops:?}");
}
