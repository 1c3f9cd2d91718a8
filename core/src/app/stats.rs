//! Statistics for the office (Đ.9.2): counts by category, unit, ward, state and local month of
//! creation, the on-time rate (overall and per resolving unit), the median time to resolve and
//! the overdue list.

use super::{storage, App};
use crate::city::CityRules;
use crate::error::DomainError;
use crate::lifecycle;
use crate::model::*;
use crate::ports::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Statistics for the office (Đ.9.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Stats {
    pub total: usize,
    pub by_state: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_unit: BTreeMap<String, usize>,
    pub by_ward: BTreeMap<String, usize>,
    pub resolved: usize,
    pub resolved_on_time: usize,
    /// resolved_on_time / resolved, None when nothing is resolved.
    pub on_time_rate: Option<f64>,
    /// Median minutes from assignment to resolution.
    pub median_minutes_to_resolve: Option<i64>,
    pub overdue: Vec<OverdueItem>,
    /// Reports by local month of creation (`YYYY-MM` in the city's time zone).
    #[serde(default)]
    pub by_month: BTreeMap<String, usize>,
    /// Resolutions by the unit that resolved them, with the share on time.
    #[serde(default)]
    pub on_time_by_unit: BTreeMap<String, UnitOnTime>,
    /// Reports still open (a reopened report counts as open).
    #[serde(default)]
    pub open: usize,
    /// 90th percentile minutes from assignment to resolution (from the aggregate histogram).
    #[serde(default)]
    pub p90_minutes_to_resolve: Option<i64>,
    /// More overdue reports exist than `overdue` lists.
    #[serde(default)]
    pub overdue_more: bool,
    /// The unit these figures are limited to (a unit head's own unit).
    #[serde(default)]
    pub unit: Option<String>,
    /// The local months counted, `YYYY-MM` bounds inclusive (statistics from aggregates count
    /// whole months of creation).
    #[serde(default)]
    pub months: Option<(String, String)>,
    /// Every figure by unit, category, ward and month.
    #[serde(default)]
    pub figures: Option<super::aggregated::Breakdown>,
}

/// One unit's resolutions and how many were on time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UnitOnTime {
    pub resolved: usize,
    pub on_time: usize,
    /// on_time / resolved (a unit appears only once it resolved something).
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueItem {
    pub id: ReportId,
    pub category: String,
    pub lead_unit: String,
    pub due_at: DateTime<Utc>,
    pub minutes_late: i64,
}

/// Reports read per page when statistics or exports walk the store.
const PAGE: u32 = 200;

impl App {
    /// Đ.9.2: statistics and exports are for the office, leadership and the IOC.
    pub fn check_stats_access(actor: &Actor) -> Result<(), DomainError> {
        if lifecycle::allowed_roles(Action::ViewStats).contains(&actor.role) {
            Ok(())
        } else {
            Err(DomainError::Forbidden {
                role: actor.role,
                action: Action::ViewStats,
            })
        }
    }

    /// All reports created in [from, to), newest first, at most `max` (paged through the store).
    pub async fn collect(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<Vec<Report>, DomainError> {
        let mut out = Vec::new();
        let mut cursor = None;
        // Bounded: at most max / PAGE + 1 pages.
        for _ in 0..=(max / PAGE as usize + 1) {
            let page = self
                .store
                .query(&ReportQuery {
                    created_from: from,
                    created_to: to,
                    cursor: cursor.take(),
                    limit: PAGE,
                    ..Default::default()
                })
                .await
                .map_err(storage)?;
            out.extend(page.items);
            if out.len() >= max {
                out.truncate(max);
                break;
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Counts by category, unit, ward, state and local month; on-time rate (overall and per
/// resolving unit); median time to resolve; overdue list. Months are the city's local months.
pub fn compute_stats(reports: &[Report], now: DateTime<Utc>, rules: &CityRules) -> Stats {
    let mut s = Stats {
        total: reports.len(),
        ..Default::default()
    };
    let mut durations = Vec::new();
    for r in reports {
        *s.by_state.entry(r.state.as_str().to_string()).or_default() += 1;
        *s.by_category.entry(r.category.clone()).or_default() += 1;
        let month = rules.local(r.created_at).format("%Y-%m").to_string();
        *s.by_month.entry(month).or_default() += 1;
        if let Some(u) = r.lead_unit() {
            *s.by_unit.entry(u.to_string()).or_default() += 1;
        }
        *s.by_ward
            .entry(r.ward.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
        if let (Some(res), Some(a)) = (&r.resolution, &r.assignment) {
            s.resolved += 1;
            let unit = s.on_time_by_unit.entry(res.unit.clone()).or_default();
            unit.resolved += 1;
            if res.on_time {
                s.resolved_on_time += 1;
                unit.on_time += 1;
            }
            durations.push((res.resolved_at - a.assigned_at).num_minutes());
        }
        if r.is_overdue(now) {
            if let Some(a) = &r.assignment {
                s.overdue.push(OverdueItem {
                    id: r.id.clone(),
                    category: r.category.clone(),
                    lead_unit: a.lead_unit.clone(),
                    due_at: a.due_at,
                    minutes_late: (now - a.due_at).num_minutes(),
                });
            }
        }
    }
    for u in s.on_time_by_unit.values_mut() {
        u.rate = u.on_time as f64 / u.resolved as f64;
    }
    s.on_time_rate = (s.resolved > 0).then(|| s.resolved_on_time as f64 / s.resolved as f64);
    durations.sort_unstable();
    s.median_minutes_to_resolve = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2),
    };
    s.overdue.sort_by_key(|o| std::cmp::Reverse(o.minutes_late));
    s
}
