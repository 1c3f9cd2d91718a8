//! What a recorded run costs: the DynamoDB request units of the requests the functions made
//! (replayed over the items they wrote, costed by `phananh_aws::capacity`, DynamoDB's
//! published size and write rules) and the dollars of the whole path at on-demand prices.
//! Estimates the emulator does not make: moto returns no consumed capacity.
//!
//! What the requests do not say is assumed, and the assumption is named: the item an
//! `UpdateItem` leaves is its state at the end of the run (read by one scan), so an item
//! updated several times is counted at its final size each time, and an index copy it leaves
//! unchanged after its first update is not counted again; a `Query` or `Scan` reads at most
//! 4 KB (one unit, half when eventually consistent); a read of an item costs one unit per
//! 4 KB (half when eventually consistent, two in a transaction).

use crate::moto::RecordedRequest;
use phananh_aws::capacity::{item_from_json, item_size, Item, Write, WriteLedger};
use phananh_aws::table::{GSIS, PK, SK};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

type Key = (String, String);

fn key_of(item: &Item) -> Option<Key> {
    let s = |n: &str| item.get(n).and_then(|v| v.as_s().ok()).cloned();
    Some((s(PK)?, s(SK)?))
}

fn read_units(bytes: usize, consistent: bool) -> f64 {
    bytes.div_ceil(4096).max(1) as f64 * if consistent { 1.0 } else { 0.5 }
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
    let mut ledger = WriteLedger::default();
    let mut cap = Capacity::default();
    let size_of = |ledger: &WriteLedger, key: Option<Key>| {
        key.and_then(|(pk, sk)| {
            ledger
                .item(&pk, &sk)
                .or(finals.get(&(pk, sk)).copied())
                .map(item_size)
        })
        .unwrap_or(0)
    };
    for (f, r) in requests {
        let Some(op) = r.operation() else { continue };
        let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
        // One write: a put of the item, a delete, an update leaving its final item, or a
        // condition check (which changes nothing).
        let mut write = |action: &str, v: &Value, transactional: bool, cap: &mut Capacity| {
            let w = match action {
                "Put" => v.get("Item").and_then(item_from_json).map(Write::Put),
                "Delete" => v.get("Key").and_then(item_from_json).map(Write::Delete),
                "Update" => v.get("Key").and_then(item_from_json).map(|k| {
                    match key_of(&k).and_then(|key| finals.get(&key)) {
                        Some(after) => Write::Put((*after).clone()),
                        None => Write::Other(k),
                    }
                }),
                _ => v.get("Key").and_then(item_from_json).map(Write::Other),
            };
            let Some(w) = w else { return };
            let cost = ledger.apply(w, &GSIS, transactional);
            *cap.wru_items.entry(f.clone()).or_default() += cost.table as f64;
            *cap.wru_indexes.entry(f.clone()).or_default() +=
                cost.indexes.iter().map(|(_, u)| *u as f64).sum::<f64>();
        };
        match op.as_str() {
            "PutItem" => write("Put", &body, false, &mut cap),
            "UpdateItem" => write("Update", &body, false, &mut cap),
            "DeleteItem" => write("Delete", &body, false, &mut cap),
            "TransactWriteItems" => {
                for t in body["TransactItems"].as_array().into_iter().flatten() {
                    for action in ["Put", "Update", "Delete", "ConditionCheck"] {
                        if let Some(v) = t.get(action) {
                            write(action, v, true, &mut cap);
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
                            write("Put", p, false, &mut cap);
                        }
                        if let Some(d) = w.get("DeleteRequest") {
                            write("Delete", d, false, &mut cap);
                        }
                    }
                }
            }
            "GetItem" => {
                let key = body
                    .get("Key")
                    .and_then(item_from_json)
                    .and_then(|k| key_of(&k));
                let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
                *cap.rru.entry(f.clone()).or_default() +=
                    read_units(size_of(&ledger, key), consistent);
            }
            "BatchGetItem" => {
                for t in body["RequestItems"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    let consistent = t["ConsistentRead"].as_bool().unwrap_or(false);
                    for k in t["Keys"].as_array().into_iter().flatten() {
                        let key = item_from_json(k).and_then(|k| key_of(&k));
                        *cap.rru.entry(f.clone()).or_default() +=
                            read_units(size_of(&ledger, key), consistent);
                    }
                }
            }
            "TransactGetItems" => {
                let n = body["TransactItems"].as_array().map_or(0, Vec::len);
                *cap.rru.entry(f.clone()).or_default() += 2.0 * n as f64;
            }
            "Query" | "Scan" => {
                let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
                *cap.rru.entry(f.clone()).or_default() += read_units(0, consistent);
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
        out.extend(page.items().iter().cloned());
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

    fn req(op: &str, body: Value) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1/".into(),
            headers: HashMap::from([(
                "x-amz-target".to_string(),
                format!("DynamoDB_20120810.{op}"),
            )]),
            body: body.to_string(),
        }
    }

    fn report(state: &str, doc_len: usize) -> Value {
        json!({
            "pk": {"S": "REPORT#1"}, "sk": {"S": "REPORT"},
            "state_pk": {"S": state}, "csk": {"S": "2026"},
            "report": {"S": "x".repeat(doc_len)},
        })
    }

    #[test]
    fn a_transaction_costs_twice_an_update_its_final_item_and_a_moved_index_copy_two_writes() {
        let put = req("PutItem", json!({"Item": report("STATE#a", 1500)}));
        let moved = req(
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": {"Item": report("STATE#b", 1500)}}]}),
        );
        let update = req(
            "UpdateItem",
            json!({"Key": {"pk": {"S": "REPORT#1"}, "sk": {"S": "REPORT"}}}),
        );
        let read = req(
            "GetItem",
            json!({"Key": {"pk": {"S": "REPORT#1"}, "sk": {"S": "REPORT"}}, "ConsistentRead": true}),
        );
        let f = |r| ("F".to_string(), r);
        let rs = vec![f(&put), f(&moved), f(&update), f(&read)];
        // The update leaves a 5 KB item (read from the final scan).
        let last = item_from_json(&report("STATE#b", 5000)).unwrap_or_default();
        let cap = dynamodb_capacity(&rs, &[last]);
        // 2 KB: 2 units; 2 × 2 in the transaction; the update: the larger item, 5 KB.
        assert_eq!(cap.wru_items["F"], 2.0 + 4.0 + 5.0);
        // by_state: the put enters it, the transaction moves it (a delete and a put); the
        // update changes nothing it copies (the document is not projected).
        assert_eq!(cap.wru_indexes["F"], 3.0);
        // A consistent read of the 5 KB item: 2 units of 4 KB.
        assert_eq!(cap.rru["F"], 2.0);
    }
}
