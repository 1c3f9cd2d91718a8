//! Outbox relay, queue workers, retries, dead letters, redelivery and the embedded bus.

mod common;

use chrono::{Duration as CDuration, Utc};
use common::*;
use phananh_core::model::{DomainEvent, EventEnvelope};
use phananh_core::ports::{EventBus, ReportStore};
use phananh_embedded::{
    handler, list_dead_letters, list_deliveries, requeue_dead_letter, Embedded, EmbeddedConfig,
    RetryPolicy, WorkerStats,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn open(dir: &TempDir) -> Embedded {
    let mut cfg = EmbeddedConfig::new(
        dir.path(),
        "http://127.0.0.1:1",
        b"queue-test-secret-123456".to_vec(),
    );
    cfg.retry = RetryPolicy {
        base: Duration::from_secs(10),
        cap: Duration::from_secs(15),
        max_attempts: 3,
        handler_timeout: Duration::from_secs(5),
    };
    cfg.pump_interval = Duration::from_millis(50);
    Embedded::open(cfg).unwrap()
}

fn recorder(log: &Arc<Mutex<Vec<String>>>) -> phananh_embedded::Handler {
    let log = log.clone();
    handler(move |e: EventEnvelope| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(e.id);
            Ok(())
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_fans_out_and_worker_retries_then_dead_letters() {
    let dir = TempDir::new("phananh-queue");
    let emb = open(&dir);
    let all = Arc::new(Mutex::new(Vec::new()));
    let assigned_only = Arc::new(Mutex::new(Vec::new()));
    emb.consumers.register("all", &[], recorder(&all));
    emb.consumers.register(
        "assign-notify",
        &["report_assigned"],
        recorder(&assigned_only),
    );
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let fc = flaky_calls.clone();
    emb.consumers.register(
        "flaky",
        &["report_submitted"],
        handler(move |_e| {
            let fc = fc.clone();
            async move {
                if fc.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err("tạm thời lỗi".to_string())
                } else {
                    Ok(())
                }
            }
        }),
    );
    emb.consumers.register(
        "broken",
        &["report_submitted"],
        handler(|_e| async { Err("hỏng".to_string()) }),
    );

    let r = report("q-1", at(0));
    let submitted_ev = submitted(&r);
    let assigned_ev = event(
        &r,
        1,
        DomainEvent::ReportAssigned {
            lead_unit: "ubnd".into(),
            coordinating_units: vec![],
            due_at: at(600),
        },
    );
    emb.store
        .create(&r, &[submitted_ev.clone(), assigned_ev.clone()], None)
        .await
        .unwrap();

    let relay = emb.relay();
    assert_eq!(relay.run_once().await.unwrap(), 2);
    assert!(
        emb.store.pending_events(10).await.unwrap().is_empty(),
        "marked published"
    );
    assert_eq!(relay.run_once().await.unwrap(), 0, "nothing moved twice");
    let queued = list_deliveries(&emb.store).await.unwrap();
    let mut pairs: Vec<(String, String)> = queued
        .iter()
        .map(|d| (d.consumer.clone(), d.event.id.clone()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("all".into(), submitted_ev.id.clone()),
            ("all".into(), assigned_ev.id.clone()),
            ("assign-notify".into(), assigned_ev.id.clone()),
            ("broken".into(), submitted_ev.id.clone()),
            ("flaky".into(), submitted_ev.id.clone()),
        ],
        "one delivery per subscribed consumer, by event kind"
    );

    let worker = emb.worker();
    let now = Utc::now();
    let s1 = worker.run_once(now).await.unwrap();
    assert_eq!(
        s1,
        WorkerStats {
            delivered: 3,
            retried: 2,
            dead: 0
        }
    );
    let mut got = all.lock().unwrap().clone();
    got.sort();
    let mut want = vec![submitted_ev.id.clone(), assigned_ev.id.clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(*assigned_only.lock().unwrap(), vec![assigned_ev.id.clone()]);

    // Backoff: the failed deliveries wait `base` before the next attempt.
    let waiting = list_deliveries(&emb.store).await.unwrap();
    assert_eq!(waiting.len(), 2);
    for d in &waiting {
        assert_eq!(d.attempts, 1);
        assert_eq!(d.next_attempt_at, Some(now + CDuration::seconds(10)));
        assert!(d.last_error.is_some());
    }
    assert_eq!(
        worker.run_once(now).await.unwrap(),
        WorkerStats::default(),
        "not due yet"
    );
    assert_eq!(
        worker.run_once(now + CDuration::seconds(9)).await.unwrap(),
        WorkerStats::default()
    );

    let t2 = now + CDuration::seconds(10);
    assert_eq!(
        worker.run_once(t2).await.unwrap(),
        WorkerStats {
            delivered: 0,
            retried: 2,
            dead: 0
        }
    );
    // Second failure doubles the delay, capped at 15 s.
    for d in list_deliveries(&emb.store).await.unwrap() {
        assert_eq!(d.attempts, 2);
        assert_eq!(d.next_attempt_at, Some(t2 + CDuration::seconds(15)));
    }

    let t3 = t2 + CDuration::seconds(15);
    assert_eq!(
        worker.run_once(t3).await.unwrap(),
        WorkerStats {
            delivered: 1,
            retried: 0,
            dead: 1
        }
    );
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 3);
    assert!(list_deliveries(&emb.store).await.unwrap().is_empty());
    let dead = list_dead_letters(&emb.store).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].consumer, "broken");
    assert_eq!(dead[0].event, submitted_ev);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("hỏng"));

    // A dead letter can be put back once its cause is fixed.
    emb.consumers.register(
        "broken",
        &["report_submitted"],
        handler(|_e| async { Ok(()) }),
    );
    assert!(requeue_dead_letter(&emb.store, "broken", &submitted_ev.id)
        .await
        .unwrap());
    assert!(list_dead_letters(&emb.store).await.unwrap().is_empty());
    let s = worker
        .run_once(Utc::now() + CDuration::seconds(1))
        .await
        .unwrap();
    assert_eq!(s.delivered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_handler_redelivers_and_the_event_id_makes_it_harmless() {
    let dir = TempDir::new("phananh-redeliver");
    let emb = open(&dir);
    let calls = Arc::new(AtomicUsize::new(0));
    let applied: Arc<Mutex<HashSet<String>>> = Arc::default();
    let effects = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (c, a, ef) = (calls.clone(), applied.clone(), effects.clone());
    emb.consumers.register(
        "sms",
        &[],
        handler(move |e: EventEnvelope| {
            let (c, a, ef, done) = (c.clone(), a.clone(), ef.clone(), done_tx.clone());
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst);
                // The idempotence hook: the stable event id.
                if a.lock().unwrap().insert(e.id.clone()) {
                    ef.fetch_add(1, Ordering::SeqCst);
                }
                if n == 0 {
                    // First run: the effect happened, then the process "dies" before the
                    // delivery is deleted.
                    let _ = done.send(());
                    std::future::pending::<()>().await;
                }
                Ok(())
            }
        }),
    );
    let r = report("q-crash", at(0));
    emb.bus.publish(&[submitted(&r)]).await.unwrap();

    let worker = emb.worker();
    let now = Utc::now();
    let w = worker.clone();
    let pass = tokio::spawn(async move { w.run_once(now).await });
    let mut done_rx = done_rx;
    tokio::time::timeout(Duration::from_secs(10), done_rx.recv())
        .await
        .unwrap()
        .unwrap();
    pass.abort();
    let _ = pass.await;

    // Claimed: invisible until the lease (handler timeout) runs out, then delivered again.
    assert_eq!(
        worker.run_once(now + CDuration::seconds(4)).await.unwrap(),
        WorkerStats::default()
    );
    let s = worker.run_once(now + CDuration::seconds(6)).await.unwrap();
    assert_eq!(s.delivered, 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "delivered at least once: twice here"
    );
    assert_eq!(
        effects.load(Ordering::SeqCst),
        1,
        "the effect happened once"
    );
    assert!(list_deliveries(&emb.store).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_enqueues_each_event_once_per_consumer() {
    let dir = TempDir::new("phananh-bus");
    let emb = open(&dir);
    let log = Arc::new(Mutex::new(Vec::new()));
    emb.consumers
        .register("a", &["report_submitted"], recorder(&log));
    emb.consumers
        .register("b", &["report_closed"], recorder(&log));
    let r = report("q-bus", at(0));
    let e = submitted(&r);
    emb.bus.publish(std::slice::from_ref(&e)).await.unwrap();
    emb.bus.publish(std::slice::from_ref(&e)).await.unwrap();
    let queued = list_deliveries(&emb.store).await.unwrap();
    assert_eq!(
        queued.len(),
        1,
        "same event published twice: one delivery to `a`, none to `b`"
    );
    assert_eq!(queued[0].consumer, "a");
    let s = emb.worker().run_once(Utc::now()).await.unwrap();
    assert_eq!(s.delivered, 1);
    assert_eq!(*log.lock().unwrap(), vec![e.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_pumps_deliver_outbox_events_without_help() {
    let dir = TempDir::new("phananh-pumps");
    let emb = open(&dir);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    emb.consumers.register(
        "classify",
        &["report_submitted"],
        handler(move |e: EventEnvelope| {
            let tx = tx.clone();
            async move { tx.send(e.id).map_err(|e| e.to_string()) }
        }),
    );
    let pumps = emb.spawn_pumps();
    let r = report("q-pump", at(0));
    emb.store.create(&r, &[submitted(&r)], None).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("delivered by the background pumps")
        .unwrap();
    assert_eq!(got, submitted(&r).id);
    pumps.stop().await;
    assert!(emb.store.pending_events(10).await.unwrap().is_empty());
}
