//! The audit trail on a real store (Đ.6.2): a directive edited in storage is caught and named,
//! an untouched report verifies, a chain recomputed without the key is caught by its MAC, and
//! the day's anchor (Merkle root) catches it too. `rewrite` changes a stored report behind the
//! application's back, the way someone with write access to the database would.

use crate::contract::BoxFuture;
use crate::fixtures::{rules, t0};
use phananh_core::app::{App, Ports};
use phananh_core::audit::Break;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Action, Actor, GeoPoint, Report, ReportId, Reporter, Role};
use phananh_core::ports::{AccountStore, ReportStore};
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds};
use std::sync::Arc;

/// Changes a stored report in place (the adapter's raw storage), without the application.
pub type Rewrite = Box<dyn FnOnce(&mut Report) + Send>;

const KEY: &[u8] = b"audit-contract-key-0123456789abcdef";

fn input(title: &str) -> NewReport {
    NewReport {
        category: "environment".into(),
        title: title.into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: None,
        }),
        camera_id: None,
    }
}

/// Recomputes every hash of the chain from `from` on with the key-less SHA-256 (what
/// someone with the database but without the audit key can do), keeping the old MACs.
pub fn recompute_chain(r: &mut Report) {
    let mut prev = phananh_core::model::GENESIS_HASH.to_string();
    for e in r.timeline.iter_mut() {
        e.prev_hash = prev.clone();
        e.hash = e.compute_hash();
        prev = e.hash.clone();
    }
}

pub async fn audit_trail_contract<S, F>(store: Arc<S>, rewrite: F)
where
    S: ReportStore + AccountStore + 'static,
    F: Fn(ReportId, Rewrite) -> BoxFuture<'static, ()>,
{
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
    .with_audit_key(KEY);
    let citizen = Actor::new(crate::fixtures::unique("cit"), Role::Citizen, None);
    let leader = Actor::new("leader-1", Role::Leader, None);
    let (r1, _) = app
        .submit(&citizen, input("Rác thải trước chợ"), &[], None)
        .await
        .expect("submitted");
    let (r2, _) = app
        .submit(&citizen, input("Cống thoát nước tắc"), &[], None)
        .await
        .expect("submitted");
    let r1 = app
        .act(
            &r1.id,
            &leader,
            Command::Directive {
                text: "Giao phường xử lý trong 2 ngày".into(),
                corrects: None,
            },
        )
        .await
        .expect("directive");
    let seq = r1
        .timeline
        .iter()
        .rev()
        .find(|e| e.action == Action::Directive)
        .map(|e| e.seq)
        .expect("a directive entry");
    // A correction is a new directive naming the old one; the old one stays as it was.
    let r1 = app
        .act(
            &r1.id,
            &leader,
            Command::Directive {
                text: "Đính chính: giao phường xử lý trong 3 ngày".into(),
                corrects: Some(seq),
            },
        )
        .await
        .expect("correction");
    let last = r1.timeline.last().expect("entries");
    assert_eq!(
        last.data["corrects"], seq,
        "the correction references the directive"
    );
    assert_eq!(
        r1.timeline[seq as usize].note.as_deref(),
        Some("Giao phường xử lý trong 2 ngày")
    );
    assert!(
        r1.timeline.iter().all(|e| !e.mac.is_empty()),
        "every entry sealed"
    );

    let stored1 = app.load(&r1.id).await.expect("stored");
    let check = app.audit_check(&stored1);
    assert!(
        check.ok && check.keyed,
        "an untouched report verifies: {check:?}"
    );
    let anchor = app.anchor_day(t0().date_naive()).await.expect("anchor");
    assert!(anchor.entries >= 4, "{anchor:?}");

    // 1. The directive edited in storage: caught, naming the report and the entry.
    rewrite(
        r1.id.clone(),
        Box::new(move |r: &mut Report| {
            r.timeline[seq as usize].note = Some("Không cần xử lý".into());
        }),
    )
    .await;
    let leader_view = app.verify_report(&leader, &r1.id).await.expect("verified");
    assert!(!leader_view.ok);
    assert_eq!(leader_view.report_id, r1.id);
    let bad = leader_view.first_bad.expect("a bad entry");
    assert_eq!((bad.seq, bad.reason), (seq, Break::HashMismatch));
    assert_eq!(bad.action, "directive");
    // The other report is untouched and verifies.
    let stored2 = app.load(&r2.id).await.expect("stored");
    assert!(app.audit_check(&stored2).ok);

    // 2. The chain recomputed with the key-less hash: the MAC catches it at the same entry…
    rewrite(r1.id.clone(), Box::new(recompute_chain)).await;
    let after = app.load(&r1.id).await.expect("stored");
    assert!(
        after.verify_timeline().is_ok(),
        "the key-less chain looks whole"
    );
    let bad = app.audit_check(&after).first_bad.expect("a bad entry");
    assert_eq!((bad.seq, bad.reason), (seq, Break::MacMismatch));
    // …and so does the day's anchor.
    let again = app.anchor_day(t0().date_naive()).await.expect("anchor");
    assert_eq!(again.entries, anchor.entries);
    assert_ne!(
        again.root, anchor.root,
        "the anchor catches a recomputed chain"
    );
}
