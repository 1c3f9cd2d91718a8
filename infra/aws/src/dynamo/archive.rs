//! The bounded report item: the timeline stays inline in the report item up to
//! [`REPORT_ITEM_BOUND`]; a change that would exceed it moves the oldest inline entries into a
//! chunk item of the report's own partition (`pk = REPORT#<id>`, `sk = TL#<first seq>`),
//! written once (`attribute_not_exists`) in the change's transaction. The report item records
//! how many entries are archived and the chunks' first sequence numbers, so a read knows
//! without looking whether (and which) chunks to read.
//!
//! Why it exists: every change rewrites the report item (and pays for it by its size, twice in
//! a transaction); a report's timeline grows by about 0.4 KB per entry without bound, and an
//! item may not exceed 400 KB. It must never lose or reorder an entry: the port still returns
//! whole reports, the chunks are never rewritten, and an item of the earlier layout (no
//! counter: its whole timeline inline) reads as before and is split at its next change only if
//! it is over the bound.
//!
//! The bound, 24 KB of item: the happy path's report (≈ 2 KB, plus ≈ 0.4 KB per entry, about
//! 7–10 entries from submission to publication) never reaches it, so `get` stays one
//! `GetItem` and list pages read no chunk; a report with a long history (≈ 55 entries and
//! more: repeated deferrals, returns, notes) costs at most 24 write units per change (48 in
//! the transaction) instead of growing to 400 KB and then failing. When it is exceeded, the
//! item is brought down to half the bound, so a chunk (≈ 12 KB, 12 write units, twice in the
//! transaction) is written once per about 30 entries, not at every change.

use super::codec::{report_item, s, str_attr, to_json, Item};
use super::DynamoReportStore;
use crate::capacity::item_size;
use crate::table::{ItemKey, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use phananh_core::model::{Report, TimelineEntry};
use phananh_core::ports::StoreError;
use std::collections::HashMap;

/// Largest report item (DynamoDB's item size) written with its timeline inline.
pub const REPORT_ITEM_BOUND: usize = 24 * 1024;
/// The size an over-bound item is brought down to by archiving its oldest entries.
const ARCHIVE_TARGET: usize = REPORT_ITEM_BOUND / 2;

/// How many of the timeline's first entries are archived (absent: none).
pub(super) const ARCHIVED: &str = "tl_archived";
/// The first sequence numbers of the chunks, in order, comma-separated (absent: none).
pub(super) const CHUNKS: &str = "tl_chunks";
/// The entries (a JSON array) of a chunk item.
const ENTRIES: &str = "entries";

/// What of a report's timeline is archived, as its report item records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Archive {
    /// The first `count` entries are in chunks, the others inline.
    pub(crate) count: usize,
    /// The first sequence number of each chunk, in timeline order.
    pub(crate) chunks: Vec<u32>,
}

impl Archive {
    /// The archive a report item records (none for an item of the earlier layout).
    pub(super) fn of_item(item: &Item) -> Result<Archive, StoreError> {
        let count = match item.get(ARCHIVED).map(|v| v.as_n()) {
            None => return Ok(Archive::default()),
            Some(Ok(n)) => n.parse::<usize>().map_err(|e| corrupt(item, e))?,
            Some(Err(_)) => return Err(corrupt(item, "tl_archived is not a number")),
        };
        let chunks = str_attr(item, CHUNKS)
            .unwrap_or("")
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| c.parse::<u32>().map_err(|e| corrupt(item, e)))
            .collect::<Result<Vec<u32>, StoreError>>()?;
        if count > 0 && chunks.is_empty() {
            return Err(corrupt(item, "archived entries without chunks"));
        }
        Ok(Archive { count, chunks })
    }

    fn write_into(&self, item: &mut Item) {
        if self.count == 0 {
            return;
        }
        item.insert(ARCHIVED.into(), AttributeValue::N(self.count.to_string()));
        let chunks: Vec<String> = self.chunks.iter().map(u32::to_string).collect();
        item.insert(CHUNKS.into(), s(chunks.join(",")));
    }

    /// The condition that the stored item records this archive, and its value (`:arch`).
    pub(super) fn condition(&self) -> (&'static str, Option<AttributeValue>) {
        if self.count == 0 {
            ("attribute_not_exists(tl_archived)", None)
        } else {
            (
                "tl_archived = :arch",
                Some(AttributeValue::N(self.count.to_string())),
            )
        }
    }
}

fn corrupt(item: &Item, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!(
        "corrupt report item {}: {e}",
        str_attr(item, crate::table::PK).unwrap_or("?")
    ))
}

/// A report as written: its item, the chunk the change archives (if any) and the archive the
/// item records.
pub(super) struct Layout {
    pub(super) item: Item,
    pub(super) chunk: Option<Item>,
    pub(super) archive: Archive,
}

/// The report item of `r` (and the chunk to write) when `old` is what its stored item
/// archives: the entries `old` archives stay where they are; if the item is over
/// [`REPORT_ITEM_BOUND`], the oldest inline entries move into one new chunk until the item
/// is at most [`ARCHIVE_TARGET`] (or no entry is left inline).
pub(super) fn layout(r: &Report, old: &Archive) -> Result<Layout, StoreError> {
    if old.count > r.timeline.len() {
        return Err(StoreError::Backend(format!(
            "report {}: {} entries archived, the timeline has {}",
            r.id,
            old.count,
            r.timeline.len()
        )));
    }
    let item = item_with(r, old)?;
    let size = item_size(&item);
    if size <= REPORT_ITEM_BOUND || old.count == r.timeline.len() {
        return Ok(Layout {
            item,
            chunk: None,
            archive: old.clone(),
        });
    }
    // Each entry moved takes its JSON and a comma out of the document.
    let mut left = size;
    let mut count = old.count;
    while count < r.timeline.len() && left > ARCHIVE_TARGET {
        left = left.saturating_sub(to_json(&r.timeline[count])?.len() + 1);
        count += 1;
    }
    let moved = &r.timeline[old.count..count];
    let first = moved[0].seq;
    let mut chunks = old.chunks.clone();
    chunks.push(first);
    let archive = Archive { count, chunks };
    let mut chunk = ItemKey::timeline_chunk(r.id.as_str(), first).into_item();
    chunk.insert(ENTRIES.into(), s(to_json(&moved)?));
    tracing::debug!(report_id = %r.id, archived = count, size, "timeline entries archived");
    Ok(Layout {
        item: item_with(r, &archive)?,
        chunk: Some(chunk),
        archive,
    })
}

/// The report item of `r` with the entries `archive` archives left out of its document.
fn item_with(r: &Report, archive: &Archive) -> Result<Item, StoreError> {
    let doc = if archive.count == 0 {
        to_json(r)?
    } else {
        let mut inline = r.clone();
        inline.timeline.drain(..archive.count);
        to_json(&inline)?
    };
    let mut item = report_item(r, &doc);
    archive.write_into(&mut item);
    Ok(item)
}

impl DynamoReportStore {
    /// Completes `reports` (each as its item stores it, with what its item archives): the
    /// chunks of those that have some are read by one `BatchGetItem` (per 100 chunks),
    /// strongly consistent (a chunk is written with the item that lists it); the others cost
    /// nothing. Returns the whole reports, in order, and the calls made.
    pub(super) async fn with_archives(
        &self,
        reports: Vec<(Report, Archive)>,
    ) -> Result<(Vec<Report>, usize), StoreError> {
        let keys: Vec<Item> = reports
            .iter()
            .flat_map(|(r, a)| {
                a.chunks
                    .iter()
                    .map(|seq| ItemKey::timeline_chunk(r.id.as_str(), *seq).into_item())
            })
            .collect();
        if keys.is_empty() {
            return Ok((reports.into_iter().map(|(r, _)| r).collect(), 0));
        }
        let (items, calls) = self.batch_get(keys, true).await?;
        let mut chunks: HashMap<(String, String), Item> = items
            .into_iter()
            .filter_map(|it| {
                let pk = str_attr(&it, crate::table::PK)?.to_string();
                let sk = str_attr(&it, SK)?.to_string();
                Some(((pk, sk), it))
            })
            .collect();
        let mut out = Vec::with_capacity(reports.len());
        for (mut r, a) in reports {
            if a.count == 0 {
                out.push(r);
                continue;
            }
            let mut archived: Vec<TimelineEntry> = Vec::with_capacity(a.count + r.timeline.len());
            for seq in &a.chunks {
                let key = ItemKey::timeline_chunk(r.id.as_str(), *seq);
                let chunk = chunks.remove(&(key.pk, key.sk)).ok_or_else(|| {
                    StoreError::Backend(format!(
                        "report {}: archived timeline chunk {seq} missing",
                        r.id
                    ))
                })?;
                let json = str_attr(&chunk, ENTRIES).ok_or_else(|| {
                    StoreError::Backend(format!("report {}: chunk {seq} without entries", r.id))
                })?;
                let entries: Vec<TimelineEntry> = serde_json::from_str(json).map_err(|e| {
                    StoreError::Backend(format!("report {}: corrupt chunk {seq}: {e}", r.id))
                })?;
                archived.extend(entries);
            }
            if archived.len() != a.count {
                return Err(StoreError::Backend(format!(
                    "report {}: {} entries archived, the chunks hold {}",
                    r.id,
                    a.count,
                    archived.len()
                )));
            }
            archived.append(&mut r.timeline);
            r.timeline = archived;
            out.push(r);
        }
        Ok((out, calls))
    }
}
