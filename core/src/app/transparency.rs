//! The public transparency figures (issue 9, Đ.8.1 in spirit: results are for the public to
//! see): for the last N days, per unit and per category, how many reports were received, how
//! many were resolved and how many of those on time. Only aggregates leave here: no report,
//! no title, no person. A thin shape over the office statistics ([`super::stats`]), computed by
//! the same [`compute_stats`] so the public and the office never disagree.

use super::stats::compute_stats;
use super::App;
use crate::error::DomainError;
use crate::model::Report;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many reports are read for one period (the newest).
pub const TRANSPARENCY_MAX_REPORTS: usize = 20_000;

/// One line of the table: a unit or a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransparencyRow {
    pub code: String,
    pub name: String,
    pub received: usize,
    pub resolved: usize,
    pub on_time: usize,
    /// on_time / resolved; None when nothing was resolved.
    pub on_time_rate: Option<f64>,
}

/// The figures of one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transparency {
    pub days: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub received: usize,
    pub resolved: usize,
    pub on_time: usize,
    pub on_time_rate: Option<f64>,
    /// Per unit: received = reports it leads, resolved and on time = what it resolved.
    pub by_unit: Vec<TransparencyRow>,
    /// Per configured category (every one, also those with no report).
    pub by_category: Vec<TransparencyRow>,
    /// True when the period held more reports than were counted.
    pub truncated: bool,
}

fn rate(resolved: usize, on_time: usize) -> Option<f64> {
    (resolved > 0).then(|| on_time as f64 / resolved as f64)
}

impl App {
    /// The public figures of the last `days` days (reports created since then). Anyone.
    pub async fn transparency(&self, days: i64) -> Result<Transparency, DomainError> {
        let to = self.now();
        let from = to - Duration::days(days.max(1));
        let reports = self
            .collect(Some(from), None, TRANSPARENCY_MAX_REPORTS + 1)
            .await?;
        let truncated = reports.len() > TRANSPARENCY_MAX_REPORTS;
        let reports = &reports[..reports.len().min(TRANSPARENCY_MAX_REPORTS)];
        let cfg = &self.rules.config;
        let all = compute_stats(reports, to, &self.rules);

        let mut units: BTreeMap<String, TransparencyRow> = BTreeMap::new();
        let unit_row = |code: &str| TransparencyRow {
            code: code.to_string(),
            name: cfg
                .unit(code)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| code.to_string()),
            received: 0,
            resolved: 0,
            on_time: 0,
            on_time_rate: None,
        };
        for (u, n) in &all.by_unit {
            units
                .entry(u.clone())
                .or_insert_with(|| unit_row(u))
                .received = *n;
        }
        for (u, x) in &all.on_time_by_unit {
            let row = units.entry(u.clone()).or_insert_with(|| unit_row(u));
            row.resolved = x.resolved;
            row.on_time = x.on_time;
            row.on_time_rate = rate(x.resolved, x.on_time);
        }
        let mut by_unit: Vec<TransparencyRow> = units.into_values().collect();
        by_unit.sort_by(|a, b| b.received.cmp(&a.received).then(a.name.cmp(&b.name)));

        let mut groups: BTreeMap<&str, Vec<Report>> = BTreeMap::new();
        for r in reports {
            groups
                .entry(r.category.as_str())
                .or_default()
                .push(r.clone());
        }
        let by_category = cfg
            .categories
            .iter()
            .map(|c| {
                let s = groups
                    .get(c.code.as_str())
                    .map(|rs| compute_stats(rs, to, &self.rules))
                    .unwrap_or_default();
                TransparencyRow {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    received: s.total,
                    resolved: s.resolved,
                    on_time: s.resolved_on_time,
                    on_time_rate: s.on_time_rate,
                }
            })
            .collect();
        Ok(Transparency {
            days,
            from,
            to,
            received: all.total,
            resolved: all.resolved,
            on_time: all.resolved_on_time,
            on_time_rate: all.on_time_rate,
            by_unit,
            by_category,
            truncated,
        })
    }
}
