//! Small builders for the embedded adapter tests (the full fixtures live in `phananh-tests`).
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::model::{DomainEvent, EventEnvelope, Report};
use std::path::{Path, PathBuf};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).single().unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn report(id: &str, created_at: DateTime<Utc>) -> Report {
    phananh_core::memory::submitted_report(id, created_at)
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
