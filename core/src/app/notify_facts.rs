//! The notify and publish consumers send from what the event carries (issue 10): core stamps
//! [`NotifyFacts`] on every event those consumers receive, from the report about to be
//! stored, so they build the messages without reading the report (one `GetItem` per event on
//! AWS). An event of the earlier shape (stored or queued before, without facts) falls back
//! to reading the report.
//!
//! Personal data (Đ.4): the reporter's phone and e-mail in the facts are sealed with the
//! report store's personal-data key ([`crate::pii`], the same scheme as the report document),
//! because events travel through SNS, SQS and the table's stream and are stored in the
//! outbox; they are opened only here, in the notify path. Without a key they travel as the
//! report document stores them: as given.
//!
//! Đ.8.2, a report flagged secret after its event: the facts carry the title as
//! [`notified_title`] decided when the event was created. A message sent later than
//! [`FACTS_TITLE_FRESH_SECS`] after its event (a retried send, a redelivery, a queue
//! drained late) could be sent after a unit head flagged the report: for those the report is
//! read again and the title decided on it as it is now: a message sent more than that bound
//! after its event never carries the title of a report flagged since. Messages of a fresh
//! event go out as they would have a moment earlier, before the flag.

use super::notifications::{facts_of, notifications_from_facts, notified_title};
use super::{storage, App, Consumer};
use crate::error::DomainError;
use crate::model::*;
use crate::pii::{self, PiiCipher, PiiError};
use crate::ports::Notification;
use tracing::{error, info, warn};

/// How long after its event the title an event carries is sent without reading the report
/// again (Đ.8.2, above). Longer than the consumers take on the happy path (seconds), shorter
/// than the queues' visibility timeout (180 s), so every redelivery checks the flag again.
pub const FACTS_TITLE_FRESH_SECS: i64 = 60;

/// Whether the notify or the publish consumer receives events of this kind.
fn sends_messages(kind: EventKind) -> bool {
    Consumer::Notify.kinds().contains(&kind) || Consumer::Publish.kinds().contains(&kind)
}

fn pii_failure(id: &ReportId, e: PiiError) -> DomainError {
    error!(report_id = %id, error = %e, "reporter contact of an event");
    DomainError::Storage(format!("report {id}: {e}"))
}

/// What is sealed of a contact: `<phone>\n<e-mail>`, either empty when absent (neither an
/// address nor a phone number holds a line break: `crate::contact` validates both at intake).
fn contact_line(c: &NotifyContact) -> String {
    format!(
        "{}\n{}",
        c.phone.as_deref().unwrap_or_default(),
        c.email.as_deref().unwrap_or_default()
    )
}

fn of_contact_line(s: &str) -> Option<NotifyContact> {
    let (phone, email) = s.split_once('\n')?;
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    Some(NotifyContact {
        phone: some(phone),
        email: some(email),
    })
}

/// Seals the reporter's contact an event carries with the current key of `c`: a plaintext
/// one (an event stored while no key was configured) sealed, one sealed with an older key of
/// the ring sealed again (rotation). Returns whether it changed. For the migrations of stored
/// events (the embedded outbox); DynamoDB's `EVENT#` items are not rewritten (a rewrite
/// would be published again by the table's stream): they expire by TTL.
pub fn seal_event_contact(c: &dyn PiiCipher, env: &mut EventEnvelope) -> Result<bool, PiiError> {
    let Some(rep) = env.notify.as_mut().and_then(|f| f.reporter.as_mut()) else {
        return Ok(false);
    };
    let line = match rep {
        ReporterContact::Plain(contact) => contact_line(contact),
        ReporterContact::Sealed(v) => match pii::key_id_of(v) {
            Some(id) if id == c.current_key_id() => return Ok(false),
            _ => c.open(v)?,
        },
    };
    *rep = ReporterContact::Sealed(c.seal(&line)?);
    Ok(true)
}

impl App {
    /// Stamps, on the events the notify and publish consumers receive, what their messages
    /// need of `r` (the report about to be stored, reporter data in plaintext), the reporter's
    /// contact sealed with the personal-data key where one is configured. Every change core
    /// stores goes through it (submit, act); public for the tests that build events by hand.
    pub fn stamp_notify(
        &self,
        r: &Report,
        events: &mut [EventEnvelope],
    ) -> Result<(), DomainError> {
        for env in events.iter_mut() {
            if !sends_messages(env.event.event_kind()) {
                continue;
            }
            let mut f = facts_of(&self.rules, &env.event, r);
            if let (Some(c), Some(ReporterContact::Plain(contact))) = (&self.pii, &f.reporter) {
                let sealed = c
                    .seal(&contact_line(contact))
                    .map_err(|e| pii_failure(&r.id, e))?;
                f.reporter = Some(ReporterContact::Sealed(sealed));
            }
            env.notify = Some(f);
        }
        Ok(())
    }

    /// The reporter's contact of `f` opened (a sealed value needs the key it names).
    fn open_contact(&self, id: &ReportId, f: &mut NotifyFacts) -> Result<(), DomainError> {
        let Some(ReporterContact::Sealed(sealed)) = &f.reporter else {
            return Ok(());
        };
        let line = match &self.pii {
            Some(c) => c.open(sealed),
            None => Err(PiiError::UnknownKey(
                pii::key_id_of(sealed).unwrap_or_default().to_string(),
            )),
        }
        .map_err(|e| pii_failure(id, e))?;
        let contact = of_contact_line(&line).ok_or_else(|| pii_failure(id, PiiError::Malformed))?;
        f.reporter = Some(ReporterContact::Plain(contact));
        Ok(())
    }

    /// The notifications an event sends: from what it carries, without reading the report
    /// (a stale event's title checked again, Đ.8.2 above); an event without facts reads the
    /// report. None: the report is unknown.
    pub async fn notifications_of(
        &self,
        env: &EventEnvelope,
    ) -> Result<Option<Vec<Notification>>, DomainError> {
        let id = &env.report_id;
        let Some(carried) = &env.notify else {
            let Some(r) = self.store.get(id).await.map_err(storage)? else {
                return Ok(None);
            };
            info!(report_id = %id, event_id = %env.id, "notify: event without facts, report read");
            return Ok(Some(self.notifications_for(env, &r)));
        };
        let mut f = carried.clone();
        self.open_contact(id, &mut f)?;
        let age = self.now() - env.at;
        if age > chrono::Duration::seconds(FACTS_TITLE_FRESH_SECS) {
            match self.store.get(id).await.map_err(storage)? {
                Some(r) => f.title = notified_title(&self.rules, &r),
                None => {
                    warn!(report_id = %id, event_id = %env.id, "notify: unknown report, ignored");
                    return Ok(None);
                }
            }
        }
        Ok(Some(notifications_from_facts(&self.rules, env, &f)))
    }
}
