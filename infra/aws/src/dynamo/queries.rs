//! Report reads over the indexes: the filtered, newest-first lists (a k-way merge over index
//! partitions) and the reports whose escalation threshold is due.
//!
//! Why it exists: a list must come from the most selective index, be post-filtered by the
//! core's `ReportQuery::matches`, and still return full pages with a stable cursor, within a
//! bounded number of calls. It must never scan the table, never write, and never trust an
//! (eventually consistent) index over the report item: the indexes hold keys (and the folded
//! text), and each page's reports are read from their items by `BatchGetItem`.
//!
//! Free text (`ReportQuery::text`) has no index on AWS: it is a filter expression on the
//! folded `search` attribute, applied by DynamoDB within the index partition the other filters
//! chose (state, reporter, public or category; on `by_unit`, which holds keys only, after
//! the page's reports are read), inside the same bounded call budget. A rare term
//! over a large partition therefore returns short pages with a cursor to continue (never a
//! table scan, never an unbounded loop); a full-text service (e.g. OpenSearch fed by the
//! outbox) would be the next step if that is not enough.

use super::archive::Archive;
use super::codec::{geo_from_attr, report_from_item, s, str_attr, Item, SEARCH};
use super::paging::{decode_cursor, encode_cursor, next_start, read_pages};
use super::{sdk_err, DynamoReportStore};
use crate::table::{
    category_pk, cell_pk, reporter_pk, state_of_pk, state_pk, time_key, timed_key_bound, unit_key,
    ItemKey, CELL_PRECISION, CSK, ESCALATION_PK, GEO, GSI_CATEGORY, GSI_CELL, GSI_ESCALATION,
    GSI_PUBLIC, GSI_REPORTER, GSI_STATE, GSI_UNIT, PK, PUBLIC_PK, REPORT_SK, SK,
};
use chrono::{DateTime, Utc};
use phananh_core::model::{GeoPoint, Report, ReportId, State};
use phananh_core::ports::{Page, RecentPoint, ReportQuery, StoreError};
use std::collections::{HashMap, HashSet, VecDeque};

/// Bound on DynamoDB calls spent filling one page of a filtered list.
const QUERY_CALL_BUDGET: usize = 12;

/// Most geohash cells the duplicate check reads (one `Query` each); a circle touching more
/// (a radius of more than about 2 km for cells of [`CELL_PRECISION`]) is read from the
/// category's index instead.
pub(super) const MAX_CELLS: usize = 9;

/// One index partition being read newest first, with what was read and not merged yet. No
/// index carries the report document: each page's reports are read by `BatchGetItem`.
struct Partition {
    index: &'static str,
    pk_attr: &'static str,
    pk: String,
    /// The index projects the folded text (`search`): the text filter runs on the index, so
    /// only the keys that pass it are read (`by_unit` holds keys only: judged after the read).
    has_text: bool,
    buf: VecDeque<(String, Report)>,
    start: Option<Item>,
    exhausted: bool,
}

impl Partition {
    fn new(index: &'static str, pk_attr: &'static str, pk: String) -> Self {
        Partition {
            index,
            pk_attr,
            pk,
            has_text: true,
            buf: VecDeque::new(),
            start: None,
            exhausted: false,
        }
    }

    /// A partition of an index without the folded text.
    fn keys_only(mut self) -> Self {
        self.has_text = false;
        self
    }
}

/// The partitions that hold every report `q` may match: the most selective index first.
fn partitions(q: &ReportQuery) -> Vec<Partition> {
    if let Some(r) = &q.reporter {
        return vec![Partition::new(
            GSI_REPORTER.name,
            GSI_REPORTER.pk,
            reporter_pk(r),
        )];
    }
    if let Some(u) = &q.unit {
        return vec![Partition::new(GSI_UNIT.name, GSI_UNIT.pk, unit_key(u)).keys_only()];
    }
    if q.public_only {
        return vec![Partition::new(
            GSI_PUBLIC.name,
            GSI_PUBLIC.pk,
            PUBLIC_PK.into(),
        )];
    }
    // One category partition rather than one partition per state (the duplicate check: a
    // category within a time window, any state).
    if let Some(c) = &q.category {
        if q.states.len() != 1 {
            return vec![Partition::new(
                GSI_CATEGORY.name,
                GSI_CATEGORY.pk,
                category_pk(c),
            )];
        }
    }
    let mut states: Vec<State> = if q.states.is_empty() {
        State::ALL.to_vec()
    } else {
        q.states.clone()
    };
    states.sort();
    states.dedup();
    states
        .into_iter()
        .map(|st| Partition::new(GSI_STATE.name, GSI_STATE.pk, state_pk(st.as_str())))
        .collect()
}

impl DynamoReportStore {
    /// Reads the next page of `p` with `lower <= csk < upper`; returns the calls made (the
    /// query, the `BatchGetItem` of its reports, and one more when some of them have archived
    /// timeline chunks).
    async fn fetch(
        &self,
        p: &mut Partition,
        lower: Option<&str>,
        upper: Option<&str>,
        terms: &[String],
        limit: i32,
    ) -> Result<usize, StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(p.index)
            .scan_index_forward(false)
            .limit(limit)
            .expression_attribute_names("#pk", p.pk_attr)
            .expression_attribute_values(":pk", s(&p.pk))
            .set_exclusive_start_key(p.start.take());
        let cond = match (lower, upper) {
            (None, None) => "#pk = :pk",
            (Some(_), None) => "#pk = :pk AND #sk >= :lo",
            (None, Some(_)) => "#pk = :pk AND #sk < :hi",
            (Some(_), Some(_)) => "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        };
        if lower.is_some() || upper.is_some() {
            req = req.expression_attribute_names("#sk", CSK);
        }
        if let Some(lo) = lower {
            req = req.expression_attribute_values(":lo", s(lo));
        }
        if let Some(hi) = upper {
            req = req.expression_attribute_values(":hi", s(hi));
        }
        // A keys-only index has no text to filter on: its reports are judged after the read.
        if !terms.is_empty() && p.has_text {
            // Every term starts a word of the folded text. `Limit` counts items read before
            // this filter, so a call stays bounded; items written before the attribute existed
            // pass and are judged by `ReportQuery::matches` on their document.
            let mut filter = String::from("attribute_not_exists(#search) OR (");
            for (i, t) in terms.iter().enumerate() {
                if i > 0 {
                    filter.push_str(" AND ");
                }
                filter.push_str(&format!("contains(#search, :t{i})"));
                req = req.expression_attribute_values(format!(":t{i}"), s(format!(" {t}")));
            }
            filter.push(')');
            req = req
                .expression_attribute_names("#search", SEARCH)
                .filter_expression(filter);
        }
        let out = req
            .key_condition_expression(cond)
            .send()
            .await
            .map_err(sdk_err)?;
        let mut page: Vec<(String, Item)> = Vec::new();
        for item in out.items.unwrap_or_default() {
            let Some(csk) = str_attr(&item, CSK).map(str::to_string) else {
                continue;
            };
            // BETWEEN is inclusive: drop the exclusive upper bound itself.
            if upper.is_some_and(|hi| csk.as_str() >= hi) {
                continue;
            }
            page.push((csk, item));
        }
        p.start = next_start(out.last_evaluated_key);
        p.exhausted = p.start.is_none();
        let mut calls = 1;
        if !page.is_empty() {
            let (reports, read_calls) = self.reports_of(&page).await?;
            calls += read_calls;
            p.buf.extend(page.into_iter().filter_map(|(csk, key)| {
                let pk = str_attr(&key, PK)?;
                reports.get(pk).map(|r| (csk, r.clone()))
            }));
        }
        Ok(calls)
    }

    /// The whole reports of index items (their `pk`), by `pk`: one `BatchGetItem` for a page
    /// of at most 100 (eventually consistent, like the index the keys came from), and one
    /// more for the archived timeline chunks of the reports that have some; returns them and
    /// the calls made.
    async fn reports_of(
        &self,
        page: &[(String, Item)],
    ) -> Result<(HashMap<String, Report>, usize), StoreError> {
        let mut keys: Vec<Item> = Vec::new();
        let mut seen_pk: HashSet<&str> = HashSet::new();
        for (_, key) in page {
            if let (Some(pk), Some(_)) = (str_attr(key, PK), str_attr(key, SK)) {
                if seen_pk.insert(pk) {
                    keys.push(HashMap::from([
                        (PK.to_string(), s(pk)),
                        (SK.to_string(), s(REPORT_SK)),
                    ]));
                }
            }
        }
        let (items, mut calls) = self.batch_get(keys, false).await?;
        let mut stored = Vec::with_capacity(items.len());
        for item in &items {
            stored.push((report_from_item(item)?, Archive::of_item(item)?));
        }
        let (reports, chunk_calls) = self.with_archives(stored).await?;
        calls += chunk_calls;
        Ok((
            reports
                .into_iter()
                .map(|r| (ItemKey::report(r.id.as_str()).pk, r))
                .collect(),
            calls,
        ))
    }

    /// One page of the reports matching `q`, newest first.
    pub(super) async fn run_query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        let size = q.page_size();
        let cursor = q.cursor.as_deref().map(decode_cursor).transpose()?;
        let to_key = q.created_to.map(time_key);
        let upper = match (cursor.clone(), to_key) {
            (Some(c), Some(t)) => Some(if c < t { c } else { t }),
            (c, t) => c.or(t),
        };
        let lower = q.created_from.map(time_key);
        if let (Some(lo), Some(hi)) = (&lower, &upper) {
            if lo >= hi {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
        }
        let mut parts = partitions(q);
        let terms = q.text_terms();
        let chunk = (size + 1).clamp(25, 100) as i32;
        // Each partition's first read (a query, its reports, their archived chunks) fits.
        let budget = QUERY_CALL_BUDGET.max(3 * parts.len() + 2);
        let mut calls = 0usize;
        let mut page: Vec<Report> = Vec::with_capacity(size);
        let mut seen: HashSet<ReportId> = HashSet::new();
        let mut last_examined: Option<String> = None;
        let mut last_returned: Option<String> = None;
        loop {
            // Every partition that may still hold items must show its head before merging.
            let mut out_of_budget = false;
            for p in parts.iter_mut() {
                if p.buf.is_empty() && !p.exhausted {
                    if calls >= budget {
                        out_of_budget = true;
                        break;
                    }
                    calls += self
                        .fetch(p, lower.as_deref(), upper.as_deref(), &terms, chunk)
                        .await?;
                }
            }
            if out_of_budget {
                // Everything newer than the last examined key has been looked at.
                let next = last_examined.or(cursor);
                return Ok(Page {
                    items: page,
                    next_cursor: next.map(|k| encode_cursor(&k)),
                });
            }
            let best = parts
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.buf.front().map(|(k, _)| (i, k)))
                .max_by(|a, b| a.1.cmp(b.1))
                .map(|(i, _)| i);
            let Some(i) = best else {
                return Ok(Page {
                    items: page,
                    next_cursor: None,
                });
            };
            let Some((csk, report)) = parts[i].buf.pop_front() else {
                continue;
            };
            last_examined = Some(csk.clone());
            if !q.matches(&report) || seen.contains(&report.id) {
                continue;
            }
            if page.len() == size {
                // One more match exists: the page is full and there is a next one.
                return Ok(Page {
                    items: page,
                    next_cursor: last_returned.map(|k| encode_cursor(&k)),
                });
            }
            seen.insert(report.id.clone());
            page.push(report);
            last_returned = Some(csk);
        }
    }

    /// At most `limit` reports whose next escalation threshold is at or before `until`,
    /// soonest first.
    pub(super) async fn due_escalations(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI_ESCALATION.name)
            .key_condition_expression("#pk = :pk AND #sk <= :until")
            .expression_attribute_names("#pk", GSI_ESCALATION.pk)
            .expression_attribute_names("#sk", GSI_ESCALATION.sk)
            .expression_attribute_values(":pk", s(ESCALATION_PK))
            .expression_attribute_values(":until", s(timed_key_bound(until)))
            .scan_index_forward(true);
        // The index holds keys: the due reports are read by one `BatchGetItem` (per 100).
        let keys = read_pages(query, Some(limit), |item| {
            Ok(str_attr(item, PK)
                .zip(str_attr(item, CSK).or(str_attr(item, GSI_ESCALATION.sk)))
                .map(|(pk, csk)| (csk.to_string(), item_key(pk))))
        })
        .await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (reports, _) = self.reports_of(&keys).await?;
        Ok(keys
            .iter()
            .filter_map(|(_, key)| str_attr(key, PK).and_then(|pk| reports.get(pk)))
            // The index is eventually consistent: trust the document.
            .filter(|r| r.escalation.next_at.is_some_and(|t| t <= until))
            .cloned()
            .collect())
    }
}

impl DynamoReportStore {
    /// The duplicate check's read: one `Query` on `by_cell` per geohash cell the circle
    /// touches (1 unless the point is within `radius_m` of its cell's edge: then 2, or 4 near
    /// a corner), each for the window `[from, to)`, newest first, at most `limit` items, not
    /// continued (bounded: a cell with more than `limit` reports of the category in the
    /// window gives its newest `limit`). Only the index's points are read (`geo`, `state_pk`),
    /// then the exact distance decides. `None` when the circle touches more than
    /// [`MAX_CELLS`] cells.
    pub(super) async fn points_near(
        &self,
        category: &str,
        center: GeoPoint,
        radius_m: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Option<Vec<RecentPoint>>, StoreError> {
        let Some(cells) =
            phananh_core::geohash::cells_covering(center, radius_m, CELL_PRECISION, MAX_CELLS)
        else {
            return Ok(None);
        };
        let (lo, hi) = (time_key(from), time_key(to));
        if lo >= hi || limit == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut found: Vec<(String, RecentPoint)> = Vec::new();
        for cell in cells {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_CELL.name)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .expression_attribute_names("#pk", GSI_CELL.pk)
                .expression_attribute_names("#sk", CSK)
                .expression_attribute_values(":pk", s(cell_pk(category, &cell)))
                .expression_attribute_values(":lo", s(&lo))
                .expression_attribute_values(":hi", s(&hi))
                .scan_index_forward(false)
                .limit(limit.min(1000) as i32)
                .send()
                .await
                .map_err(sdk_err)?;
            for item in out.items.unwrap_or_default() {
                let Some(p) = point_from_index_item(&item, category) else {
                    continue;
                };
                // BETWEEN is inclusive: `to` itself is outside the window.
                if p.0 < hi && p.1.is_within(center, radius_m) {
                    found.push(p);
                }
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        found.dedup_by(|a, b| a.0 == b.0);
        found.truncate(limit as usize);
        Ok(Some(found.into_iter().map(|(_, p)| p).collect()))
    }
}

/// The key (`pk`, `sk`) of the report item in partition `pk`.
fn item_key(pk: &str) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(REPORT_SK))])
}

/// A `by_cell` index item as a point, with its `csk`; `None` for an item that is not one (a
/// malformed key or point is skipped, never fatal: the check only gives hints).
fn point_from_index_item(item: &Item, category: &str) -> Option<(String, RecentPoint)> {
    let csk = str_attr(item, CSK)?;
    let (ts, id) = csk.split_once('#')?;
    let created_at = DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc);
    let state = str_attr(item, GSI_STATE.pk)
        .and_then(state_of_pk)
        .and_then(State::parse)?;
    let location = str_attr(item, GEO).and_then(geo_from_attr);
    Some((
        csk.to_string(),
        RecentPoint {
            id: ReportId(id.to_string()),
            state,
            category: category.to_string(),
            created_at,
            location,
        },
    ))
}
