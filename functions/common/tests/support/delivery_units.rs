//! The delivery log's write units per report (issue 10), from the records really stored by a
//! run: each record's item as stored (`sent`), the same record as claimed (`pending`: no
//! provider fields yet, a lease), and what each write of it costs by DynamoDB's rules
//! (`phananh_aws::item_size`): a write in a transaction twice; an index item written when a
//! record enters an index, rewritten when an attribute it projects changes, deleted and put
//! again when its key changes. Records claimed together (one event's messages: the same
//! `created_at`) were claimed and given their outcome in one transaction each.
//!
//! "Before" is the same records in the earlier layout: `state_pk` = `DELIV#<channel>#<status>`
//! (the `by_state` index, projecting the records' attributes) instead of `deliv_pk`.

use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::item_size::{index_item_size, item_size, write_units};
use phananh_aws::table::{GsiDef, GSI_DELIVERY, GSI_STATE, GSI_UNIT};
use std::collections::{BTreeMap, HashMap};

type Item = HashMap<String, AttributeValue>;

fn text(item: &Item, k: &str) -> String {
    item.get(k)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// The record as its claim wrote it.
fn pending(sent: &Item) -> Item {
    let mut p = sent.clone();
    for k in ["provider", "provider_message_id", "error"] {
        p.remove(k);
    }
    p.insert("state".into(), AttributeValue::S("pending".into()));
    p.insert("lease_until".into(), AttributeValue::N("1796000000".into()));
    if let Some(AttributeValue::S(k)) = p.get_mut(GSI_DELIVERY.pk) {
        *k = k.trim_end_matches("#dead").to_string();
    }
    p
}

/// The earlier layout's item: `state_pk` instead of `deliv_pk`.
fn earlier(item: &Item) -> Item {
    let mut e = item.clone();
    let log_pk = text(&e, GSI_DELIVERY.pk);
    e.remove(GSI_DELIVERY.pk);
    if !log_pk.is_empty() {
        e.insert(
            GSI_STATE.pk.into(),
            AttributeValue::S(format!(
                "{}#{}",
                log_pk.trim_end_matches("#dead"),
                text(item, "state")
            )),
        );
    }
    e
}

/// One index's cost of a change of `before` into `after`.
fn index_units(index: &GsiDef, before: Option<&Item>, after: &Item) -> usize {
    let old = before.and_then(|b| index_item_size(b, index));
    let new = index_item_size(after, index);
    let key = |i: &Item| (text(i, index.pk), text(i, index.sk));
    match (old, new) {
        (None, None) => 0,
        (None, Some(n)) => write_units(n),
        (Some(o), None) => write_units(o),
        (Some(o), Some(n)) => {
            let b = before.expect("before");
            if key(b) != key(after) {
                write_units(o) + write_units(n)
            } else if index_item_size(b, index) == index_item_size(after, index)
                && projected(b, index) == projected(after, index)
            {
                0
            } else {
                write_units(o.max(n))
            }
        }
    }
}

fn projected(item: &Item, index: &GsiDef) -> BTreeMap<String, String> {
    item.iter()
        .filter(|(k, _)| index.projection.non_key_attributes().contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), format!("{v:?}")))
        .collect()
}

/// The write units of one record's claim and outcome: (table, indexes) of a layout (`layout`
/// makes its item of the stored one).
fn record_units(
    stored: &Item,
    together: bool,
    layout: fn(&Item) -> Item,
    indexes: &[GsiDef],
) -> (usize, usize) {
    let claimed = layout(&pending(stored));
    let sent = &layout(stored);
    let times = if together { 2 } else { 1 };
    let table = times
        * (write_units(item_size(&claimed))
            + write_units(item_size(&claimed).max(item_size(sent))));
    let idx = indexes
        .iter()
        .map(|g| index_units(g, None, &claimed) + index_units(g, Some(&claimed), sent))
        .sum();
    (table, idx)
}

/// Prints and returns (now, before): the write units of the stored records of one report.
pub fn delivery_units(records: &[Item]) -> (usize, usize) {
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        *groups.entry(text(r, "created_at")).or_default() += 1;
    }
    let (mut now, mut before) = (0, 0);
    for r in records {
        let together = groups[&text(r, "created_at")] > 1;
        let (t, i) = record_units(r, together, Item::clone, &[GSI_UNIT, GSI_DELIVERY]);
        let (t0, i0) = record_units(r, together, earlier, &[GSI_UNIT, GSI_STATE]);
        now += t + i;
        before += t0 + i0;
        println!(
            "  record {:<48} {:>4} B  now {t}+{i} WRU (table+indexes), before {t0}+{i0}",
            text(r, "pk"),
            item_size(r)
        );
    }
    println!(
        "delivery log WRU per report: now {now}, before {before} ({} records)",
        records.len()
    );
    (now, before)
}
