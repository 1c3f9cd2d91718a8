//! The events of a batch of the table's DynamoDB Streams records, as the Lambda service hands
//! them to the relay function.
//!
//! Why it exists: every report change writes its events as `EVENT#` items in the change's own
//! transaction (see [`super::codec::event_item`]); the table's stream (view `NEW_IMAGE`)
//! carries those items, so an event cannot be lost between the write and the publish and the
//! writer publishes nothing. This module reads the records' new images back into envelopes,
//! in stream order. It must never call AWS (the relay publishes, see
//! `phananh_lambda::relay_stream`) and never decide anything about the events.
//!
//! The record shape is the Lambda DynamoDB Streams event (`Records[].eventName`,
//! `.dynamodb.Keys`, `.dynamodb.NewImage`, `.dynamodb.SequenceNumber`) and the same as
//! `GetRecords` returns. It is read here with the few fields used rather than
//! `aws_lambda_events`' `dynamodb` feature, which needs `serde_dynamo` (not in the build).

use super::codec::EVENT;
use crate::table::{ItemKey, SK};
use phananh_core::model::EventEnvelope;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// A Lambda DynamoDB Streams event (the fields the relay reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One change record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(default)]
    pub dynamodb: StreamChange,
}

/// The item change of a record, attribute values in DynamoDB JSON (`{"S": "..."}`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamChange {
    #[serde(rename = "Keys", default)]
    pub keys: HashMap<String, Value>,
    #[serde(rename = "NewImage", default)]
    pub new_image: HashMap<String, Value>,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
}

/// What a batch holds: the events in stream order, and the records that claim to be events
/// but cannot be read (logged by the caller; retrying them cannot help).
#[derive(Debug, Default)]
pub struct StreamEvents {
    pub events: Vec<EventEnvelope>,
    pub unreadable: Vec<String>,
}

fn string_attr<'a>(attrs: &'a HashMap<String, Value>, name: &str) -> Option<&'a str> {
    attrs.get(name)?.get("S")?.as_str()
}

/// The events written in the batch's changes: the new images of inserted (or rewritten)
/// `EVENT#` items. Report, membership and marker items, and the removals by TTL, are skipped.
pub fn events_of(batch: &StreamEvent) -> StreamEvents {
    let event_sk = ItemKey::event("").sk;
    let mut out = StreamEvents::default();
    for rec in &batch.records {
        if !matches!(rec.event_name.as_str(), "INSERT" | "MODIFY") {
            continue;
        }
        if string_attr(&rec.dynamodb.keys, SK) != Some(event_sk.as_str()) {
            continue;
        }
        let parsed =
            string_attr(&rec.dynamodb.new_image, EVENT).map(serde_json::from_str::<EventEnvelope>);
        match parsed {
            Some(Ok(env)) => out.events.push(env),
            Some(Err(_)) | None => out.unreadable.push(
                rec.dynamodb
                    .sequence_number
                    .clone()
                    .unwrap_or_else(|| "?".into()),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, sk: &str, image: Value) -> Value {
        json!({"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"pk": {"S": "X"}, "sk": {"S": sk}},
            "NewImage": image, "SequenceNumber": "100", "StreamViewType": "NEW_IMAGE"}})
    }

    #[test]
    fn only_inserted_event_items_are_events_in_stream_order() {
        let env = |i: u64| {
            json!({"id": format!("r1:{i}:0"), "report_id": "r1", "version": i,
                   "at": "2026-11-29T00:00:00Z", "event": {"type": "report_accepted"}})
        };
        let ev = |i: u64| json!({"event": {"S": env(i).to_string()}});
        let batch: StreamEvent = serde_json::from_value(json!({"Records": [
            record("INSERT", "REPORT", json!({"doc": {"S": "{}"}})),
            record("INSERT", "EVENT", ev(2)),
            record("REMOVE", "EVENT", json!({})),
            record("INSERT", "EVENT", ev(3)),
            record("INSERT", "EVENT", json!({"event": {"S": "not json"}})),
        ]}))
        .expect("event");
        let got = events_of(&batch);
        let ids: Vec<&str> = got.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["r1:2:0", "r1:3:0"]);
        assert_eq!(got.unreadable, ["100"]);
    }
}
