//! Reporter personal data at rest (issue 12 item 5, Đ.4) on a real store: what the store
//! holds for a report (read raw, behind the application's back) contains no reporter name,
//! phone or e-mail; the IOC's masked view and a leader's audited reveal still show them; the
//! public view and a unit's view never; an application with another key gets a clear error,
//! never garbage; a report stored in plaintext before is sealed by the migration, once.

use crate::contract::BoxFuture;
use crate::fixtures::{rules, t0};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, ReportId, Reporter, Role};
use phananh_core::pii::{self, Keyring, PiiCipher};
use phananh_core::ports::{AccountStore, ReportStore};
use phananh_core::views::{public_view, staff_view};
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds};
use std::sync::Arc;

const NAME: &str = "Hoàng Thị Lan";
const PHONE: &str = "0977111222";
const PHONE_DIGITS: &str = "977111222";
const EMAIL: &str = "lan.hoang@example.vn";

fn input(title: &str) -> NewReport {
    NewReport {
        category: "environment".into(),
        title: title.into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some(NAME.into()),
            phone: Some(PHONE.into()),
            email: Some(EMAIL.into()),
        }),
        camera_id: None,
    }
}

fn app<S: ReportStore + AccountStore + 'static>(store: Arc<S>) -> App {
    App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store,
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
}

fn assert_no_plaintext(raw: &str) {
    for personal in [NAME, PHONE_DIGITS, EMAIL] {
        assert!(
            !raw.contains(personal),
            "{personal} stored in plaintext: {raw}"
        );
    }
    assert!(
        raw.contains(pii::SEALED_PREFIX),
        "sealed values expected: {raw}"
    );
}

/// `raw` answers what the store holds for a report, as text (a row, an item), read without
/// the application. `cipher` is the runtime's keyring (a key file's, a KMS-unwrapped one).
pub async fn pii_at_rest_contract<S, F>(store: Arc<S>, cipher: Arc<Keyring>, raw: F)
where
    S: ReportStore + AccountStore + 'static,
    F: Fn(ReportId) -> BoxFuture<'static, String>,
{
    // One id sequence for all three applications (clones share their ports).
    let plain = app(store.clone());
    let sealed = plain.clone().with_pii_cipher(cipher.clone());
    let citizen = Actor::new("cit-pii", Role::Citizen, None);
    let (r, _) = sealed
        .submit(&citizen, input("Rác trước chợ"), &[], None)
        .await
        .expect("submitted");
    assert_no_plaintext(&raw(r.id.clone()).await);

    // The views that may show the data still do (from the sealed store).
    let ioc = Actor::new("ioc-1", Role::IocHead, None);
    let loaded = sealed.get_for(&r.id, &ioc).await.expect("loaded");
    let v = staff_view(&loaded, &ioc, sealed.rules(), t0());
    let masked = v.report.reporter.expect("masked reporter for the IOC");
    assert_eq!(masked.phone.as_deref(), Some("09******22"));
    assert_eq!(masked.name.as_deref(), Some("H*** T*** L***"));
    let revealed = sealed
        .reveal_reporter(&r.id, &ioc, "Xác minh hiện trường".into())
        .await
        .expect("revealed")
        .expect("a reporter");
    assert_eq!(revealed.name.as_deref(), Some(NAME));
    assert_eq!(revealed.phone.as_deref(), Some("+84977111222"));
    assert_eq!(revealed.email.as_deref(), Some(EMAIL));
    // A unit and the public never get it.
    let unit = Actor::new("u-1", Role::UnitStaff, Some("kinhte"));
    assert!(staff_view(&loaded, &unit, sealed.rules(), t0())
        .report
        .reporter
        .is_none());
    let public = serde_json::to_string(&public_view(&loaded, sealed.rules())).expect("json");
    for personal in [NAME, PHONE_DIGITS, EMAIL] {
        assert!(!public.contains(personal), "{personal} in the public view");
    }
    // The reveal itself is stored, still sealed.
    assert_no_plaintext(&raw(r.id.clone()).await);

    // A name typed to look sealed is sealed like any other and reads back as typed.
    let mut lookalike = input("Đèn đường hỏng");
    let fake = format!(
        "{}{}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        pii::SEALED_PREFIX,
        cipher.current_key_id()
    );
    if let Some(rep) = lookalike.reporter.as_mut() {
        rep.name = Some(fake.clone());
    }
    let (l, _) = sealed
        .submit(&citizen, lookalike, &[], None)
        .await
        .expect("submitted");
    let back = sealed.get_for(&l.id, &ioc).await.expect("readable");
    assert_eq!(back.reporter.and_then(|r| r.name), Some(fake));

    // Another key: a clear error naming the key, never garbage.
    let stranger = plain.clone().with_pii_cipher(Arc::new(
        Keyring::new(&[Keyring::generate_key()]).expect("ring"),
    ));
    let e = stranger
        .get_for(&r.id, &ioc)
        .await
        .expect_err("another key must not read the data");
    assert!(
        e.to_string().contains(cipher.current_key_id()) && e.to_string().contains("not configured"),
        "{e}"
    );

    // A report stored before encryption at rest (an application without the cipher) is
    // sealed by the migration, which rewrites nothing the second time.
    let (old, _) = plain
        .submit(&citizen, input("Cống tắc"), &[], None)
        .await
        .expect("submitted in plaintext");
    assert!(raw(old.id.clone()).await.contains(EMAIL));
    let n = pii::seal_stored_reports(store.as_ref(), cipher.as_ref())
        .await
        .expect("sealed");
    assert_eq!(n, 1, "only the plaintext report is rewritten");
    assert_no_plaintext(&raw(old.id.clone()).await);
    assert_eq!(
        pii::seal_stored_reports(store.as_ref(), cipher.as_ref())
            .await
            .expect("sealed"),
        0
    );
    let after = sealed
        .act(
            &old.id,
            &ioc,
            Command::RevealReporter {
                reason: "Xác minh".into(),
            },
        )
        .await
        .expect("acted on the migrated report");
    assert_eq!(after.reporter.and_then(|r| r.email).as_deref(), Some(EMAIL));
}
