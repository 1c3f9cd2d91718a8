//! DynamoDB capacity units of a recorded run, and what a run costs in dollars: estimates the
//! emulator does not make (moto returns no consumed capacity).
//!
//! Sizes follow DynamoDB's published rules ("DynamoDB item sizes and formats",
//! `CapacityUnitCalculations.html`, read 2026-11-29): an item is the sum of its attribute
//! names and values; a string its UTF-8 bytes, a number one byte per two significant digits
//! plus one, binary its raw bytes, a boolean or null one byte, a list or map 3 bytes plus one
//! byte per element plus the elements. On demand, a write costs one write request unit per KB
//! of the larger of the item before and after it (two in a transaction), and each index whose
//! projection the write changes one more per KB of the projected item (a delete and a put
//! when its key changes); a read one read request unit per 4 KB (half when eventually
//! consistent, two in a transaction).
//!
//! What the requests do not say is assumed, and the assumption is named: the item an
//! `UpdateItem` leaves is its state at the end of the run (read by one scan), so an item
//! updated several times is counted at its final size each time, and an index copy it leaves
//! unchanged after its first update is not counted again; a `Query` or `Scan` reads at most
//! 4 KB (one unit, half when eventually consistent).

use crate::moto::RecordedRequest;
use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::table::{GsiDef, GsiProjection, GSIS, PK, SK};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// An item in DynamoDB's JSON form (`{"name": {"S": "..."}}`).
pub type Item = Map<String, Value>;

/// The size in bytes of one attribute value in DynamoDB's JSON form.
pub fn value_size(v: &Value) -> usize {
    let Some((t, v)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match t.as_str() {
        "S" => v.as_str().map_or(0, str::len),
        "N" => v.as_str().map_or(1, number_size),
        "B" => v.as_str().map_or(0, |b| b.len() / 4 * 3),
        "BOOL" | "NULL" => 1,
        "SS" => v.as_array().map_or(0, |a| {
            a.iter().filter_map(Value::as_str).map(str::len).sum()
        }),
        "NS" => v.as_array().map_or(0, |a| {
            a.iter().filter_map(Value::as_str).map(number_size).sum()
        }),
        "L" => {
            3 + v
                .as_array()
                .map_or(0, |a| a.iter().map(|e| 1 + value_size(e)).sum())
        }
        "M" => {
            3 + v.as_object().map_or(0, |m| {
                m.iter().map(|(k, e)| k.len() + 1 + value_size(e)).sum()
            })
        }
        _ => 0,
    }
}

/// One byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// The size in bytes of an item.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// An SDK attribute value in DynamoDB's JSON form.
pub fn attribute_json(v: &AttributeValue) -> Value {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match v {
        AttributeValue::S(s) => serde_json::json!({ "S": s }),
        AttributeValue::N(n) => serde_json::json!({ "N": n }),
        AttributeValue::B(b) => serde_json::json!({ "B": b64(b.as_ref()) }),
        AttributeValue::Bool(b) => serde_json::json!({ "BOOL": b }),
        AttributeValue::Null(_) => serde_json::json!({ "NULL": true }),
        AttributeValue::Ss(s) => serde_json::json!({ "SS": s }),
        AttributeValue::Ns(s) => serde_json::json!({ "NS": s }),
        AttributeValue::Bs(s) => {
            serde_json::json!({ "BS": s.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::L(l) => {
            serde_json::json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() })
        }
        AttributeValue::M(m) => {
            let o: Map<String, Value> = m
                .iter()
                .map(|(k, v)| (k.clone(), attribute_json(v)))
                .collect();
            serde_json::json!({ "M": o })
        }
        _ => Value::Null,
    }
}

/// An SDK item in DynamoDB's JSON form.
pub fn item_json(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), attribute_json(v)))
        .collect()
}

type Key = (String, String);

fn key_of(item: &Item) -> Option<Key> {
    let s = |n: &str| {
        item.get(n)
            .and_then(|v| v.get("S"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some((s(PK)?, s(SK)?))
}

fn units(bytes: usize, per: usize) -> f64 {
    bytes.div_ceil(per).max(1) as f64
}

/// What an index holds of `item`: `None` when the item lacks the index's keys (sparse).
fn projected(item: &Item, gsi: &GsiDef) -> Option<Item> {
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

/// Write units of the index copies a write changes, from the item before to the item after.
fn index_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    let mut wru = 0.0;
    for gsi in GSIS.iter() {
        let b = before.and_then(|i| projected(i, gsi));
        let a = after.and_then(|i| projected(i, gsi));
        let key = |i: &Item| {
            (
                i.get(gsi.pk).map(Value::to_string),
                i.get(gsi.sk).map(Value::to_string),
            )
        };
        match (&b, &a) {
            (Some(b), Some(a)) if b == a => {}
            (Some(b), Some(a)) if key(b) == key(a) => wru += units(item_size(a), 1024),
            (Some(b), Some(a)) => wru += units(item_size(b), 1024) + units(item_size(a), 1024),
            (Some(b), None) => wru += units(item_size(b), 1024),
            (None, Some(a)) => wru += units(item_size(a), 1024),
            (None, None) => {}
        }
    }
    wru
}

/// The capacity a run used, in request units, by function.
#[derive(Debug, Default, Clone)]
pub struct Capacity {
    /// Write request units of the items written (transactions counted twice).
    pub wru_items: BTreeMap<String, f64>,
    /// Write request units of the index copies the writes changed.
    pub wru_indexes: BTreeMap<String, f64>,
    /// Read request units.
    pub rru: BTreeMap<String, f64>,
}

impl Capacity {
    pub fn wru(&self) -> f64 {
        self.wru_items.values().sum::<f64>() + self.wru_indexes.values().sum::<f64>()
    }
    pub fn rru(&self) -> f64 {
        self.rru.values().sum()
    }
}

/// The DynamoDB capacity of `requests` (each with the function that made it), replayed in
/// order over the items they write; `final_items` is the table at the end of the run (one
/// scan), for the items `UpdateItem` leaves.
pub fn dynamodb_capacity(
    requests: &[(String, &RecordedRequest)],
    final_items: &[Item],
) -> Capacity {
    let finals: HashMap<Key, &Item> = final_items
        .iter()
        .filter_map(|i| Some((key_of(i)?, i)))
        .collect();
    let mut current: HashMap<Key, Item> = HashMap::new();
    let mut cap = Capacity::default();
    for (f, r) in requests {
        let Some(op) = r.operation() else { continue };
        let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
        let mut write = |action: &str, v: &Value, factor: f64, cap: &mut Capacity| {
            let key = v
                .get("Item")
                .or_else(|| v.get("Key"))
                .and_then(Value::as_object)
                .and_then(key_of);
            let Some(key) = key else { return };
            let before = current.get(&key).cloned();
            let after: Option<Item> = match action {
                "Put" => v.get("Item").and_then(Value::as_object).cloned(),
                "Update" => finals.get(&key).map(|i| (*i).clone()).or(before.clone()),
                "Delete" => None,
                // A condition check reads the item and writes nothing.
                _ => before.clone(),
            };
            let size = before
                .as_ref()
                .map_or(0, item_size)
                .max(after.as_ref().map_or(0, item_size));
            *cap.wru_items.entry(f.clone()).or_default() += factor * units(size, 1024);
            if action != "ConditionCheck" {
                *cap.wru_indexes.entry(f.clone()).or_default() +=
                    index_units(before.as_ref(), after.as_ref());
                match after {
                    Some(a) => current.insert(key, a),
                    None => current.remove(&key),
                };
            }
        };
        match op.as_str() {
            "PutItem" => write("Put", &body, 1.0, &mut cap),
            "UpdateItem" => write("Update", &body, 1.0, &mut cap),
            "DeleteItem" => write("Delete", &body, 1.0, &mut cap),
            "TransactWriteItems" => {
                for t in body["TransactItems"].as_array().into_iter().flatten() {
                    for action in ["Put", "Update", "Delete", "ConditionCheck"] {
                        if let Some(v) = t.get(action) {
                            write(action, v, 2.0, &mut cap);
                        }
                    }
                }
            }
            "BatchWriteItem" => {
                for reqs in body["RequestItems"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    for w in reqs.as_array().into_iter().flatten() {
                        if let Some(p) = w.get("PutRequest") {
                            write("Put", p, 1.0, &mut cap);
                        }
                        if let Some(d) = w.get("DeleteRequest") {
                            write("Delete", d, 1.0, &mut cap);
                        }
                    }
                }
            }
            "GetItem" => {
                let size = body["Key"]
                    .as_object()
                    .and_then(key_of)
                    .and_then(|k| current.get(&k).or(finals.get(&k).copied()).map(item_size))
                    .unwrap_or(0);
                let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
                *cap.rru.entry(f.clone()).or_default() +=
                    units(size, 4096) * if consistent { 1.0 } else { 0.5 };
            }
            "BatchGetItem" => {
                for t in body["RequestItems"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    let consistent = t["ConsistentRead"].as_bool().unwrap_or(false);
                    for k in t["Keys"].as_array().into_iter().flatten() {
                        let size = k
                            .as_object()
                            .and_then(key_of)
                            .and_then(|k| {
                                current.get(&k).or(finals.get(&k).copied()).map(item_size)
                            })
                            .unwrap_or(0);
                        *cap.rru.entry(f.clone()).or_default() +=
                            units(size, 4096) * if consistent { 1.0 } else { 0.5 };
                    }
                }
            }
            "TransactGetItems" => {
                let n = body["TransactItems"].as_array().map_or(0, Vec::len);
                *cap.rru.entry(f.clone()).or_default() += 2.0 * n as f64;
            }
            "Query" | "Scan" => {
                let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
                *cap.rru.entry(f.clone()).or_default() += if consistent { 1.0 } else { 0.5 };
            }
            _ => {}
        }
    }
    cap
}

/// On-demand prices, US East (N. Virginia), first tier, read 2026-11-29 from the dated pages
/// docs/aws.md ("Dollars per 100,000 reports") cites; no stored page showed ap-southeast-1.
pub mod prices {
    /// Per write request unit.
    pub const DYNAMODB_WRU: f64 = 0.625e-6;
    /// Per read request unit.
    pub const DYNAMODB_RRU: f64 = 0.125e-6;
    /// Per PUT, COPY, POST or LIST request (S3 Standard).
    pub const S3_PUT: f64 = 0.005e-3;
    /// Per GET or HEAD request (S3 Standard).
    pub const S3_GET: f64 = 0.0004e-3;
    /// Per SNS publish (an SMS is billed as an SMS instead: excluded).
    pub const SNS_PUBLISH: f64 = 0.50e-6;
    /// Per SQS request.
    pub const SQS_REQUEST: f64 = 0.40e-6;
    /// Per HTTP API request.
    pub const HTTP_API_REQUEST: f64 = 1.00e-6;
    /// Per Lambda invocation.
    pub const LAMBDA_REQUEST: f64 = 0.20e-6;
    /// Per GB-second of Lambda on arm64.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
}

/// The quantities of one report's path that cost money (SMS, e-mail delivery and storage
/// excluded, as the issue says).
#[derive(Debug, Default, Clone)]
pub struct Quantities {
    pub capacity: Capacity,
    pub s3_put: f64,
    pub s3_get: f64,
    pub sns_publish: f64,
    pub sqs_requests: f64,
    pub http_api_requests: f64,
    pub lambda_invocations: f64,
    pub lambda_gb_seconds: f64,
}

impl Quantities {
    /// Dollars per 100,000 reports, by line.
    pub fn dollars_per_100k(&self) -> Vec<(&'static str, f64)> {
        use prices::*;
        let k = 100_000.0;
        vec![
            ("DynamoDB writes", k * self.capacity.wru() * DYNAMODB_WRU),
            ("DynamoDB reads", k * self.capacity.rru() * DYNAMODB_RRU),
            ("S3 PUT-class", k * self.s3_put * S3_PUT),
            ("S3 GET-class", k * self.s3_get * S3_GET),
            ("SNS publishes", k * self.sns_publish * SNS_PUBLISH),
            ("SQS requests", k * self.sqs_requests * SQS_REQUEST),
            ("API Gateway", k * self.http_api_requests * HTTP_API_REQUEST),
            (
                "Lambda requests",
                k * self.lambda_invocations * LAMBDA_REQUEST,
            ),
            (
                "Lambda duration",
                k * self.lambda_gb_seconds * LAMBDA_GB_SECOND,
            ),
        ]
    }
}

/// Every item of `table` (the harness's own scan, not counted), at most 10,000 pages.
pub async fn scan_items(
    client: &phananh_aws::aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    let mut start = None;
    for _ in 0..10_000 {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| format!("scan: {e:?}"))?;
        out.extend(page.items().iter().map(item_json));
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
    Err("scan: more than 10,000 pages".into())
}

/// `MemorySize` of each function of a SAM template (the `Globals` value where a function
/// sets none), in MB, read from its text.
pub fn memory_sizes(template: &str) -> (u32, HashMap<String, u32>) {
    let mut default = 128;
    let mut sizes = HashMap::new();
    let mut current: Option<String> = None;
    let mut in_globals = false;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_globals = line.starts_with("Globals:");
            current = None;
        }
        let trimmed = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with("Function:") {
            current = Some(trimmed.trim_end_matches(':').to_string());
        }
        if let Some(v) = trimmed.strip_prefix("MemorySize:") {
            let Ok(mb) = v.trim().parse::<u32>() else {
                continue;
            };
            match (&current, in_globals) {
                (_, true) => default = mb,
                (Some(f), false) => {
                    sizes.insert(f.clone(), mb);
                }
                (None, false) => {}
            }
        }
    }
    (default, sizes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn sizes_follow_dynamodbs_published_rules() {
        // Names and UTF-8 values: "pk" + "REPORT#1" = 10, "n" + 1234500 (5 significant
        // digits: 3 + 1) = 5, "ok" + 1 = 3, "l" + list of two 1-byte strings (3 + 2 + 2) = 8.
        let i = item(json!({
            "pk": {"S": "REPORT#1"},
            "n": {"N": "1234500"},
            "ok": {"BOOL": true},
            "l": {"L": [{"S": "a"}, {"S": "b"}]},
        }));
        assert_eq!(item_size(&i), 10 + 5 + 3 + 8);
        // "Đ" is two bytes in UTF-8.
        assert_eq!(value_size(&json!({"S": "Đ"})), 2);
    }

    #[test]
    fn a_transaction_costs_twice_and_an_unchanged_index_copy_nothing() {
        let put = |state: &str, doc_len: usize| {
            json!({"Item": {
                "pk": {"S": "REPORT#1"}, "sk": {"S": "REPORT"},
                "state_pk": {"S": state}, "csk": {"S": "2026"},
                "doc": {"S": "x".repeat(doc_len)},
            }})
        };
        let req = |op: &str, body: Value| RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1/".into(),
            headers: HashMap::from([(
                "x-amz-target".to_string(),
                format!("DynamoDB_20120810.{op}"),
            )]),
            body: body.to_string(),
        };
        let a = req("PutItem", put("STATE#a", 1500));
        let b = req(
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": put("STATE#b", 1500)}]}),
        );
        let rs = vec![("F".to_string(), &a), ("F".to_string(), &b)];
        let cap = dynamodb_capacity(&rs, &[]);
        // 2 KB item: 2 units, then 2 × 2 in the transaction.
        assert_eq!(cap.wru_items["F"], 2.0 + 4.0);
        // by_state copies what its projection says; the second write moves the copy
        // (delete + put), whatever it costs, more than the first's put alone.
        let first = index_units(None, put("STATE#a", 1500)["Item"].as_object());
        assert!(cap.wru_indexes["F"] > first);
        // The same item written again changes no index copy.
        let same = put("STATE#a", 1500);
        let same = same["Item"].as_object();
        assert_eq!(index_units(same, same), 0.0);
    }
}
