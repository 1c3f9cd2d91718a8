//! The table's DynamoDB stream read on the emulator, standing for the Lambda event source
//! mapping of the relay function: `DescribeTable` (the stream's ARN), `DescribeStream`,
//! `GetShardIterator` (`TRIM_HORIZON`) once, then `GetRecords` from the last iterator. The
//! records come back as the relay receives them (`{"Records": [...]}`).
//!
//! These are the harness's requests (no `app/<function>` user agent), so the calls-per-report
//! count leaves them out, as the Lambda service's own stream reads are not billed requests.
//! Sent as plain JSON to the emulator (which does not check signatures), so the tests need
//! no DynamoDB Streams SDK crate.

use crate::moto::{Moto, REGION};
use phananh_aws::AwsClients;
use serde_json::{json, Value};

/// Reads the stream of one table from where the last read stopped.
pub struct StreamTap {
    http: reqwest::Client,
    endpoint: String,
    arn: String,
    /// Each shard and the sequence number of its last record read.
    shards: Vec<(String, Option<String>)>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl StreamTap {
    /// A tap positioned at the start of `table`'s stream.
    pub async fn open(clients: &AwsClients, table: &str) -> Result<StreamTap, String> {
        let desc = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| {
                phananh_aws::aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
            })?;
        let arn = desc
            .table
            .and_then(|t| t.latest_stream_arn)
            .ok_or_else(|| format!("table {table} has no stream"))?;
        let mut tap = StreamTap {
            http: reqwest::Client::new(),
            endpoint: Moto::shared().endpoint.clone(),
            arn,
            shards: Vec::new(),
        };
        let d = tap
            .call("DescribeStream", json!({"StreamArn": tap.arn}))
            .await?;
        tap.shards = d["StreamDescription"]["Shards"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["ShardId"].as_str().map(|id| (id.to_string(), None)))
            .collect();
        if tap.shards.is_empty() {
            return Err(format!("stream {} has no shard", tap.arn));
        }
        Ok(tap)
    }

    async fn call(&self, op: &str, body: Value) -> Result<Value, String> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/dynamodb/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let resp = self
            .http
            .post(&self.endpoint)
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .map_err(err)?;
        let status = resp.status();
        let text = resp.text().await.map_err(err)?;
        if !status.is_success() {
            return Err(format!("{op}: {status} {text}"));
        }
        serde_json::from_str(&text).map_err(err)
    }

    /// The events written since the last read, decoded as the relay decodes them
    /// ([`phananh_aws::dynamo::stream::events_of`]).
    pub async fn next_events(&mut self) -> Result<Vec<phananh_core::model::EventEnvelope>, String> {
        let batch: phananh_aws::dynamo::stream::StreamEvent =
            serde_json::from_value(self.next_batch().await?).map_err(err)?;
        Ok(phananh_aws::dynamo::stream::events_of(&batch).events)
    }

    /// The records written since the last call, in stream order, as the relay's event
    /// (`{"Records": [...]}`, each with `eventSource` `aws:dynamodb` as Lambda adds it).
    /// A fresh iterator after the last record read each time: the emulator replaces a table's
    /// shard when it rolls back a cancelled transaction, which an older iterator would miss.
    pub async fn next_batch(&mut self) -> Result<Value, String> {
        let mut records = Vec::new();
        for i in 0..self.shards.len() {
            let (shard, last) = self.shards[i].clone();
            let req = match &last {
                Some(seq) => json!({"StreamArn": self.arn, "ShardId": shard,
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seq}),
                None => json!({"StreamArn": self.arn, "ShardId": shard,
                    "ShardIteratorType": "TRIM_HORIZON"}),
            };
            let it = self.call("GetShardIterator", req).await?;
            let mut iterator = it["ShardIterator"].as_str().map(str::to_string);
            // Bounded: a shard is read until a call returns nothing new.
            for _ in 0..50 {
                let Some(current) = iterator.take() else {
                    break;
                };
                let out = self
                    .call(
                        "GetRecords",
                        json!({"ShardIterator": current, "Limit": 1000}),
                    )
                    .await?;
                let got = out["Records"].as_array().cloned().unwrap_or_default();
                if got.is_empty() {
                    break;
                }
                iterator = out["NextShardIterator"].as_str().map(str::to_string);
                for mut r in got {
                    if let Some(seq) = r["dynamodb"]["SequenceNumber"].as_str() {
                        self.shards[i].1 = Some(seq.to_string());
                    }
                    r["eventSource"] = json!("aws:dynamodb");
                    r["awsRegion"] = json!(REGION);
                    records.push(r);
                }
            }
        }
        Ok(json!({ "Records": records }))
    }
}
