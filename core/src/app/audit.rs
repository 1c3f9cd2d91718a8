//! Audit use cases (Đ.6.2, Đ.9.2): sealing each change's new timeline entries with the MAC
//! chain before they are stored, verifying a report on every staff read and on demand (the
//! staff endpoint, the `phananh audit verify` command), and the daily Merkle anchor.

use super::{storage, App};
use crate::audit::{self, Anchor, AuditCheck};
use crate::error::DomainError;
use crate::model::{Actor, Report, ReportId};
use crate::ports::ReportQuery;
use chrono::{DateTime, NaiveDate, Utc};
use tracing::error;

/// The most reports one pass over the store reads (pages of 200).
const MAX_SCAN_PAGES: usize = 50_000;

impl App {
    /// Seals the entries a change just appended (no-op without an audit key).
    pub(super) fn seal(&self, report: &mut Report) {
        if let Some(key) = &self.keys.audit {
            audit::seal(report, key);
        }
    }

    /// Whether the audit key is configured (MACs are written and checked).
    pub fn audit_keyed(&self) -> bool {
        self.keys.audit.is_some()
    }

    /// Verifies `report`'s timeline (hash chain, and MAC chain with the key). A break is
    /// logged as an error naming the report and the entry: never silent.
    pub fn audit_check(&self, report: &Report) -> AuditCheck {
        let check = audit::verify(report, self.keys.audit.as_deref());
        if let Some(bad) = &check.first_bad {
            error!(report_id = %report.id, seq = bad.seq, reason = ?bad.reason, "AUDIT: timeline verification failed");
        }
        check
    }

    /// Verifies one report for a staff member who may see it (the staff endpoint).
    pub async fn verify_report(
        &self,
        actor: &Actor,
        id: &ReportId,
    ) -> Result<AuditCheck, DomainError> {
        if !actor.role.is_staff() {
            return Err(DomainError::NotFound);
        }
        let r = self.get_for(id, actor).await?;
        Ok(self.audit_check(&r))
    }

    /// Every report, page by page (the audit command and the anchor), handed to `each`.
    async fn scan_reports(&self, mut each: impl FnMut(&Report)) -> Result<usize, DomainError> {
        let mut q = ReportQuery {
            limit: 200,
            ..ReportQuery::default()
        };
        let mut n = 0;
        for _ in 0..MAX_SCAN_PAGES {
            let page = self.store.query(&q).await.map_err(storage)?;
            for r in &page.items {
                each(r);
                n += 1;
            }
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(n),
            }
        }
        Ok(n)
    }

    /// Verifies every report with a timeline entry at or after `from` (all without it).
    /// Answers every check (broken ones have `ok == false`).
    pub async fn verify_all(
        &self,
        from: Option<DateTime<Utc>>,
    ) -> Result<Vec<AuditCheck>, DomainError> {
        let mut out = Vec::new();
        self.scan_reports(|r| {
            let recent = from.is_none_or(|f| r.timeline.iter().any(|e| e.at >= f));
            if recent {
                out.push(self.audit_check(r));
            }
        })
        .await?;
        Ok(out)
    }

    /// The anchor of `day` (UTC): the Merkle root of every timeline entry written that day.
    pub async fn anchor_day(&self, day: NaiveDate) -> Result<Anchor, DomainError> {
        let mut reports = Vec::new();
        self.scan_reports(|r| {
            if r.timeline.iter().any(|e| e.at.date_naive() == day) {
                reports.push(r.clone());
            }
        })
        .await?;
        Ok(audit::anchor_of(&reports, day, self.now()))
    }
}
