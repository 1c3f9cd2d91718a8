//! Issue 10: the events the notify and publish consumers receive carry the reporter's contact
//! for their messages (so they do not read the report), and events travel through SNS, SQS and
//! the table's stream and are stored (EVENT items, the embedded outbox). On a real store, with
//! the personal-data key configured: what the store holds for a report's events (read raw,
//! behind the application's back) contains no reporter phone, e-mail or name; the notify and
//! publish consumers, given those stored events as the bus carries them, still tell the
//! reporter at the real address, and nothing else is read for it.

use crate::contract::BoxFuture;
use crate::fixtures::{rules, t0};
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{
    Actor, EventEnvelope, EventKind, ReportId, Reporter, ReporterContact, Role,
};
use phananh_core::pii::{self, Keyring};
use phananh_core::ports::{AccountStore, ReportStore};
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds};
use std::sync::Arc;

const NAME: &str = "Đặng Thu Hà";
const PHONE: &str = "0988333444";
const PHONE_DIGITS: &str = "988333444";
const EMAIL: &str = "thuha.dang@example.vn";

/// `raw_events` answers the events the store holds for a report, each as stored (the outbox
/// row's JSON, the EVENT item's attribute), read without the application.
pub async fn event_contact_sealed_contract<S, F>(store: Arc<S>, cipher: Arc<Keyring>, raw_events: F)
where
    S: ReportStore + AccountStore + 'static,
    F: Fn(ReportId) -> BoxFuture<'static, Vec<String>>,
{
    let notifier = Arc::new(RecordingNotifier::default());
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store,
            media: Arc::new(MemoryMedia::default()),
            notifier: notifier.clone(),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
    .with_pii_cipher(cipher);
    let input = NewReport {
        category: "environment".into(),
        title: "Nước thải tràn ra đường".into(),
        description: "Cống thoát nước bị tắc, nước thải tràn ra mặt đường.".into(),
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
    };
    let citizen = Actor::new("cit-ev-pii", Role::Citizen, None);
    let (r, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submitted");
    // The IOC rejects it: the reporter is told the reason by the publish consumer.
    let ioc = Actor::new("ioc-1", Role::IocHead, None);
    app.act(
        &r.id,
        &ioc,
        Command::Reject {
            reason: "Không thuộc phạm vi tiếp nhận".into(),
        },
    )
    .await
    .expect("rejected");

    let raw = raw_events(r.id.clone()).await;
    let mut kinds = Vec::new();
    for stored in &raw {
        for personal in [NAME, PHONE_DIGITS, EMAIL] {
            assert!(
                !stored.contains(personal),
                "{personal} in a stored event: {stored}"
            );
        }
        let env: EventEnvelope = serde_json::from_str(stored).expect("a stored event parses");
        kinds.push(env.event.event_kind());
        if let Some(rep) = env.notify.as_ref().and_then(|f| f.reporter.as_ref()) {
            assert!(
                matches!(rep, ReporterContact::Sealed(v) if pii::is_sealed(v)),
                "sealed contact expected: {stored}"
            );
        }
        for consumer in [Consumer::Notify, Consumer::Publish] {
            app.handle_event(consumer, &env).await.expect("handled");
        }
    }
    for k in [EventKind::ReportSubmitted, EventKind::ReportRejected] {
        assert!(kinds.contains(&k), "{k} stored: {kinds:?}");
    }
    // The reporter is still told, at the real address: received, then rejected.
    let to_reporter: Vec<_> = notifier
        .all()
        .into_iter()
        .filter(|n| n.to == "+84988333444" || n.to == EMAIL)
        .collect();
    assert_eq!(to_reporter.len(), 4, "{to_reporter:?}");
    assert!(
        to_reporter
            .iter()
            .any(|n| n.body.contains("Không thuộc phạm vi tiếp nhận")),
        "{to_reporter:?}"
    );
}
