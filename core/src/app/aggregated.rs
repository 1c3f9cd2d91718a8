//! Statistics read from the aggregate rows (issue 13 item 6, Đ.9.2): who may see which
//! figures, how a change reaches the rows (right after it is stored, and by the statistics
//! consumer), the rebuild from the stored reports, and the CSV export in pages.
//!
//! A statistics request reads the rows of the months asked for (one call to the aggregate
//! store) and one page of the overdue list (one store query): never the reports themselves.

use super::export::{csv_row, CSV_HEADER};
use super::stats::{OverdueItem, Stats, UnitOnTime};
use super::{storage, App};
use crate::aggregates::{AggregateStore, Contribution, Figures, MonthFigures};
use crate::error::DomainError;
use crate::lifecycle;
use crate::model::*;
use crate::ports::ReportQuery;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::{info, warn};

/// The most overdue reports one statistics answer lists (one store page).
pub const OVERDUE_LIST_MAX: usize = 100;
/// Reports per page of the CSV export and of the rebuild.
pub const EXPORT_PAGE: u32 = 200;
/// The rebuild stops after this many pages (200 million reports).
const MAX_REBUILD_PAGES: usize = 1_000_000;

/// Whose figures an actor may see (Đ.9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsScope {
    /// The whole city: the office, leadership and the IOC.
    City,
    /// One unit's own figures: its head follows the unit's handling (Đ.7.4).
    Unit(UnitId),
}

/// Đ.9.2: the office, leadership and the IOC see the city's figures; a unit head sees the
/// figures of their own unit only; everyone else is refused.
pub fn stats_scope(actor: &Actor) -> Result<StatsScope, DomainError> {
    if lifecycle::allowed_roles(Action::ViewStats).contains(&actor.role) {
        return Ok(StatsScope::City);
    }
    match (&actor.role, &actor.unit) {
        (Role::UnitHead, Some(u)) if !u.is_empty() => Ok(StatsScope::Unit(u.clone())),
        _ => Err(DomainError::Forbidden {
            role: actor.role,
            action: Action::ViewStats,
        }),
    }
}

/// One row of the answer: counts, the on-time rate, median and 90th percentile handling time
/// (from the histogram, within 9.1 %, see [`crate::aggregates`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FigureRow {
    pub received: i64,
    pub open: i64,
    pub resolved: i64,
    pub on_time: i64,
    pub on_time_rate: Option<f64>,
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
}

impl FigureRow {
    pub fn of(f: &Figures) -> FigureRow {
        FigureRow {
            received: f.received,
            open: f.open,
            resolved: f.resolved,
            on_time: f.on_time,
            on_time_rate: f.on_time_rate(),
            median_minutes: f.handling_quantile(0.5),
            p90_minutes: f.handling_quantile(0.9),
        }
    }
}

/// The rows by unit, category, ward and month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Breakdown {
    pub by_unit: BTreeMap<String, FigureRow>,
    pub by_category: BTreeMap<String, FigureRow>,
    pub by_ward: BTreeMap<String, FigureRow>,
    pub by_month: BTreeMap<String, FigureRow>,
}

/// The local months `[from, to)` covers, as `YYYY-MM` bounds (inclusive).
fn month_bounds(
    app: &App,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> (String, String) {
    let from = from.map_or_else(
        || "0000-00".to_string(),
        |t| app.rules.local(t).format("%Y-%m").to_string(),
    );
    let to = to.map_or_else(
        || "9999-99".to_string(),
        |t| {
            app.rules
                .local(t - Duration::nanoseconds(1))
                .format("%Y-%m")
                .to_string()
        },
    );
    (from, to)
}

/// Adds up the rows of `months` into the totals and the breakdown, within `scope`.
pub(super) fn fold(months: &[MonthFigures], scope: &StatsScope) -> (Figures, Breakdown) {
    let mut total = Figures::default();
    let mut by: [BTreeMap<String, Figures>; 4] = Default::default();
    let unit_key = match scope {
        StatsScope::Unit(u) => Some(format!("unit:{u}")),
        StatsScope::City => None,
    };
    for m in months {
        for (key, f) in &m.rows {
            let whole = match &unit_key {
                Some(k) => key == k,
                None => key == "all",
            };
            if whole {
                total.add(f, 1);
                by[3].entry(m.month.clone()).or_default().add(f, 1);
            }
            let (slot, name) = match key.split_once(':') {
                Some(("unit", u)) => (0, u),
                Some(("category", c)) if unit_key.is_none() => (1, c),
                Some(("ward", w)) if unit_key.is_none() => (2, w),
                _ => continue,
            };
            if slot == 0 && unit_key.as_deref().is_some_and(|k| k != key) {
                continue;
            }
            by[slot].entry(name.to_string()).or_default().add(f, 1);
        }
    }
    let rows = |m: &BTreeMap<String, Figures>| {
        m.iter()
            .map(|(k, f)| (k.clone(), FigureRow::of(f)))
            .collect::<BTreeMap<_, _>>()
    };
    let breakdown = Breakdown {
        by_unit: rows(&by[0]),
        by_category: rows(&by[1]),
        by_ward: rows(&by[2]),
        by_month: rows(&by[3]),
    };
    (total, breakdown)
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl App {
    /// The aggregate store the statistics read and keep; `inline`: a change updates it right
    /// after the report is stored (else only the statistics consumer does).
    pub fn with_aggregates(mut self, store: Arc<dyn AggregateStore>, inline: bool) -> App {
        self.aggregates = store;
        self.inline_aggregates = inline;
        self
    }

    /// Counts a stored report's current version in the figures (idempotent: an older or the
    /// same version changes nothing). Returns whether the rows changed.
    pub async fn count_in_stats(&self, r: &Report) -> Result<bool, DomainError> {
        let c = Contribution::of(r, &self.rules);
        self.aggregates
            .apply(&r.id, r.version, &c)
            .await
            .map_err(storage)
    }

    /// Right after a change is stored, where the runtime keeps the figures in process. A
    /// failure is logged: the statistics consumer counts the change from its event.
    pub(super) async fn count_inline(&self, r: &Report) {
        if !self.inline_aggregates {
            return;
        }
        if let Err(e) = self.count_in_stats(r).await {
            warn!(report_id = %r.id, error = %e, "statistics not updated; left to the consumer");
        }
    }

    /// The events the statistics consumer receives carry the report's share at their
    /// version, computed here from the report about to be stored, and the share of the
    /// version it was changed from (`before`, None for a new report).
    pub(super) fn stamp_stats(
        &self,
        before: Option<&Report>,
        r: &Report,
        events: &mut [EventEnvelope],
    ) {
        let kinds = super::Consumer::Stats.kinds();
        let mut share = None;
        for env in events.iter_mut() {
            if kinds.contains(&env.event.event_kind()) {
                let c = share.get_or_insert_with(|| crate::aggregates::ShareChange {
                    before: before.map(|b| Contribution::of(b, &self.rules)),
                    after: Contribution::of(r, &self.rules),
                });
                env.stats = Some(c.clone());
            }
        }
    }

    /// The statistics consumer: counts the share the event carries at its version, without
    /// reading the report (an older or the same version changes nothing, so duplicate and
    /// reordered events converge on the latest version). An event without it (stored
    /// before events carried it) counts the report as it is now.
    pub(super) async fn count_from_event(&self, env: &EventEnvelope) -> Result<(), DomainError> {
        let id = &env.report_id;
        if let Some(c) = &env.stats {
            let changed = self
                .aggregates
                .apply_change(id, env.version, c)
                .await
                .map_err(storage)?;
            info!(report_id = %id, version = env.version, changed, "stats: share counted from the event");
            return Ok(());
        }
        let Some(r) = self.store.get(id).await.map_err(storage)? else {
            warn!(report_id = %id, "stats: unknown report, ignored");
            return Ok(());
        };
        let changed = self.count_in_stats(&r).await?;
        info!(report_id = %id, version = r.version, changed, "stats: report counted");
        Ok(())
    }

    /// The statistics consumer on a batch of events (an SQS batch on AWS, issue 10): the
    /// shares the events carry are counted together ([`AggregateStore::apply_changes`]:
    /// one transaction on DynamoDB), the events without one (stored before events carried
    /// it) one by one as [`App::handle_event`] does; events the consumer does not receive are
    /// ignored. On an error the caller handles the events one by one (idempotent).
    pub async fn count_batch(&self, envs: &[EventEnvelope]) -> Result<(), DomainError> {
        let kinds = super::Consumer::Stats.kinds();
        let mut changes = Vec::new();
        for env in envs {
            if !kinds.contains(&env.event.event_kind()) {
                continue;
            }
            match &env.stats {
                Some(c) => changes.push(crate::aggregates::CountedChange {
                    id: env.report_id.clone(),
                    version: env.version,
                    change: c.clone(),
                }),
                None => self.count_from_event(env).await?,
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let changed = self
            .aggregates
            .apply_changes(&changes)
            .await
            .map_err(storage)?;
        for (c, changed) in changes.iter().zip(changed) {
            info!(report_id = %c.id, version = c.version, changed, "stats: share counted from the event (batch)");
        }
        Ok(())
    }

    /// Recomputes every aggregate row from the stored reports (the migration of existing
    /// data, or a repair). The office or the operator at the machine. Returns the reports
    /// counted.
    pub async fn rebuild_stats(&self, actor: &Actor) -> Result<usize, DomainError> {
        if !matches!(actor.role, Role::System | Role::OfficeAdmin) {
            return Err(DomainError::Forbidden {
                role: actor.role,
                action: Action::ViewStats,
            });
        }
        self.aggregates.clear().await.map_err(storage)?;
        let mut n = 0;
        let mut cursor = None;
        for _ in 0..MAX_REBUILD_PAGES {
            let page = self
                .store
                .query(&ReportQuery {
                    cursor: cursor.take(),
                    limit: EXPORT_PAGE,
                    ..Default::default()
                })
                .await
                .map_err(storage)?;
            // A page's reports at once (the embedded writer commits them together).
            let mut set = tokio::task::JoinSet::new();
            for r in page.items {
                let app = self.clone();
                set.spawn(async move { app.count_in_stats(&r).await });
                n += 1;
            }
            while let Some(done) = set.join_next().await {
                done.map_err(|e| DomainError::Storage(format!("statistics rebuild: {e}")))??;
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        info!(reports = n, "statistics rebuilt from the reports");
        Ok(n)
    }

    /// Statistics of reports created in the local months `[from, to)` touches (Đ.9.2), from
    /// the aggregate rows; the overdue list is the `max` (at most [`OVERDUE_LIST_MAX`]) most
    /// late reports. A unit head gets their unit's figures only.
    pub async fn stats(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<Stats, DomainError> {
        let scope = stats_scope(actor)?;
        let (from_m, to_m) = month_bounds(self, from, to);
        let months = self
            .aggregates
            .months(&from_m, &to_m)
            .await
            .map_err(storage)?;
        let (total, breakdown) = fold(&months, &scope);
        let now = self.now();
        let unit = match &scope {
            StatsScope::Unit(u) => Some(u.clone()),
            StatsScope::City => None,
        };
        let limit = max.clamp(1, OVERDUE_LIST_MAX);
        // One more than listed tells whether there are more.
        let mut late = self
            .store
            .overdue(now, unit.as_deref(), limit as u32 + 1)
            .await
            .map_err(storage)?;
        let overdue_more = late.len() > limit;
        late.truncate(limit);
        let mut overdue: Vec<OverdueItem> = late
            .iter()
            .filter_map(|r| {
                let a = r.assignment.as_ref()?;
                Some(OverdueItem {
                    id: r.id.clone(),
                    category: r.category.clone(),
                    lead_unit: a.lead_unit.clone(),
                    due_at: a.due_at,
                    minutes_late: (now - a.due_at).num_minutes(),
                })
            })
            .collect();
        overdue.sort_by_key(|o| std::cmp::Reverse(o.minutes_late));
        let simple = |m: &BTreeMap<String, FigureRow>| {
            m.iter()
                .map(|(k, r)| (k.clone(), count(r.received)))
                .collect::<BTreeMap<_, _>>()
        };
        let on_time_by_unit = breakdown
            .by_unit
            .iter()
            .filter(|(_, r)| r.resolved > 0)
            .map(|(u, r)| {
                (
                    u.clone(),
                    UnitOnTime {
                        resolved: count(r.resolved),
                        on_time: count(r.on_time),
                        rate: r.on_time_rate.unwrap_or(0.0),
                    },
                )
            })
            .collect();
        let by_state = BTreeMap::from([
            ("open".to_string(), count(total.open)),
            ("resolved".to_string(), count(total.resolved)),
            (
                "closed_without_result".to_string(),
                count(total.received - total.open - total.resolved),
            ),
        ]);
        Ok(Stats {
            total: count(total.received),
            by_state,
            by_category: simple(&breakdown.by_category),
            by_unit: simple(&breakdown.by_unit),
            by_ward: simple(&breakdown.by_ward),
            resolved: count(total.resolved),
            resolved_on_time: count(total.on_time),
            on_time_rate: total.on_time_rate(),
            median_minutes_to_resolve: total.handling_quantile(0.5),
            overdue,
            by_month: simple(&breakdown.by_month),
            on_time_by_unit,
            open: count(total.open),
            p90_minutes_to_resolve: total.handling_quantile(0.9),
            overdue_more,
            unit,
            months: Some((from_m, to_m)),
            figures: Some(breakdown),
        })
    }

    /// One page of the CSV export of reports created in `[from, to)` (no reporter data):
    /// its rows, and the cursor of the next page. A unit head exports their unit's reports.
    pub async fn export_page(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<(String, Option<String>), DomainError> {
        let unit = match stats_scope(actor)? {
            StatsScope::Unit(u) => Some(u),
            StatsScope::City => None,
        };
        let page = self
            .store
            .query(&ReportQuery {
                created_from: from,
                created_to: to,
                unit,
                cursor,
                limit: EXPORT_PAGE,
                ..Default::default()
            })
            .await
            .map_err(storage)?;
        let now = self.now();
        let mut out = String::new();
        for r in &page.items {
            out.push_str(&csv_row(r, now));
        }
        Ok((out, page.next_cursor))
    }

    /// The CSV header line of the export.
    pub fn export_header() -> &'static str {
        CSV_HEADER
    }
}
