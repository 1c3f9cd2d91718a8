//! Two staff acting on one report at once, through the use case on a real report store: each
//! decided on the version they were looking at; one wins, the other is refused with the current
//! version and state (409 on the API) and nothing of theirs is applied. Run on every store.

use crate::fixtures::{rules, t0, unique};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, GeoPoint, ReportId, Role, State};
use phananh_core::ports::ReportStore;
use phananh_core::DomainError;
use phananh_testkit::actors;
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use std::sync::Arc;

const LEAD: &str = "phong_tnmt";

/// The Lai Châu rules on `store`, every other port in memory.
fn app_on(store: Arc<dyn ReportStore>) -> App {
    App::new(
        Arc::new(rules().clone()),
        Ports {
            store,
            accounts: Arc::new(MemoryStore::default()),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
}

/// A citizen's report, screened and assigned to [`LEAD`].
async fn assigned(app: &App) -> ReportId {
    let input = NewReport {
        category: "environment".into(),
        title: unique("Rác thải ùn ứ"),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: Some(GeoPoint {
            lat: 22.41,
            lon: 103.47,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    let (r, _) = app
        .submit(&actors::citizen(), input, &[], None)
        .await
        .expect("submitted");
    app.classify(&r.id).await.expect("screened");
    let assign = Command::Assign {
        lead_unit: LEAD.into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(&r.id, &actors::ioc_head(), assign)
        .await
        .expect("assigned");
    r.id
}

/// The officer accepts while the unit head returns the case, both on what they saw: exactly one
/// wins; the other gets the current version and state, and the store holds the winner only.
pub async fn two_staff_acting_at_once_one_wins_the_other_sees_the_current_version(
    store: Arc<dyn ReportStore>,
) {
    let app = Arc::new(app_on(store));
    for round in 0..5 {
        let id = assigned(&app).await;
        let seen = app.load(&id).await.expect("stored");
        assert_eq!(seen.state, State::Assigned);
        let v = seen.version;
        let staff = actors::unit_staff(LEAD);
        let head = Actor::new(format!("head-{LEAD}"), Role::UnitHead, Some(LEAD));
        let accept = Command::Accept { note: None };
        let give_back = Command::Return {
            reason: "Không đúng thẩm quyền".into(),
            suggested_category: None,
        };
        let (a, b) = {
            let (app_a, app_b) = (app.clone(), app.clone());
            let (id_a, id_b) = (id.clone(), id.clone());
            let ta =
                tokio::spawn(async move { app_a.act_at(&id_a, &staff, accept, Some(v)).await });
            let tb =
                tokio::spawn(async move { app_b.act_at(&id_b, &head, give_back, Some(v)).await });
            (ta.await.expect("task a"), tb.await.expect("task b"))
        };
        let (winner, loser) = match (a, b) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (a, b) => panic!("round {round}: exactly one must win: {a:?} / {b:?}"),
        };
        assert_eq!(winner.version, v + 1, "round {round}");
        assert_eq!(
            loser,
            DomainError::Stale {
                current_version: v + 1,
                state: winner.state
            },
            "round {round}: the loser is told the current version and state"
        );
        let stored = app.load(&id).await.expect("stored");
        assert_eq!(stored.version, v + 1, "round {round}: one change stored");
        assert_eq!(stored.state, winner.state);
        assert_eq!(
            stored.timeline.len(),
            seen.timeline.len() + 1,
            "round {round}: one timeline entry, the winner's"
        );
    }

    // Acting again on the version now current works; an old one is refused.
    let id = assigned(&app).await;
    let v = app.load(&id).await.expect("stored").version;
    let staff = actors::unit_staff(LEAD);
    app.act_at(&id, &staff, Command::Accept { note: None }, Some(v))
        .await
        .expect("accepted on the current version");
    let progress = Command::Progress {
        note: "Đang xác minh".into(),
        attachments: vec![],
    };
    assert!(matches!(
        app.act_at(&id, &staff, progress.clone(), Some(v)).await,
        Err(DomainError::Stale { current_version, state: State::InProgress }) if current_version == v + 1
    ));
    app.act_at(&id, &staff, progress, Some(v + 1))
        .await
        .expect("progress on the current version");

    // Without a version, two notes at once are both kept: each retried with every rule checked.
    let (app_a, app_b) = (app.clone(), app.clone());
    let (id_a, id_b) = (id.clone(), id.clone());
    let note = |t: &str| Command::AddNote {
        note: t.into(),
        attachments: vec![],
    };
    let (na, nb) = (note("Ghi chú 1"), note("Ghi chú 2"));
    let ta = tokio::spawn(async move { app_a.act(&id_a, &actors::ioc_head(), na).await });
    let tb = tokio::spawn(async move { app_b.act(&id_b, &actors::ioc_operator(), nb).await });
    ta.await.expect("task").expect("note 1 kept");
    tb.await.expect("task").expect("note 2 kept");
    assert_eq!(app.load(&id).await.expect("stored").version, v + 4);
}
