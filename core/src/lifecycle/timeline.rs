//! The append-only, hash-chained timeline (Đ.6.2: a directive cannot be edited unnoticed) and the
//! envelopes of the events a change emits. Appending is the only way an entry is written.

use crate::model::*;
use chrono::{DateTime, Utc};

/// Builder of a timeline entry appended to a report (keeps the hash chain).
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub action: Action,
    pub note: Option<String>,
    pub attachments: Vec<String>,
    pub data: serde_json::Value,
    pub visible_to_reporter: bool,
}

impl<'a> Entry<'a> {
    /// An entry with no note, attachment or data, visible to the reporter.
    pub fn new(actor: &'a Actor, action: Action) -> Entry<'a> {
        Entry {
            actor,
            action,
            note: None,
            attachments: Vec::new(),
            data: serde_json::Value::Null,
            visible_to_reporter: true,
        }
    }
}

/// Appends `e` to the report's timeline as the move from `from` to the report's current
/// state, chained to the previous entry's hash. The only way an entry is ever written.
pub fn append(report: &mut Report, from: Option<State>, e: Entry<'_>, now: DateTime<Utc>) {
    let mut entry = TimelineEntry {
        seq: report.timeline.len() as u32,
        at: now,
        actor_id: e.actor.id.clone(),
        role: e.actor.role,
        unit: e.actor.unit.clone(),
        action: e.action,
        from_state: from,
        to_state: report.state,
        note: e.note,
        attachments: e.attachments,
        data: e.data,
        visible_to_reporter: e.visible_to_reporter,
        prev_hash: report.last_hash().to_string(),
        hash: String::new(),
        mac: String::new(),
    };
    entry.hash = entry.compute_hash();
    report.timeline.push(entry);
}

pub(crate) fn envelopes(
    report: &Report,
    events: Vec<DomainEvent>,
    now: DateTime<Utc>,
) -> Vec<EventEnvelope> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| EventEnvelope {
            id: crate::ids::event_id(&report.id, report.version, i),
            report_id: report.id.clone(),
            version: report.version,
            at: now,
            event,
            stats: None,
            notify: None,
        })
        .collect()
}
