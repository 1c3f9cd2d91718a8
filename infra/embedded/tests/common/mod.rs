//! Small builders for the embedded adapter tests (the full fixtures live in `phananh-tests`).
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::model::{
    Action, DomainEvent, EventEnvelope, Report, ReportId, Reporter, Role, Source, State,
    TimelineEntry, GENESIS_HASH,
};
use std::path::{Path, PathBuf};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).single().unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn report(id: &str, created_at: DateTime<Utc>) -> Report {
    let mut entry = TimelineEntry {
        seq: 0,
        at: created_at,
        actor_id: "citizen-1".into(),
        role: Role::Citizen,
        unit: None,
        action: Action::Submit,
        from_state: None,
        to_state: State::Submitted,
        note: None,
        attachments: vec![],
        data: serde_json::Value::Null,
        visible_to_reporter: true,
        prev_hash: GENESIS_HASH.into(),
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    Report {
        id: ReportId(id.into()),
        version: 1,
        source: Source::App,
        reporter: Some(Reporter {
            citizen_id: "citizen-1".into(),
            ..Default::default()
        }),
        category: "moi_truong".into(),
        reported_category: "moi_truong".into(),
        title: "Rác thải ùn ứ".into(),
        description: "Rác thải ùn ứ trước chợ.".into(),
        location: None,
        address: None,
        ward: Some("tan_phong".into()),
        reporter_ward: None,
        attachments: vec![],
        state: State::Submitted,
        assignment: None,
        flags: Default::default(),
        deferral: None,
        resolution: None,
        public_answer: None,
        published_at: None,
        rating: None,
        escalation: Default::default(),
        created_at,
        updated_at: created_at,
        timeline: vec![entry],
    }
}

pub fn bump(r: &Report) -> Report {
    let mut n = r.clone();
    n.version += 1;
    n.title = format!("{} (v{})", r.title, n.version);
    n
}

pub fn event(r: &Report, index: u32, event: DomainEvent) -> EventEnvelope {
    EventEnvelope {
        id: format!("{}:{}:{}", r.id, r.version, index),
        report_id: r.id.clone(),
        version: r.version,
        at: r.updated_at,
        event,
    }
}

pub fn submitted(r: &Report) -> EventEnvelope {
    event(r, 0, DomainEvent::ReportSubmitted)
}

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
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
