//! The operator's jobs on AWS (issue 12 items 1 and 5), run by the `phananh-aws` command of
//! the functions crate with the operator's credentials:
//!
//! - [`verify_range`]: every report with a timeline entry from a day on has its hash and MAC
//!   chains verified, and every finished day from then on is recomputed and compared with its
//!   S3 Object Lock anchor (`crate::anchors`), as `phananh audit verify` does embedded;
//! - [`seal_reporters`]: the reporter data of items written before encryption at rest (or
//!   under an older key) sealed with the current key, reading the table by a paged Scan;
//!   idempotent: an item already sealed with the current key is not rewritten.

use crate::anchors::{AnchorError, DayCheck, S3Anchors};
use crate::DynamoReportStore;
use chrono::{Duration, NaiveDate};
use phananh_core::app::App;
use phananh_core::audit::AuditCheck;
use phananh_core::pii::{seal_reporter, PiiCipher};
use phananh_core::ports::{ReportStore, StoreError};
use tracing::{error, info};

/// At most this many days are compared with their anchors in one run (ten years, the
/// anchors' retention); each day is recomputed from the table.
pub const MAX_VERIFY_DAYS: i64 = 3660;
/// Report items examined per Scan page, and the bound on pages of one sealing run.
const SCAN_PAGE: i32 = 100;
const MAX_SCAN_PAGES: usize = 1_000_000;

/// What [`verify_range`] found.
#[derive(Debug, Clone)]
pub struct RangeCheck {
    pub from: NaiveDate,
    /// Reports with an entry from `from` on, verified.
    pub reports: usize,
    /// Whether MACs were checked (an audit key is configured).
    pub keyed: bool,
    /// The reports whose chain breaks, each with its first bad entry.
    pub broken: Vec<AuditCheck>,
    /// Each finished day from `from` on, against its anchor (empty without an anchor bucket).
    pub days: Vec<(NaiveDate, DayCheck)>,
}

impl RangeCheck {
    /// A report's chain or a day's anchor broke.
    pub fn failed(&self) -> bool {
        !self.broken.is_empty()
            || self
                .days
                .iter()
                .any(|(_, d)| matches!(d, DayCheck::Broken { .. }))
    }

    /// The lines the command prints (Vietnamese, like the embedded command): each break with
    /// the report id and its first bad entry, each anchor that no longer matches, a summary.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.broken {
            if let Some(bad) = &c.first_bad {
                out.push(format!(
                    "HỎNG  phản ánh {}: mục #{} ({}, {}) — {}",
                    c.report_id,
                    bad.seq,
                    bad.action,
                    bad.at.to_rfc3339(),
                    bad.reason.message_vi()
                ));
            }
        }
        let mut bad_days = 0;
        let mut anchored = 0;
        for (day, check) in &self.days {
            match check {
                DayCheck::Broken { anchored: a, now } => {
                    bad_days += 1;
                    anchored += 1;
                    out.push(format!(
                        "HỎNG  bản neo ngày {day}: đã neo {a}, nay tính được {now}"
                    ));
                }
                DayCheck::Matches => anchored += 1,
                DayCheck::NotAnchored => {}
            }
        }
        out.push(format!(
            "Đã kiểm tra {} phản ánh từ ngày {} ({}), {} ngày có bản neo: {} phản ánh hỏng, {} bản neo không khớp.",
            self.reports,
            self.from,
            if self.keyed { "chuỗi băm và MAC" } else { "chỉ chuỗi băm" },
            anchored,
            self.broken.len(),
            bad_days
        ));
        out
    }
}

/// Verifies the chains of every report changed from `from` (UTC day) on and, with
/// `anchors`, every finished day from `from` to yesterday against its anchor.
pub async fn verify_range(
    app: &App,
    anchors: Option<&S3Anchors>,
    from: NaiveDate,
) -> Result<RangeCheck, AnchorError> {
    let from_t = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let checks = app.verify_all(from_t).await?;
    let reports = checks.len();
    let broken: Vec<AuditCheck> = checks.into_iter().filter(|c| !c.ok).collect();
    for c in &broken {
        let seq = c.first_bad.as_ref().map(|b| b.seq);
        error!(report_id = %c.report_id, seq = ?seq, "audit chain broken");
    }
    let mut days = Vec::new();
    if let Some(anchors) = anchors {
        let today = app.now().date_naive();
        let mut day = from.max(today - Duration::days(MAX_VERIFY_DAYS));
        while day < today {
            days.push((day, anchors.verify_day(app, day).await?));
            day += Duration::days(1);
        }
    }
    Ok(RangeCheck {
        from,
        reports,
        keyed: app.audit_keyed(),
        broken,
        days,
    })
}

/// What [`seal_reporters`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealRun {
    /// Report items read.
    pub scanned: u64,
    /// Report items rewritten with their reporter data sealed.
    pub sealed: u64,
}

/// Seals, item by item, the reporter data still in plaintext (or under an older key) in the
/// table of `store` (the raw store, not the sealing wrapper): a paged Scan of the report
/// items, then for each a read, the seal, and a conditional write on its version (a report
/// changed meanwhile is read again once).
pub async fn seal_reporters(
    store: &DynamoReportStore,
    cipher: &dyn PiiCipher,
) -> Result<SealRun, StoreError> {
    let mut run = SealRun::default();
    let mut start = None;
    for _ in 0..MAX_SCAN_PAGES {
        let (ids, next) = store.scan_report_ids(start, SCAN_PAGE).await?;
        for id in ids {
            run.scanned += 1;
            for attempt in 0..2 {
                let Some(current) = store.get(&id).await? else {
                    break;
                };
                let Some(mut rep) = current.reporter.clone() else {
                    break;
                };
                let changed = seal_reporter(cipher, &mut rep)
                    .map_err(|e| StoreError::Backend(format!("report {id}: {e}")))?;
                if !changed {
                    break;
                }
                let mut sealed = current.clone();
                sealed.reporter = Some(rep);
                sealed.version = current.version + 1;
                match store.update(&sealed, current.version, &[]).await {
                    Ok(()) => {
                        run.sealed += 1;
                        info!(report_id = %id, "reporter personal data sealed at rest");
                        break;
                    }
                    Err(StoreError::Conflict) if attempt == 0 => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        match next {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    Ok(run)
}
