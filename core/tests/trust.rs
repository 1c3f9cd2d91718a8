//! The trust rules of core, as they read: the audit chain (Đ.6.2) catches an edited entry and
//! a chain rehashed without the key, a correction references the directive it corrects, the
//! Merkle root depends on every leaf, and the staff password delay grows.

use phananh_core::app::guards::{login_delay_secs, LOGIN_MAX_DELAY_SECS};
use phananh_core::audit::{self, Break};
use phananh_core::lifecycle::{self, Command};
use phananh_core::model::{Action, Actor, Report, Role};
use phananh_core::DomainError;
use phananh_testkit::fixtures::{at, report, rules};

const KEY: &[u8] = b"core-trust-test-key";

fn with_directive() -> Report {
    let leader = Actor::new("leader-1", Role::Leader, None);
    let mut r = report("r-trust", at(0));
    audit::seal(&mut r, KEY);
    let t = lifecycle::apply(
        &r,
        Command::Directive {
            text: "Giao phường xử lý".into(),
            corrects: None,
        },
        &leader,
        at(5),
        rules(),
    )
    .expect("a leader directs");
    let mut r = t.report;
    audit::seal(&mut r, KEY);
    r
}

#[test]
fn a_sealed_timeline_verifies_and_an_edited_directive_is_named() {
    let r = with_directive();
    let check = audit::verify(&r, Some(KEY));
    assert!(check.ok && check.keyed, "{check:?}");
    let seq = r.timeline.len() - 1;
    let mut edited = r.clone();
    edited.timeline[seq].note = Some("Không cần xử lý".into());
    let bad = audit::verify(&edited, Some(KEY)).first_bad.expect("caught");
    assert_eq!((bad.seq as usize, bad.reason), (seq, Break::HashMismatch));
    assert_eq!(bad.action, "directive");
}

#[test]
fn a_chain_rehashed_without_the_key_fails_its_mac_and_a_wrong_key_fails_too() {
    let r = with_directive();
    let mut rehashed = r.clone();
    let seq = rehashed.timeline.len() - 1;
    rehashed.timeline[seq].note = Some("Không cần xử lý".into());
    rehashed.timeline[seq].hash = rehashed.timeline[seq].compute_hash();
    assert!(
        rehashed.verify_timeline().is_ok(),
        "the key-less chain looks whole"
    );
    let bad = audit::verify(&rehashed, Some(KEY))
        .first_bad
        .expect("caught");
    assert_eq!(bad.reason, Break::MacMismatch);
    assert!(!audit::verify(&r, Some(b"another key")).ok);
    // Without a key only the hash chain is checked (and it says so).
    let unkeyed = audit::verify(&rehashed, None);
    assert!(unkeyed.ok && !unkeyed.keyed);
}

#[test]
fn an_entry_removed_or_unsealed_is_caught() {
    let r = with_directive();
    let mut removed = r.clone();
    removed.timeline.remove(0);
    assert_eq!(
        audit::verify(&removed, Some(KEY))
            .first_bad
            .map(|b| b.reason),
        Some(Break::SeqGap)
    );
    let mut stripped = r.clone();
    if let Some(e) = stripped.timeline.last_mut() {
        e.mac.clear();
    }
    assert_eq!(
        audit::verify(&stripped, Some(KEY))
            .first_bad
            .map(|b| b.reason),
        Some(Break::MacMissing)
    );
}

#[test]
fn a_correction_is_a_new_directive_naming_an_existing_directive() {
    let r = with_directive();
    let leader = Actor::new("leader-1", Role::Leader, None);
    let old = r.timeline.len() as u32 - 1;
    let t = lifecycle::apply(
        &r,
        Command::Directive {
            text: "Đính chính: giao phòng Kinh tế".into(),
            corrects: Some(old),
        },
        &leader,
        at(10),
        rules(),
    )
    .expect("a correction");
    let last = t.report.timeline.last().expect("entry");
    assert_eq!(last.action, Action::Directive);
    assert_eq!(last.data["corrects"], old);
    assert_eq!(t.report.timeline[old as usize], r.timeline[old as usize]);
    // Naming an entry that is not a directive is refused.
    let err = lifecycle::apply(
        &r,
        Command::Directive {
            text: "Đính chính".into(),
            corrects: Some(0),
        },
        &leader,
        at(10),
        rules(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "corrects"));
}

#[test]
fn the_day_root_changes_with_any_leaf_and_is_order_independent_of_input() {
    let a = with_directive();
    let mut b = with_directive();
    b.id.0 = "r-other".into();
    let day = at(0).date_naive();
    let one = audit::anchor_of([&a, &b], day, at(0));
    let two = audit::anchor_of([&b, &a], day, at(0));
    assert_eq!(one.root, two.root);
    assert_eq!(one.entries, a.timeline.len() + b.timeline.len());
    let mut c = b.clone();
    if let Some(e) = c.timeline.last_mut() {
        e.hash = e.compute_hash().replace('a', "b");
    }
    assert_ne!(audit::anchor_of([&a, &c], day, at(0)).root, one.root);
    assert_eq!(
        audit::merkle_root(vec![]),
        phananh_core::model::GENESIS_HASH
    );
}

#[test]
fn the_password_delay_grows_and_is_capped() {
    assert_eq!(login_delay_secs(2, 3), 0);
    assert_eq!(login_delay_secs(3, 3), 1);
    assert_eq!(login_delay_secs(4, 3), 2);
    assert_eq!(login_delay_secs(6, 3), 8);
    assert_eq!(login_delay_secs(60, 3), LOGIN_MAX_DELAY_SECS);
}

#[test]
fn d8_2_a_secret_reports_reporter_sees_only_status_what_they_sent_and_the_approved_answer() {
    use phananh_core::views::reporter_view;
    use phananh_testkit::fixtures::{assigned, secret};
    let mut r = assigned(report("r-secret", at(0)), "phong_kinh_te", &[], at(240));
    r.public_answer = Some("Đã xử lý theo quy định.".into());
    let open = reporter_view(&r, rules());
    assert!(open.unit_name.is_some() && open.due_at.is_some());
    assert!(open.timeline.len() > 1);

    let s = secret(r.clone());
    let v = reporter_view(&s, rules());
    assert_eq!(v.state, s.state);
    assert_eq!(v.title, s.title, "their own text stays");
    assert!(v.unit_name.is_none() && v.due_at.is_none() && v.resolution_summary.is_none());
    assert!(
        v.timeline.iter().all(|e| e.seq == 0),
        "only their submission"
    );
    assert!(
        v.public_answer.is_none(),
        "no answer before a leader approves publication"
    );
    let mut approved = s.clone();
    approved.published_at = Some(at(300));
    assert_eq!(
        reporter_view(&approved, rules()).public_answer.as_deref(),
        Some("Đã xử lý theo quy định.")
    );
}
