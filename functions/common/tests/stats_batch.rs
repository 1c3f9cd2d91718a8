//! The statistics consumer takes its SQS batch at once (issue 10): ten submissions of ten
//! reports reach the stats queue through the real path (table stream → relay → SNS → SQS),
//! one batch of ten messages is handed to the function, and the function makes ONE DynamoDB
//! call, a `TransactWriteItems` (each report's share conditional, the rows' `ADD`s merged per
//! row), where it made one per event before. The figures then equal a rebuild from the
//! stored reports.

mod support;
use lambda_runtime::{Context, LambdaEvent};
use phananh_aws::aws_config::{AppName, BehaviorVersion};
use phananh_aws::AwsClients;
use phananh_core::aggregates::MemoryAggregates;
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, GeoPoint, Role};
use phananh_core::CityRules;
use phananh_lambda::{consume, Consumer, Runtime};
use phananh_testkit::actors;
use phananh_tests::moto::{provision, receive_as_lambda_event, Moto, Provisioned};
use std::sync::Arc;
use support::StreamRelay;

/// One function's runtime: its own clients, tagged `app/<function>` in the User-Agent.
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

fn input(category: &str, n: usize) -> NewReport {
    NewReport {
        category: category.into(),
        title: format!("Phản ánh số {n}"),
        description: "Phản ánh về trật tự, vệ sinh tại khu dân cư.".into(),
        location: Some(GeoPoint {
            lat: 22.39 + n as f64 * 0.001,
            lon: 103.45,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_ten_events_of_ten_reports_is_one_transaction_and_the_figures_equal_a_rebuild() {
    let p = provision().await.expect("provision");
    let citizen_fn = function(&p, "StatsBatchCitizen").await;
    let relay_fn = function(&p, "StatsBatchRelay").await;
    let stats_fn = function(&p, "StatsBatchFunction").await;
    let mut relay = StreamRelay::open(&p).await;
    let citizen = Actor::new("stats-batch-citizen", Role::Citizen, None);
    let categories = [
        "food_safety",
        "environment",
        "urban_order",
        "market_prices",
        "construction_order",
    ];
    for n in 0..10 {
        citizen_fn
            .app
            .submit(
                &citizen,
                input(categories[n % categories.len()], n),
                &[],
                None,
            )
            .await
            .expect("submit");
    }
    assert!(
        relay.pump(&relay_fn).await >= 10,
        "the submissions published"
    );

    let q = &p.queues[Consumer::Stats.as_str()];
    let ev = receive_as_lambda_event(&p.clients, &q.url, 30, 1)
        .await
        .expect("receive");
    assert_eq!(ev.records.len(), 10, "one batch of ten messages");
    let before = Moto::shared().recorded_requests().len();
    let resp = consume(
        &stats_fn,
        Consumer::Stats,
        LambdaEvent::new(ev, Context::default()),
    )
    .await
    .expect("consume");
    assert!(resp.batch_item_failures.is_empty(), "failures");
    let ops: Vec<String> = Moto::shared().recorded_requests()[before..]
        .iter()
        .filter(|r| {
            r.headers
                .get("x-amz-user-agent")
                .into_iter()
                .chain(r.headers.get("user-agent"))
                .any(|ua| ua.split(' ').any(|part| part == "app/StatsBatchFunction"))
        })
        .filter_map(|r| r.operation())
        .collect();
    println!("stats consumer, one batch of 10 events of 10 reports: {ops:?}");
    assert_eq!(ops, ["TransactWriteItems"], "one transaction for the batch");

    // The figures counted from the batch are those of the stored reports.
    let office = actors::office();
    let counted = stats_fn
        .app
        .stats(&office, None, None, 1_000)
        .await
        .expect("statistics");
    let rebuilt = stats_fn
        .app
        .clone()
        .with_aggregates(Arc::new(MemoryAggregates::default()), false);
    assert_eq!(
        rebuilt
            .rebuild_stats(&Actor::system())
            .await
            .expect("rebuild"),
        10
    );
    let truth = rebuilt
        .stats(&office, None, None, 1_000)
        .await
        .expect("statistics rebuilt");
    assert_eq!(counted, truth);
    assert_eq!(counted.total, 10);
    assert_eq!(counted.by_category.len(), categories.len());
}
