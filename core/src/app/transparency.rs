//! The public transparency figures (issue 9, Đ.8.1 in spirit: results are for the public to
//! see): for the last N local months, per unit and per category, how many reports were
//! received, how many were resolved and how many of those on time (Đ.7.4, by the regulated
//! deadline). Only aggregates leave here: no report, no title, no person.
//!
//! The figures are the office statistics' own aggregate rows ([`crate::aggregates`], issue 13
//! item 6), added up by the same fold ([`super::aggregated`]), so the public and the office
//! never disagree, and a request reads the rows of the months asked for (one call to the
//! aggregate store) and never a report: correct and fast at any number of reports.

use super::aggregated::{fold, FigureRow, StatsScope};
use super::{storage, App};
use crate::error::DomainError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest period the page may ask for (ten years).
pub const TRANSPARENCY_MAX_MONTHS: u32 = 120;

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

/// The figures of one period: whole local months of creation, `from_month..=to_month`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transparency {
    /// Months covered, the current one included.
    pub months: u32,
    /// First month (`YYYY-MM`, the city's time zone).
    pub from_month: String,
    /// Last month: the current one.
    pub to_month: String,
    pub received: usize,
    pub resolved: usize,
    pub on_time: usize,
    pub on_time_rate: Option<f64>,
    /// Per unit (the unit that resolved a report, else its lead unit), most received first.
    pub by_unit: Vec<TransparencyRow>,
    /// Per configured category (every one, also those with no report).
    pub by_category: Vec<TransparencyRow>,
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn row(code: &str, name: String, f: Option<&FigureRow>) -> TransparencyRow {
    let f = f.cloned().unwrap_or_default();
    TransparencyRow {
        code: code.to_string(),
        name,
        received: count(f.received),
        resolved: count(f.resolved),
        on_time: count(f.on_time),
        on_time_rate: f.on_time_rate,
    }
}

/// The month `back` months before the month of `d`, as `YYYY-MM`.
fn month_before(d: NaiveDate, back: u32) -> String {
    let index = i64::from(d.year()) * 12 + i64::from(d.month0()) - i64::from(back);
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

impl App {
    /// The public figures of the current local month and the `months - 1` before it
    /// (reports created in them), from the statistics' aggregate rows. Anyone.
    pub async fn transparency(&self, months: u32) -> Result<Transparency, DomainError> {
        let months = months.clamp(1, TRANSPARENCY_MAX_MONTHS);
        let today = self.rules.local(self.now()).date_naive();
        let from_month = month_before(today, months - 1);
        let to_month = month_before(today, 0);
        let rows = self
            .aggregates
            .months(&from_month, &to_month)
            .await
            .map_err(storage)?;
        let (total, breakdown) = fold(&rows, &StatsScope::City);
        let cfg = &self.rules.config;
        let mut by_unit: Vec<TransparencyRow> = breakdown
            .by_unit
            .iter()
            .map(|(code, f)| {
                let name = cfg
                    .unit(code)
                    .map(|u| u.name.clone())
                    .unwrap_or_else(|| code.clone());
                row(code, name, Some(f))
            })
            .collect();
        by_unit.sort_by(|a, b| b.received.cmp(&a.received).then(a.name.cmp(&b.name)));
        let by_category = cfg
            .categories
            .iter()
            .map(|c| row(&c.code, c.name.clone(), breakdown.by_category.get(&c.code)))
            .collect();
        Ok(Transparency {
            months,
            from_month,
            to_month,
            received: count(total.received),
            resolved: count(total.resolved),
            on_time: count(total.on_time),
            on_time_rate: total.on_time_rate(),
            by_unit,
            by_category,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::month_before;
    use chrono::NaiveDate;

    #[test]
    fn months_count_back_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        assert_eq!(month_before(d, 0), "2026-02");
        assert_eq!(month_before(d, 1), "2026-01");
        assert_eq!(month_before(d, 2), "2025-12");
        assert_eq!(month_before(d, 11), "2025-03");
        assert_eq!(month_before(d, 25), "2024-01");
    }
}
