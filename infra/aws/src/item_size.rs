//! DynamoDB's item size and write units, by the published rules (issue 10: what a change
//! costs, measured from the stored items): an attribute is its name's UTF-8 bytes plus its
//! value's size — a string its UTF-8 bytes, a number about one byte per two significant
//! digits plus one, a binary its bytes, a boolean or null one byte, a list or map 3 bytes plus
//! one byte per element plus the elements (a map's with their names). A write costs one unit
//! per started KB of the item (the larger of before and after for an update), twice inside a
//! transaction; an index item is its projected attributes, the table's and the index's keys,
//! plus 100 bytes.

use crate::table::{GsiDef, GsiProjection, PK, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The overhead DynamoDB counts per index item.
pub const INDEX_ITEM_OVERHEAD: usize = 100;

fn number_size(n: &str) -> usize {
    let digits = n
        .trim_start_matches('-')
        .replace('.', "")
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len();
    digits.div_ceil(2) + 1
}

/// The size of one attribute value.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|e| value_size(e) + 1).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| k.len() + value_size(e) + 1)
                .sum::<usize>()
        }
        AttributeValue::Ss(l) => l.iter().map(String::len).sum(),
        AttributeValue::Ns(l) => l.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(l) => l.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// The size of an item: its attributes' names and values.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Write units of writing an item of `size` bytes (at least one).
pub fn write_units(size: usize) -> usize {
    size.div_ceil(1024).max(1)
}

/// The item `index` holds for `item`, `None` when the item lacks the index's keys (sparse).
pub fn index_item_size(item: &HashMap<String, AttributeValue>, index: &GsiDef) -> Option<usize> {
    if !item.contains_key(index.pk) || !item.contains_key(index.sk) {
        return None;
    }
    let size: usize = item
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            k == PK
                || k == SK
                || k == index.pk
                || k == index.sk
                || match index.projection {
                    GsiProjection::All => true,
                    GsiProjection::KeysOnly => false,
                    GsiProjection::Include(a) => a.contains(&k),
                }
        })
        .map(|(k, v)| k.len() + value_size(v))
        .sum();
    Some(size + INDEX_ITEM_OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_published_rules() {
        let item = HashMap::from([
            ("pk".to_string(), AttributeValue::S("STATS".into())),
            ("received".to_string(), AttributeValue::N("12".into())),
            ("h40".to_string(), AttributeValue::N("1234567".into())),
        ]);
        // pk: 2 + 5; received: 8 + (1 + 1); h40: 3 + (4 + 1).
        assert_eq!(item_size(&item), 7 + 10 + 8);
        assert_eq!(write_units(0), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
        let l = AttributeValue::L(vec![AttributeValue::S("ab".into())]);
        assert_eq!(value_size(&l), 3 + 2 + 1);
    }
}
