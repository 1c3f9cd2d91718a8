//! Reports, events and accounts for tests, built through the lifecycle's public functions
//! (`lifecycle::submit` for a new report, `lifecycle::append` for every timeline entry), so
//! the hash chain and event ids are exactly what the product writes. The state helpers set
//! arbitrary states for storage tests; the lifecycle's own tests go through `lifecycle::apply`.
//! Plus a temporary directory that removes itself.

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::city::CityRules;
use phananh_core::ids::event_id;
use phananh_core::lifecycle::{self, Entry, NewReport};
use phananh_core::model::{
    Action, Actor, Assignment, ClockKind, DomainEvent, EventEnvelope, Report, ReportId, Reporter,
    Role, Source, State,
};
use phananh_core::ports::StaffAccount;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The shipped Lai Châu rules, loaded once.
pub fn rules() -> &'static CityRules {
    static RULES: OnceLock<CityRules> = OnceLock::new();
    RULES.get_or_init(|| match CityRules::laichau_default() {
        Ok(r) => r,
        Err(e) => panic!("the shipped Lai Châu config is invalid: {e}"),
    })
}
/// A fixed instant all fixtures count from: Monday 2025-03-03 09:00 in Lai Châu (02:00 UTC).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// `t0()` plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// A unique text for ids and filter values, so suites can share a backend.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

fn push_entry(r: &mut Report, actor: &Actor, action: Action, to: State, at: DateTime<Utc>) {
    let from = r.state;
    r.state = to;
    r.updated_at = at;
    lifecycle::append(r, Some(from), Entry::new(actor, action), at);
}

/// A freshly submitted app report (version 1) by citizen `citizen-1`, category
/// `environment`, ward `tan_phong`, created at `created_at`: what `lifecycle::submit` makes
/// of it, with the ward screening would find.
pub fn report(id: &str, created_at: DateTime<Utc>) -> Report {
    let input = NewReport {
        category: "environment".into(),
        title: "Rác thải ùn ứ".into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: None,
        address: Some("Đường Trần Hưng Đạo, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Nguyễn Văn An".into()),
            phone: Some("0912345678".into()),
            email: None,
        }),
        camera_id: None,
    };
    let citizen = Actor::new("citizen-1", Role::Citizen, None);
    let mut r = match lifecycle::submit(
        ReportId(id.to_string()),
        input,
        &citizen,
        created_at,
        rules(),
    ) {
        Ok(t) => t.report,
        Err(e) => panic!("the fixture report is refused by the rules: {e}"),
    };
    r.ward = Some("tan_phong".into());
    r
}

/// Sets the reporter's citizen id.
pub fn by(mut r: Report, citizen: &str) -> Report {
    if let Some(rep) = r.reporter.as_mut() {
        rep.citizen_id = citizen.to_string();
    }
    r
}

/// A camera report: no reporter, no ward.
pub fn camera(mut r: Report, camera_id: &str) -> Report {
    r.source = Source::Camera {
        camera_id: camera_id.into(),
    };
    r.reporter = None;
    r.ward = None;
    r
}

pub fn in_category(mut r: Report, category: &str) -> Report {
    r.category = category.to_string();
    r.reported_category = category.to_string();
    r
}

pub fn in_ward(mut r: Report, ward: &str) -> Report {
    r.ward = Some(ward.to_string());
    r
}

/// Assigns to `lead` (+ `coordinating`) with the deadline `due_at`; state `Assigned`.
pub fn assigned(mut r: Report, lead: &str, coordinating: &[&str], due_at: DateTime<Utc>) -> Report {
    let when = r.updated_at + Duration::minutes(1);
    r.assignment = Some(Assignment {
        lead_unit: lead.to_string(),
        coordinating_units: coordinating.iter().map(|u| u.to_string()).collect(),
        assigned_at: when,
        due_at,
        clock: ClockKind::WorkingHours,
        deadline_minutes: 5 * 8 * 60,
        assigned_by: "ioc-head-1".into(),
    });
    let ioc = Actor::new("ioc-head-1", Role::IocHead, None);
    push_entry(&mut r, &ioc, Action::Assign, State::Assigned, when);
    r
}

/// Moves to `state` with a timeline entry by the system (no other field changes).
pub fn in_state(mut r: Report, state: State) -> Report {
    let when = r.updated_at + Duration::minutes(1);
    let action = match state {
        State::InProgress => Action::Accept,
        State::Resolved => Action::Resolve,
        State::Published => Action::Publish,
        State::Closed => Action::Close,
        State::Rejected => Action::Reject,
        State::Deferred => Action::Defer,
        State::Screened => Action::Screen,
        _ => Action::AddNote,
    };
    push_entry(&mut r, &Actor::system(), action, state, when);
    r
}

/// Published at `published_at` with a public answer.
pub fn published(r: Report, published_at: DateTime<Utc>) -> Report {
    let mut r = in_state(r, State::Published);
    r.published_at = Some(published_at);
    r.public_answer = Some("Đã thu gom rác và vệ sinh khu vực.".into());
    r
}

pub fn secret(mut r: Report) -> Report {
    r.flags.state_secret = true;
    r
}

/// Sets when the next escalation threshold falls due.
pub fn escalating_at(mut r: Report, next_at: Option<DateTime<Utc>>) -> Report {
    r.escalation.next_at = next_at;
    r
}

/// The stored successor of `r`: version + 1 with a note entry (what an update stores).
pub fn next_version(r: &Report, note: &str) -> Report {
    let mut n = r.clone();
    n.version = r.version + 1;
    let when = r.updated_at + Duration::minutes(1);
    let staff = Actor::new("ioc-op-1", Role::IocOperator, None);
    let state = n.state;
    n.updated_at = when;
    let mut entry = Entry::new(&staff, Action::AddNote);
    entry.note = Some(note.to_string());
    lifecycle::append(&mut n, Some(state), entry, when);
    n
}

/// The event envelope `<report id>:<version>:<index>` for `r`.
pub fn event(r: &Report, index: u32, event: DomainEvent) -> EventEnvelope {
    EventEnvelope {
        id: event_id(&r.id, r.version, index as usize),
        report_id: r.id.clone(),
        version: r.version,
        at: r.updated_at,
        event,
        stats: None,
        notify: None,
    }
}

/// A freshly submitted report for adapter tests and benchmarks (alias of [`report`]).
pub fn submitted_report(id: &str, created_at: DateTime<Utc>) -> Report {
    report(id, created_at)
}

/// `ReportSubmitted` for `r`.
pub fn submitted(r: &Report) -> EventEnvelope {
    event(r, 0, DomainEvent::ReportSubmitted)
}

/// A staff account.
pub fn account(id: &str, username: &str, role: Role, unit: Option<&str>) -> StaffAccount {
    StaffAccount {
        id: id.to_string(),
        username: username.to_string(),
        display_name: format!("Cán bộ {username}"),
        role,
        unit: unit.map(str::to_string),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        disabled: false,
        created_at: t0(),
        sessions_valid_from: None,
        totp: None,
    }
}

/// A fresh directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        if let Err(e) = std::fs::create_dir_all(&p) {
            panic!("cannot create temp dir {}: {e}", p.display());
        }
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_timelines_are_valid_hash_chains() {
        let r = report("r1", t0());
        assert_eq!(r.verify_timeline(), Ok(()));
        let r = published(
            in_state(assigned(r, "u1", &["u2"], at(60)), State::Resolved),
            at(120),
        );
        assert_eq!(r.verify_timeline(), Ok(()));
        assert_eq!(r.state, State::Published);
        let n = next_version(&r, "ghi chú");
        assert_eq!(n.version, 2);
        assert_eq!(n.verify_timeline(), Ok(()));
    }
}
