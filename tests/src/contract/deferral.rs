//! `ReportStore` contract, Đ.7.5: a deferral the city decided keeps its decision and target
//! date through the store (get, queries), the decision's event is kept like any other, and
//! the escalation index follows the target date (the "past the expected date" alert of an
//! accepted deferral fires from the day after the target, not after the unit's date).

use crate::fixtures::*;
use chrono::{Days, NaiveDate};
use phananh_core::lifecycle::{self, Command};
use phananh_core::model::{Actor, DomainEvent, Report, Role, State};
use phananh_core::ports::{ReportQuery, ReportStore};

pub async fn a_decided_deferral_and_its_target_date_round_trip(store: &dyn ReportStore) {
    let rules = rules();
    let expected = NaiveDate::from_ymd_opt(2025, 3, 10).expect("a date");
    let target = NaiveDate::from_ymd_opt(2025, 3, 24).expect("a date");
    // Assigned, then deferred by the unit to 10/03 (the alert due the next local day).
    let mut deferred = in_state(
        assigned(report(&unique("d"), at(0)), "phong_tnmt", &[], at(600)),
        State::Deferred,
    );
    deferred.deferral = Some(phananh_core::model::Deferral {
        reason: "Chờ kinh phí".into(),
        expected_date: expected,
        deferred_at: at(5),
        decision: None,
    });
    deferred.escalation.next_at = lifecycle::next_escalation_at(&deferred, rules);
    let unit_alert = rules.local_day_start(expected.checked_add_days(Days::new(1)).expect("a day"));
    assert_eq!(
        deferred.escalation.next_at, unit_alert,
        "the unit's date first"
    );
    store.create(&deferred, &[], None).await.expect("create");

    // A leader accepts with a later target date.
    let leader = Actor::new("leader-1", Role::Leader, None);
    let cmd = Command::DecideDeferral {
        accept: true,
        target_date: Some(target),
        note: Some("Đồng ý, đề nghị hoàn thành trước 24/3".into()),
    };
    let t = lifecycle::apply(&deferred, cmd, &leader, at(60), rules).expect("accepted");
    assert!(
        t.events
            .iter()
            .any(|e| matches!(e.event, DomainEvent::DeferralDecided { accepted: true, .. })),
        "{:?}",
        t.events
    );
    store
        .update(&t.report, deferred.version, &t.events)
        .await
        .expect("update");

    let got: Report = store
        .get(&deferred.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got, t.report, "stored as written");
    assert_eq!(got.target_date(), Some(target));
    let decision = got
        .deferral
        .as_ref()
        .and_then(|d| d.decision.as_ref())
        .expect("the decision is stored");
    assert_eq!((decision.accepted, decision.role), (true, Role::Leader));
    assert_eq!(got.due_at(), Some(at(600)), "the regulated deadline stays");

    // Queries return it with the target too (the staff lists read them).
    let q = ReportQuery {
        states: vec![State::Deferred],
        unit: Some("phong_tnmt".into()),
        limit: 50,
        ..Default::default()
    };
    let page = store.query(&q).await.expect("query");
    let listed = page
        .items
        .iter()
        .find(|r| r.id == deferred.id)
        .expect("listed by state and unit");
    assert_eq!(listed.target_date(), Some(target));

    // The escalation index follows the target: nothing due the day after the unit's date,
    // due the day after the target.
    let target_alert = rules
        .local_day_start(target.checked_add_days(Days::new(1)).expect("a day"))
        .expect("a local day");
    assert_eq!(got.escalation.next_at, Some(target_alert));
    let due_ids = |v: Vec<Report>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let unit_alert = unit_alert.expect("a local day");
    let before = due_ids(store.escalations_due(unit_alert, 100).await.expect("due"));
    assert!(!before.contains(&deferred.id), "not due at the unit's date");
    let after = due_ids(store.escalations_due(target_alert, 100).await.expect("due"));
    assert!(after.contains(&deferred.id), "due at the target date");
}
