//! Statistics from aggregates (Đ.9.2; issue 13 item 6): what one report adds to the office's
//! figures (its [`Contribution`]), the figures themselves ([`Figures`]: counts, the on-time
//! count and a bounded histogram of handling minutes) and the port that keeps them
//! ([`AggregateStore`]), so a statistics request reads a few aggregate rows, never the reports.
//!
//! Rows are kept per local month of creation and per key: `all`, `unit:<code>`,
//! `category:<code>` and `ward:<code>`. A report's contribution is recomputed from the whole
//! report after each change and replaces the one recorded for its previous version (the store
//! subtracts the old share and adds the new one atomically), so duplicate and reordered events
//! change nothing twice: a version not newer than the recorded one is ignored.
//!
//! Median and 90th percentile come from a histogram with fixed quarter-octave buckets
//! ([`bucket_of`]): bucket `b >= 1` holds handling times in `[2^((b-1)/4), 2^(b/4))` minutes and
//! is read back as its geometric middle, so a quantile is off by at most `2^(1/8) - 1`, about
//! 9.1 %, of the true value (bucket 0: under one minute, read as 0).

use crate::city::CityRules;
use crate::model::{Report, ReportId};
use crate::ports::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Histogram buckets of handling minutes; the last one also holds everything longer
/// (`2^(95/4)` minutes, about 27 years).
pub const BUCKETS: u16 = 96;
/// Buckets per doubling of the handling time.
const STEPS_PER_OCTAVE: f64 = 4.0;
/// The largest relative error of a quantile read from the histogram: `2^(1/8) - 1`.
pub const QUANTILE_MAX_RELATIVE_ERROR: f64 = 0.0906;

/// The histogram bucket of a handling time in minutes.
pub fn bucket_of(minutes: i64) -> u16 {
    if minutes < 1 {
        return 0;
    }
    let b = ((minutes as f64).log2() * STEPS_PER_OCTAVE).floor() as i64 + 1;
    b.clamp(1, i64::from(BUCKETS) - 1) as u16
}

/// The value a bucket stands for: its geometric middle, in whole minutes.
pub fn bucket_minutes(b: u16) -> i64 {
    if b == 0 {
        0
    } else {
        (2f64.powf((f64::from(b) - 0.5) / STEPS_PER_OCTAVE)).round() as i64
    }
}

/// The figures of one row (one month and key), or of several rows added up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Reports received (created).
    pub received: i64,
    /// Of those, still open: handling not ended (a reopened report is open again).
    pub open: i64,
    /// Of those, resolved (a result exists).
    pub resolved: i64,
    /// Of the resolved, resolved by the regulated deadline (Đ.7.4).
    pub on_time: i64,
    /// Histogram of handling minutes (assignment to result) of the resolved: bucket → count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub handling: BTreeMap<u16, i64>,
}

impl Figures {
    /// Adds `other` times `sign` (1 or -1); buckets that reach zero are dropped.
    pub fn add(&mut self, other: &Figures, sign: i64) {
        self.received += sign * other.received;
        self.open += sign * other.open;
        self.resolved += sign * other.resolved;
        self.on_time += sign * other.on_time;
        for (b, n) in &other.handling {
            let e = self.handling.entry(*b).or_default();
            *e += sign * n;
            if *e == 0 {
                self.handling.remove(b);
            }
        }
    }

    pub fn is_zero(&self) -> bool {
        self.received == 0
            && self.open == 0
            && self.resolved == 0
            && self.on_time == 0
            && self.handling.is_empty()
    }

    /// on_time / resolved; None when nothing is resolved.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.on_time as f64 / self.resolved as f64)
    }

    /// The `q` quantile (0 < q <= 1, nearest rank) of the handling minutes, from the
    /// histogram (see the module's error bound); None when nothing is resolved.
    pub fn handling_quantile(&self, q: f64) -> Option<i64> {
        let n: i64 = self.handling.values().sum();
        if n <= 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as i64).clamp(1, n);
        let mut seen = 0;
        for (b, c) in &self.handling {
            seen += c;
            if seen >= rank {
                return Some(bucket_minutes(*b));
            }
        }
        None
    }
}

/// What one report adds to the figures: the keys of its rows and its own figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Local month of creation (`YYYY-MM` in the city's time zone).
    pub month: String,
    /// The unit it counts for: the one that resolved it, else the lead unit; None before
    /// assignment.
    pub unit: Option<String>,
    pub category: String,
    /// The ward, `unknown` when none was found.
    pub ward: String,
    pub open: bool,
    pub resolved: bool,
    pub on_time: bool,
    /// Histogram bucket of the handling time, for a resolved report.
    pub handling_bucket: Option<u16>,
}

/// The ward key of a report without a ward.
pub const UNKNOWN_WARD: &str = "unknown";

impl Contribution {
    /// A report's share of the figures, by the rules of counting:
    /// - received: every report, in the local month it was created (Đ.9.2 reports by period);
    /// - open: handling has not ended; a reopened report is back at triage and open again,
    ///   its earlier result no longer counts (Đ.7.3 keeps it on the timeline only);
    /// - on time: resolved by the regulated deadline of its assignment (Đ.7.4). A deferral
    ///   (Đ.7.5) sets a target date for following the case but never moves this deadline, so a
    ///   result after the regulated deadline is late even when the deferral was accepted;
    /// - handling time: from assignment to the result.
    pub fn of(r: &Report, rules: &CityRules) -> Contribution {
        let res = r.resolution.as_ref();
        let handling_bucket = match (res, r.assignment.as_ref()) {
            (Some(res), Some(a)) => {
                Some(bucket_of((res.resolved_at - a.assigned_at).num_minutes()))
            }
            _ => None,
        };
        Contribution {
            month: rules.local(r.created_at).format("%Y-%m").to_string(),
            unit: res
                .map(|x| x.unit.clone())
                .filter(|u| !u.is_empty())
                .or_else(|| r.lead_unit().map(str::to_string)),
            category: r.category.clone(),
            ward: r.ward.clone().unwrap_or_else(|| UNKNOWN_WARD.to_string()),
            open: !r.state.handling_ended(),
            resolved: res.is_some(),
            // Đ.7.4: `on_time` was decided against the assignment's regulated due instant.
            on_time: res.is_some_and(|x| x.on_time),
            handling_bucket,
        }
    }

    /// This report's own figures.
    pub fn figures(&self) -> Figures {
        let mut f = Figures {
            received: 1,
            open: i64::from(self.open),
            resolved: i64::from(self.resolved),
            on_time: i64::from(self.resolved && self.on_time),
            handling: BTreeMap::new(),
        };
        if let (true, Some(b)) = (self.resolved, self.handling_bucket) {
            f.handling.insert(b, 1);
        }
        f
    }

    /// The row keys (within its month) it counts in.
    pub fn keys(&self) -> Vec<String> {
        let mut k = vec![
            "all".to_string(),
            format!("category:{}", self.category),
            format!("ward:{}", self.ward),
        ];
        if let Some(u) = &self.unit {
            k.push(format!("unit:{u}"));
        }
        k
    }
}

/// The change of each month's rows when a report's contribution goes from `old` to `new`:
/// month → key → figures to add (negative where the old share is taken away). Rows whose
/// figures do not change are left out, so an event that changes no figure changes no row.
pub fn delta(
    old: Option<&Contribution>,
    new: &Contribution,
) -> BTreeMap<String, BTreeMap<String, Figures>> {
    let mut out: BTreeMap<String, BTreeMap<String, Figures>> = BTreeMap::new();
    if let Some(o) = old {
        let f = o.figures();
        for k in o.keys() {
            out.entry(o.month.clone())
                .or_default()
                .entry(k)
                .or_default()
                .add(&f, -1);
        }
    }
    let f = new.figures();
    for k in new.keys() {
        out.entry(new.month.clone())
            .or_default()
            .entry(k)
            .or_default()
            .add(&f, 1);
    }
    for rows in out.values_mut() {
        rows.retain(|_, f| !f.is_zero());
    }
    out.retain(|_, rows| !rows.is_empty());
    out
}

/// A change's effect on a report's share, carried by the events the statistics consumer
/// receives (issue 10): the share before the change (None for a new report) and after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareChange {
    #[serde(default)]
    pub before: Option<Contribution>,
    pub after: Contribution,
}

/// One change of a batch given to [`AggregateStore::apply_changes`]: the report, the
/// version its event carries and the share change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedChange {
    pub id: ReportId,
    pub version: u64,
    pub change: ShareChange,
}

/// One month's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFigures {
    pub month: String,
    pub rows: BTreeMap<String, Figures>,
}

/// Keeps the aggregate rows and, per report, the contribution last applied and its version.
#[async_trait]
pub trait AggregateStore: Send + Sync {
    /// Records `contribution` as report `id`'s share at `version`, replacing (subtracting)
    /// the share recorded for an earlier version, in one atomic step. When the recorded
    /// version is `version` or newer (a duplicate or a reordered event) nothing changes and
    /// the answer is false.
    async fn apply(
        &self,
        id: &ReportId,
        version: u64,
        contribution: &Contribution,
    ) -> Result<bool, StoreError>;

    /// [`AggregateStore::apply`] of `change.after`, knowing the share the change started
    /// from: a store may then skip reading the recorded share when it is `change.before`
    /// (DynamoDB: one conditional transaction, or nothing when no figure changes), and falls
    /// back to [`AggregateStore::apply`] when it is not (a reordered or repeated event).
    /// The result is the same as `apply(id, version, &change.after)`.
    async fn apply_change(
        &self,
        id: &ReportId,
        version: u64,
        change: &ShareChange,
    ) -> Result<bool, StoreError> {
        self.apply(id, version, &change.after).await
    }

    /// [`AggregateStore::apply_change`] of each change of a batch (the statistics consumer's
    /// SQS batch, issue 10), answering whether each changed a figure. A store may write them
    /// together (DynamoDB: one transaction for the whole batch) as long as the end state is
    /// that of applying them one by one; this default does exactly that, in order. On an
    /// error some changes may be applied already: applying them again changes nothing.
    async fn apply_changes(&self, changes: &[CountedChange]) -> Result<Vec<bool>, StoreError> {
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            out.push(self.apply_change(&c.id, c.version, &c.change).await?);
        }
        Ok(out)
    }

    /// The rows of the months `from..=to` (`YYYY-MM`), months in order; months without rows
    /// are left out.
    async fn months(&self, from: &str, to: &str) -> Result<Vec<MonthFigures>, StoreError>;

    /// Forgets every row and contribution (before a rebuild from the reports).
    async fn clear(&self) -> Result<(), StoreError>;
}

/// Applies a `delta` to rows in memory (what the memory and SQLite adapters share).
pub fn apply_delta(
    rows: &mut BTreeMap<String, BTreeMap<String, Figures>>,
    delta: &BTreeMap<String, BTreeMap<String, Figures>>,
) {
    for (month, d) in delta {
        let m = rows.entry(month.clone()).or_default();
        for (k, f) in d {
            let e = m.entry(k.clone()).or_default();
            e.add(f, 1);
            if e.is_zero() {
                m.remove(k);
            }
        }
    }
}

/// The aggregate store in memory (tests, the demo without a database).
#[derive(Default)]
pub struct MemoryAggregates {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    rows: BTreeMap<String, BTreeMap<String, Figures>>,
    applied: std::collections::HashMap<String, (u64, Contribution)>,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Backend("aggregate store lock poisoned".into())
}

#[async_trait]
impl AggregateStore for MemoryAggregates {
    async fn apply(
        &self,
        id: &ReportId,
        version: u64,
        contribution: &Contribution,
    ) -> Result<bool, StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        let old = match g.applied.get(id.as_str()) {
            Some((v, _)) if *v >= version => return Ok(false),
            Some((_, c)) => Some(c.clone()),
            None => None,
        };
        let d = delta(old.as_ref(), contribution);
        apply_delta(&mut g.rows, &d);
        g.applied
            .insert(id.as_str().to_string(), (version, contribution.clone()));
        Ok(true)
    }

    async fn months(&self, from: &str, to: &str) -> Result<Vec<MonthFigures>, StoreError> {
        let g = self.inner.lock().map_err(poisoned)?;
        Ok(g.rows
            .range(from.to_string()..=to.to_string())
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(m, rows)| MonthFigures {
                month: m.clone(),
                rows: rows.clone(),
            })
            .collect())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        g.rows.clear();
        g.applied.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_quarter_octaves_and_read_back_within_the_error_bound() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 1);
        assert_eq!(bucket_of(2), 5);
        assert_eq!(bucket_of(i64::MAX), BUCKETS - 1);
        for m in [1i64, 7, 60, 119, 120, 480, 1_440, 10_000, 43_200, 525_600] {
            let back = bucket_minutes(bucket_of(m)) as f64;
            let err = (back - m as f64).abs() / m as f64;
            assert!(
                err <= QUANTILE_MAX_RELATIVE_ERROR + 0.5 / m as f64,
                "{m} read back as {back}"
            );
        }
    }

    #[test]
    fn quantiles_are_nearest_rank_over_the_buckets() {
        let mut f = Figures::default();
        for m in [10i64, 20, 30, 40, 1_000] {
            let c = Figures {
                received: 1,
                resolved: 1,
                handling: BTreeMap::from([(bucket_of(m), 1)]),
                ..Default::default()
            };
            f.add(&c, 1);
        }
        assert_eq!(
            f.handling_quantile(0.5),
            Some(bucket_minutes(bucket_of(30)))
        );
        assert_eq!(
            f.handling_quantile(0.9),
            Some(bucket_minutes(bucket_of(1_000)))
        );
        assert_eq!(Figures::default().handling_quantile(0.5), None);
    }
}
