//! DynamoDB's request-unit arithmetic, computed from real items: the size of an item, and the
//! write request units (WRU) one change costs in the table and in each global secondary index.
//!
//! Why it exists: the emulator does not report consumed capacity, so the cost of the table's
//! layout (docs/aws.md, "Dollars per 100,000 reports") is computed from the items the store
//! really writes, by the published rules, in one place that tests and measurements share
//! (`tests/tests/dynamo_layout.rs`; the calls-per-report test may reuse it). It must never
//! call DynamoDB: it only reads attribute maps.
//!
//! The rules (Amazon DynamoDB Developer Guide, "Item sizes and formats", "Read/write capacity
//! mode", "Global secondary indexes: writes"):
//! - an item's size is the sum over its attributes of the name's UTF-8 length plus the
//!   value's size: strings and binaries by their length, numbers about one byte per two
//!   significant digits plus one, booleans and nulls one byte, lists and maps 3 bytes plus
//!   one byte and the size of each element (a map's elements with their names);
//! - one write unit per started kilobyte (1,024 bytes) of the item, at least one; a `PutItem`
//!   that replaces an item counts the larger of the old and the new item; a delete counts the
//!   old item; a `TransactWriteItems` costs twice;
//! - each index is written as its own item, of the projected attributes (the keys of the
//!   table and of the index always): an item entering the index is one put, leaving it one
//!   delete, an index key changing a delete and a put, only projected values changing one put,
//!   nothing projected changing no write. Index writes are counted as standard writes.

use crate::table::{GsiDef, GsiProjection, PK, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Bytes per write request unit.
pub const WRITE_UNIT_BYTES: usize = 1024;

/// The size of `item` by DynamoDB's rules (names plus values).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// The size of one attribute value.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// A number's size: one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.max(1).div_ceil(2) + 1
}

/// Write units of writing `size` bytes once (standard write).
pub fn write_units(size: usize) -> u64 {
    size.div_ceil(WRITE_UNIT_BYTES).max(1) as u64
}

/// The entry `item` has in `gsi`: its projected attributes, `None` when the item lacks the
/// index's keys (not in the index).
pub fn index_entry(gsi: &GsiDef, item: &Item) -> Option<Item> {
    if !item.contains_key(gsi.pk) || !item.contains_key(gsi.sk) {
        return None;
    }
    let keep = |name: &str| match gsi.projection {
        GsiProjection::All => true,
        GsiProjection::KeysOnly => false,
        GsiProjection::Include(attrs) => attrs.contains(&name),
    };
    Some(
        item.iter()
            .filter(|(k, _)| [PK, SK, gsi.pk, gsi.sk].contains(&k.as_str()) || keep(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// What one write of an item costs, by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCost {
    /// The table's write (doubled in a transaction).
    pub table: u64,
    /// The index writes, by index name (only the indexes written).
    pub indexes: Vec<(&'static str, u64)>,
}

impl WriteCost {
    pub fn total(&self) -> u64 {
        self.table + self.indexes.iter().map(|(_, u)| u).sum::<u64>()
    }

    /// The sum of two costs (the items of one transaction).
    pub fn plus(mut self, other: &WriteCost) -> WriteCost {
        self.table += other.table;
        for (name, u) in &other.indexes {
            match self.indexes.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => *v += u,
                None => self.indexes.push((name, *u)),
            }
        }
        self
    }
}

/// The cost of replacing `old` by `new` (a put: `old` `None` for a new item; a delete: `new`
/// `None`) in a table with the indexes `gsis`; `transactional` doubles the table's part.
pub fn write_cost(
    gsis: &[GsiDef],
    old: Option<&Item>,
    new: Option<&Item>,
    transactional: bool,
) -> WriteCost {
    let size = old
        .map(item_size)
        .unwrap_or(0)
        .max(new.map(item_size).unwrap_or(0));
    let table = if old.is_none() && new.is_none() {
        0
    } else {
        write_units(size) * if transactional { 2 } else { 1 }
    };
    let mut indexes = Vec::new();
    for g in gsis {
        let before = old.and_then(|i| index_entry(g, i));
        let after = new.and_then(|i| index_entry(g, i));
        let units = match (&before, &after) {
            (None, None) => 0,
            (Some(b), None) => write_units(item_size(b)),
            (None, Some(a)) => write_units(item_size(a)),
            (Some(b), Some(a)) if b.get(g.pk) != a.get(g.pk) || b.get(g.sk) != a.get(g.sk) => {
                write_units(item_size(b)) + write_units(item_size(a))
            }
            (Some(b), Some(a)) if b == a => 0,
            (Some(_), Some(a)) => write_units(item_size(a)),
        };
        if units > 0 {
            indexes.push((g.name, units));
        }
    }
    WriteCost { table, indexes }
}

/// One write of a `TransactWriteItems` (or of a single-item call), as the request spells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A put of the whole item.
    Put(Item),
    /// A delete of the item at this key.
    Delete(Item),
    /// A condition check, an update expression or anything else this module does not model:
    /// its table name and key.
    Other(Item),
}

impl Write {
    /// The (`pk`, `sk`) the write is about.
    pub fn key(&self) -> (String, String) {
        let item = match self {
            Write::Put(i) | Write::Delete(i) | Write::Other(i) => i,
        };
        let part = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        (part(PK), part(SK))
    }
}

/// An attribute value from DynamoDB's JSON wire format (`{"S": "..."}`, `{"N": "1"}`, ...);
/// `None` for what is not one.
pub fn value_from_json(v: &serde_json::Value) -> Option<AttributeValue> {
    use base64::Engine;
    let (tag, inner) = v.as_object()?.iter().next()?;
    let strings = |x: &serde_json::Value| -> Option<Vec<String>> {
        x.as_array()?
            .iter()
            .map(|e| e.as_str().map(str::to_string))
            .collect()
    };
    let bytes = |x: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(x.as_str()?)
            .ok()
            .map(aws_sdk_dynamodb::primitives::Blob::new)
    };
    Some(match tag.as_str() {
        "S" => AttributeValue::S(inner.as_str()?.to_string()),
        "N" => AttributeValue::N(inner.as_str()?.to_string()),
        "B" => AttributeValue::B(bytes(inner)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings(inner)?),
        "NS" => AttributeValue::Ns(strings(inner)?),
        "BS" => AttributeValue::Bs(inner.as_array()?.iter().map(bytes).collect::<Option<_>>()?),
        "L" => AttributeValue::L(
            inner
                .as_array()?
                .iter()
                .map(value_from_json)
                .collect::<Option<_>>()?,
        ),
        "M" => AttributeValue::M(item_from_json(inner)?),
        _ => return None,
    })
}

/// An item from DynamoDB's JSON wire format.
pub fn item_from_json(v: &serde_json::Value) -> Option<Item> {
    v.as_object()?
        .iter()
        .map(|(k, e)| Some((k.clone(), value_from_json(e)?)))
        .collect()
}

/// The writes of a `TransactWriteItems` request body (its JSON), in order.
pub fn transact_writes(body: &serde_json::Value) -> Vec<Write> {
    let Some(items) = body.get("TransactItems").and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|t| {
            let t = t.as_object()?;
            if let Some(p) = t.get("Put") {
                return item_from_json(p.get("Item")?).map(Write::Put);
            }
            if let Some(d) = t.get("Delete") {
                return item_from_json(d.get("Key")?).map(Write::Delete);
            }
            let (_, other) = t.iter().next()?;
            item_from_json(other.get("Key")?).map(Write::Other)
        })
        .collect()
}

/// The items of a table as the writes seen so far left them, so that each next write is
/// costed against the item it replaces (its size and its index entries).
#[derive(Debug, Clone, Default)]
pub struct WriteLedger {
    items: HashMap<(String, String), Item>,
}

impl WriteLedger {
    /// The cost of `write` in a table with the indexes `gsis`, remembered for the next
    /// writes of its key. `Other` writes cost one write unit (a condition check), doubled in
    /// a transaction, and change nothing.
    pub fn apply(&mut self, write: Write, gsis: &[GsiDef], transactional: bool) -> WriteCost {
        let key = write.key();
        match write {
            Write::Put(item) => {
                let cost = write_cost(gsis, self.items.get(&key), Some(&item), transactional);
                self.items.insert(key, item);
                cost
            }
            Write::Delete(key_item) => {
                // A delete of an absent item still costs one write unit.
                let old = self.items.remove(&key).unwrap_or(key_item);
                write_cost(gsis, Some(&old), None, transactional)
            }
            Write::Other(_) => WriteCost {
                table: if transactional { 2 } else { 1 },
                indexes: Vec::new(),
            },
        }
    }

    /// The item last written at (`pk`, `sk`).
    pub fn item(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.get(&(pk.to_string(), sk.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{GSI_STATE, GSI_UNIT};

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn sizes_follow_the_published_rules() {
        // "name" (4) + "Ví" (3 bytes of UTF-8)
        let item = Item::from([("name".to_string(), s("Ví"))]);
        assert_eq!(item_size(&item), 7);
        assert_eq!(number_size("12345"), 4);
        assert_eq!(number_size("100"), 2);
        assert_eq!(number_size("0"), 2);
        let l = AttributeValue::L(vec![s("ab"), s("c")]);
        assert_eq!(value_size(&l), 3 + 3 + 2);
        assert_eq!(write_units(0), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
    }

    #[test]
    fn index_writes_count_moves_changes_and_nothing_for_unchanged_entries() {
        let gsis = [GSI_STATE, GSI_UNIT];
        let base = |state: &str, body: &str| {
            Item::from([
                (PK.to_string(), s("REPORT#1")),
                (SK.to_string(), s("REPORT")),
                ("state_pk".to_string(), s(state)),
                ("csk".to_string(), s("t#1")),
                ("report".to_string(), s(body)),
            ])
        };
        let a = base("STATE#new", &"x".repeat(3000));
        let created = write_cost(&gsis, None, Some(&a), true);
        assert_eq!(created.table, 6, "3 KB, doubled");
        assert_eq!(
            created.indexes,
            vec![("by_state", 1)],
            "keys only in by_state"
        );
        let same_state = base("STATE#new", &"y".repeat(3000));
        let c = write_cost(&gsis, Some(&a), Some(&same_state), true);
        assert_eq!(c.indexes, vec![], "nothing projected changed");
        let moved = base("STATE#assigned", &"y".repeat(3000));
        let c = write_cost(&gsis, Some(&a), Some(&moved), false);
        assert_eq!(c.table, 3);
        assert_eq!(c.indexes, vec![("by_state", 2)], "a delete and a put");
        assert_eq!(c.total(), 5);
    }

    #[test]
    fn a_transaction_body_is_costed_against_the_items_it_replaces() {
        let body = serde_json::json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {
                "pk": {"S": "REPORT#1"}, "sk": {"S": "REPORT"},
                "state_pk": {"S": "STATE#new"}, "csk": {"S": "t#1"},
                "version": {"N": "1"}, "report": {"S": "x".repeat(1900)}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "REPORT#1"}, "sk": {"S": "UNIT#a"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "X"}, "sk": {"S": "Y"}}}}
        ]});
        let writes = transact_writes(&body);
        assert_eq!(writes.len(), 3);
        let mut ledger = WriteLedger::default();
        let costs: Vec<u64> = writes
            .into_iter()
            .map(|w| ledger.apply(w, &[GSI_STATE], true).total())
            .collect();
        // 2 KB doubled + the by_state entry; a delete of an absent item; a condition check.
        assert_eq!(costs, vec![5, 2, 2]);
        assert!(ledger.item("REPORT#1", "REPORT").is_some());
    }
}
