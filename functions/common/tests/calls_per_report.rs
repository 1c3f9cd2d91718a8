//! AWS calls per report: one report from submission to publication on the happy path
//! (upload, intake, classification, assignment, notifications, acceptance, resolution with
//! evidence, publication, the reporter told), on the emulator. Each function runs with its
//! own SDK clients, tagged with the function's name in the User-Agent (`app/<function>`), so
//! the requests the functions make are told apart from the harness's own (queue receives and
//! deletes stand for the Lambda service's event source mappings, which are not billed as API
//! requests). Prints `AWS calls per report: N` with the breakdown, asserts the budget, and
//! checks every recorded call against the IAM table (`infra/aws/src/iam.rs`) of the function
//! that made it: the table is what the code calls, not what someone believed it calls.

mod support;
use lambda_runtime::{Context, LambdaEvent};
use phananh_aws::aws_config::{AppName, BehaviorVersion};
use phananh_aws::iam::{function_needs, iam_action_of};
use phananh_aws::AwsClients;
use phananh_core::media::UploadCheck;
use phananh_core::CityRules;
use phananh_lambda::{consume, media_event, Consumer, Runtime};
use phananh_tests::moto::{
    delete_succeeded, provision, receive_as_lambda_event, Moto, Provisioned, RecordedRequest,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::{call, request, sample, StreamRelay};

/// The budget this code meets today: 66 (70 before the media check stopped reading the slot
/// and the thumbnail moved to its first request; 81 before this pass; 97 before the stream
/// relay).
/// Upload slots and quotas are table items (one conditional transaction per slot, the media
/// function's verdict one write the API trusts) and the upload check reads the object once
/// (media 28 -> 18); the statistics consumer counts the share change its events carry (no
/// report read, no share read when the recorded share is the change's `before`: 11 -> 4);
/// the relay publishes no event that no consumer receives (the acceptance: 6 -> 5). The
/// delivery log (issue 13) adds one write per event that sends messages (5 here): the
/// outcomes of all its messages (SNS/SES message id or error) in one update or transaction.
/// The staff steps run on runtimes of their own (the account cache of the token check, 3 s,
/// has expired between steps minutes apart): 4 account reads, not a timing-dependent 2. The
/// target is 15 (issue 10); docs/aws.md, "Calls per report", says where the calls go and
/// what removes the rest. The media function writes its verdict under a condition on the
/// slot instead of reading it first, and no thumbnail at upload (media 18 -> 14).
const CALLS_PER_REPORT_BUDGET: usize = 66;

fn citizen() -> Value {
    json!({"sub": "cognito-citizen-0001"})
}
fn kinhte() -> Value {
    json!({"sub": "cognito-kinhte-0001", "cognito:groups": "[unit_staff]", "custom:unit": "phong_kinh_te"})
}

/// One function's runtime: its own clients, tagged `app/<function>`.
async fn function(p: &Provisioned, name: &str) -> Runtime {
    let cfg = phananh_aws::aws_config::defaults(BehaviorVersion::latest())
        .app_name(AppName::new(name.to_string()).expect("app name"))
        .http_client(phananh_aws::settings::https_client())
        .load()
        .await;
    let clients = AwsClients::from_sdk_config(&cfg, true);
    Runtime::new(
        &clients,
        p.settings.clone(),
        CityRules::laichau_default().expect("rules"),
    )
}

/// The app's upload: a presigned PUT (the client's own request, not a function's), then the
/// media function's check.
async fn upload(citizen_fn: &Runtime, media_fn: &Runtime, claims: Value) -> String {
    let jpeg = phananh_testkit::samples::jpeg(8, 8);
    let (st, t) = call(
        citizen_fn,
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
        serde_json::from_value(t["upload"].clone()).expect("ticket");
    let (status, body) = phananh_tests::upload::upload(&ticket, jpeg, "image/jpeg").await;
    assert!((200..300).contains(&status), "POST {status}: {body}");
    let key = ticket
        .fields
        .iter()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .expect("key");
    let mut ev = sample("s3-object-created.json");
    ev["Records"][0]["s3"]["bucket"]["name"] = json!(media_fn.settings.bucket);
    ev["Records"][0]["s3"]["object"]["key"] = json!(key);
    let checks = media_event(
        media_fn,
        LambdaEvent::new(
            serde_json::from_value(ev).expect("s3 event"),
            Context::default(),
        ),
    )
    .await
    .expect("media");
    assert!(
        matches!(checks[0], UploadCheck::Accepted { .. }),
        "{checks:?}"
    );
    t["attachment_id"].as_str().expect("id").to_string()
}

/// What an SQS event source mapping does (harness clients): receive, invoke, delete; the
/// consumer's own writes reach the bus through the relay (one stream batch per delivery).
async fn deliver(
    p: &Provisioned,
    relay: &mut (StreamRelay, &Runtime),
    rt: &Runtime,
    consumer: Consumer,
) -> usize {
    let q = &p.queues[consumer.as_str()];
    let mut handled = 0;
    for _ in 0..5 {
        let ev = receive_as_lambda_event(&p.clients, &q.url, 30, 1)
            .await
            .expect("receive");
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
        .expect("consume");
        assert!(resp.batch_item_failures.is_empty(), "{consumer}: failures");
        delete_succeeded(&p.clients, &q.url, &ev, &[])
            .await
            .expect("delete");
        relay.0.pump(relay.1).await;
        handled += n;
    }
    handled
}

/// (function, service, operation) of a request one of the functions made.
fn function_call(r: &RecordedRequest) -> Option<(String, String, String)> {
    let ua = r
        .headers
        .get("x-amz-user-agent")
        .into_iter()
        .chain(r.headers.get("user-agent"))
        .find_map(|ua| {
            ua.split(' ')
                .find_map(|part| part.strip_prefix("app/").map(str::to_string))
        })?;
    // The service is in the SigV4 credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request.
    let auth = r.headers.get("authorization")?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let service = scope.split('/').nth(3)?.to_string();
    let op = match service.as_str() {
        "s3" => {
            let copy = r.headers.contains_key("x-amz-copy-source");
            match (r.method.as_str(), copy) {
                ("HEAD", _) => "HeadObject",
                ("GET", _) => "GetObject",
                ("PUT", true) => "CopyObject",
                ("PUT", false) => "PutObject",
                ("DELETE", _) => "DeleteObject",
                ("POST", _) => "PostObject",
                _ => "Other",
            }
            .to_string()
        }
        _ => r.operation()?,
    };
    Some((ua, service, op))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_calls_per_report_from_submission_to_publication() {
    let p = provision().await.expect("provision");
    let citizen_fn = function(&p, "ApiCitizenFunction").await;
    // The staff steps are minutes or hours apart: the staff function's per-instance account
    // cache of the token check (SESSION_CACHE_SECS, 3 s) has expired by the next step, as on
    // a fresh instance, so each step gets a runtime of its own (else whether the IOC's
    // publish hits the cache of its assignment depends on how fast this machine runs the
    // steps between). Within a step (the unit uploads its evidence, then resolves) one.
    let staff_assign_fn = function(&p, "ApiStaffFunction").await;
    let staff_accept_fn = function(&p, "ApiStaffFunction").await;
    let staff_resolve_fn = function(&p, "ApiStaffFunction").await;
    let staff_publish_fn = function(&p, "ApiStaffFunction").await;
    let media_fn = function(&p, "MediaFunction").await;
    let classify_fn = function(&p, "ClassifyFunction").await;
    let notify_fn = function(&p, "NotifyFunction").await;
    let publish_fn = function(&p, "PublishFunction").await;
    let stats_fn = function(&p, "StatsFunction").await;
    let relay_fn = function(&p, "RelayFunction").await;
    // The relay's event source mapping: after every write, one stream batch (each change is
    // published by its own relay invocation, as when the steps are minutes apart).
    let mut relay = (StreamRelay::open(&p).await, &relay_fn);
    let before = Moto::shared().recorded_requests().len();

    // Intake with a photo.
    let photo = upload(&citizen_fn, &media_fn, citizen()).await;
    let mut body: Value = serde_json::from_str(
        sample("api-submit-report.json")["body"]
            .as_str()
            .expect("body"),
    )
    .expect("json");
    body["attachments"] = json!([photo]);
    let mut ev = request("api-submit-report.json", None, Some(body), None);
    ev["headers"]["idempotency-key"] = json!(format!("calls-{}", uuid_like()));
    let (st, r) = call(&citizen_fn, ev).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().expect("id").to_string();
    assert_eq!(relay.0.pump(&relay_fn).await, 1, "submitted");

    // Classification; the IOC assigns; notifications.
    assert_eq!(
        deliver(&p, &mut relay, &classify_fn, Consumer::Classify).await,
        1
    );
    assert_eq!(
        deliver(&p, &mut relay, &stats_fn, Consumer::Stats).await,
        2,
        "submitted, screened"
    );
    let actions = format!("/v1/staff/reports/{id}/actions");

    let (st, v) = call(
        &staff_assign_fn,
        request("api-staff-action-assign.json", Some(&actions), None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    relay.0.pump(&relay_fn).await;
    deliver(&p, &mut relay, &notify_fn, Consumer::Notify).await;
    assert_eq!(
        deliver(&p, &mut relay, &stats_fn, Consumer::Stats).await,
        1,
        "assigned"
    );

    // The unit accepts, resolves with evidence; the IOC publishes; the reporter is told.
    let (st, v) = call(
        &staff_accept_fn,
        request("api-unit-action-accept.json", Some(&actions), None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        relay.0.pump(&relay_fn).await,
        0,
        "report_accepted: no consumer receives it, so it is not published"
    );
    let evidence = upload(&staff_resolve_fn, &media_fn, kinhte()).await;
    let (st, v) = call(&staff_resolve_fn, request("api-unit-action-accept.json", Some(&actions), Some(json!({"action": "resolve", "summary": "Đã xử phạt, yêu cầu niêm yết giá", "evidence": [evidence]})), None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    relay.0.pump(&relay_fn).await;
    let (st, v) = call(&staff_publish_fn, request("api-staff-action-assign.json", Some(&actions), Some(json!({"action": "publish", "public_answer": "Cơ sở đã bị xử phạt.", "public_attachments": [evidence]})), None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    relay.0.pump(&relay_fn).await;
    deliver(&p, &mut relay, &notify_fn, Consumer::Notify).await;
    assert_eq!(
        deliver(&p, &mut relay, &publish_fn, Consumer::Publish).await,
        1
    );
    assert_eq!(
        deliver(&p, &mut relay, &stats_fn, Consumer::Stats).await,
        1,
        "resolved"
    );

    let recorded = Moto::shared().recorded_requests();
    let calls: Vec<(String, String, String)> = recorded[before..]
        .iter()
        .filter_map(function_call)
        .collect();
    let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (f, s, o) in &calls {
        *by.entry((f.clone(), format!("{s}:{o}"))).or_default() += 1;
    }
    println!("AWS calls per report: {}", calls.len());
    for ((f, op), n) in &by {
        println!("  {f:<20} {op:<32} {n}");
    }
    // Which items the single-item reads and writes touch (the key's prefix: REPORT, UPLOAD...).
    let mut items: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in &recorded[before..] {
        let Some((f, s, o)) = function_call(r) else {
            continue;
        };
        if s == "dynamodb" && matches!(o.as_str(), "GetItem" | "PutItem" | "UpdateItem") {
            *items.entry((f, o, item_prefix(&r.body))).or_default() += 1;
        }
    }
    for ((f, o, prefix), n) in &items {
        println!("  {f:<20} dynamodb:{o:<23} {prefix:<8} {n}");
    }

    // Every call is granted to the function that made it (and so in the IAM table).
    let table = function_needs();
    for (f, s, o) in &calls {
        let needs = table
            .iter()
            .find(|n| n.function == f)
            .unwrap_or_else(|| panic!("{f} is not in the IAM table"));
        for action in iam_action_of(s, o) {
            assert!(
                needs.needs.iter().any(|n| n.action == action),
                "{f} calls {s}:{o} but the IAM table does not grant it {action}"
            );
        }
    }
    assert!(
        calls.len() <= CALLS_PER_REPORT_BUDGET,
        "AWS calls per report: {} > budget {CALLS_PER_REPORT_BUDGET}",
        calls.len()
    );

    // The read path, not counted above: the published evidence photo's thumbnail is made on
    // its first request (issue 10), once per photo; later views on the same instance make no
    // S3 call, a fresh instance asks once whether it exists. Each view reads the report, as
    // before.
    let thumbnail = format!("/v1/public/reports/{id}/attachments/{evidence}/thumbnail");
    let mut views = Vec::new();
    let viewer_fn = function(&p, "ApiPublicFunction").await;
    let other_viewer_fn = function(&p, "ApiPublicFunction").await;
    for rt in [&viewer_fn, &viewer_fn, &other_viewer_fn] {
        let from = Moto::shared().recorded_requests().len();
        let (st, v) = call(
            rt,
            request("api-public-reports.json", Some(&thumbnail), None, None),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(
            v["url"].as_str().is_some_and(|u| u.contains("-thumb.jpg")),
            "{v}"
        );
        let view: Vec<(String, String, String)> = Moto::shared().recorded_requests()[from..]
            .iter()
            .filter_map(function_call)
            .collect();
        for (f, s, o) in &view {
            let needs = table
                .iter()
                .find(|n| n.function == f)
                .unwrap_or_else(|| panic!("{f} is not in the IAM table"));
            for action in iam_action_of(s, o) {
                assert!(
                    needs.needs.iter().any(|n| n.action == action),
                    "{f} calls {s}:{o} but the IAM table does not grant it {action}"
                );
            }
        }
        views.push(
            view.iter()
                .map(|(_, s, o)| format!("{s}:{o}"))
                .collect::<Vec<_>>(),
        );
    }
    println!("Thumbnail views (first, same instance, fresh instance): {views:?}");
    assert_eq!(
        views,
        vec![
            vec![
                "dynamodb:GetItem",
                "s3:HeadObject",
                "s3:GetObject",
                "s3:PutObject"
            ],
            vec!["dynamodb:GetItem"],
            vec!["dynamodb:GetItem", "s3:HeadObject"],
        ]
    );
}

/// The prefix of the partition key a DynamoDB single-item request names (`REPORT`, `UPLOAD`).
fn item_prefix(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    let pk = v["Key"]["pk"]["S"]
        .as_str()
        .or_else(|| v["Item"]["pk"]["S"].as_str())
        .unwrap_or("?");
    pk.split('#').next().unwrap_or(pk).to_string()
}

fn uuid_like() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}
