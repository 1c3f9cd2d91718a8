//! `GuardStore` on the DynamoDB table: core's sign-in guards (one-time codes as keyed hashes,
//! attempt counters, cool-downs), one item per key, shared by every Lambda instance. Writes
//! are conditional on `version` (compare-and-swap); DynamoDB's TTL removes expired items.

use crate::table::{ttl_value, ItemKey, TTL_ATTR};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use phananh_core::ports::{GuardRecord, GuardStore, StoreError};

const VERSION: &str = "version";
const DOC: &str = "doc";

/// The guard store of one table (the table of [`crate::table`]).
#[derive(Debug, Clone)]
pub struct DynamoGuards {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoGuards {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoGuards {
            client,
            table: table.into(),
        }
    }

    /// The guards of the table in `settings`.
    pub fn from_settings(clients: &crate::AwsClients, settings: &crate::AwsSettings) -> Self {
        DynamoGuards::new(clients.dynamodb.clone(), &settings.table)
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

#[async_trait]
impl GuardStore for DynamoGuards {
    async fn guard_get(&self, key: &str) -> Result<Option<GuardRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::guard(key).into_item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let version = match item.get(VERSION) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(err)?,
            _ => return Err(err("guard item without version")),
        };
        let doc = match item.get(DOC) {
            Some(AttributeValue::S(s)) => serde_json::from_str(s).map_err(err)?,
            _ => return Err(err("guard item without doc")),
        };
        let expires_at = match item.get(TTL_ATTR) {
            Some(AttributeValue::N(n)) => n
                .parse::<i64>()
                .ok()
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .unwrap_or_default(),
            _ => DateTime::<Utc>::default(),
        };
        Ok(Some(GuardRecord {
            version,
            doc,
            expires_at,
        }))
    }

    async fn guard_put(
        &self,
        key: &str,
        doc: &serde_json::Value,
        expires_at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut item = ItemKey::guard(key).into_item();
        item.insert(
            VERSION.into(),
            AttributeValue::N(expected.map_or(1, |v| v + 1).to_string()),
        );
        item.insert(
            DOC.into(),
            AttributeValue::S(serde_json::to_string(doc).map_err(err)?),
        );
        item.insert(TTL_ATTR.into(), ttl_value(expires_at));
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let req = match expected {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(v) => req
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(err(DisplayErrorContext(&e))),
        }
    }
}
