//! The single-table schema: key attribute names, the global secondary indexes and the
//! `CreateTable` request built from them. `template.yaml` declares the same table; a test
//! (`infra/aws/tests/template.rs`) checks that both agree.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

/// Table partition key.
pub const PK: &str = "pk";
/// Table sort key.
pub const SK: &str = "sk";
/// Creation sort key shared by the list indexes: `<created_at, RFC 3339 nanos>#<id>`.
pub const CSK: &str = "csk";
/// TTL attribute (epoch seconds) of idempotency and notification markers.
pub const TTL_ATTR: &str = "expires_at";

/// One global secondary index (all are `ProjectionType::All`, both keys strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GsiDef {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Reports by state: `state_pk = STATE#<state>`, newest first by `csk`.
pub const GSI_STATE: GsiDef = GsiDef {
    name: "by_state",
    pk: "state_pk",
    sk: CSK,
};
/// Reports by involved unit (lead or coordinating): one membership item per unit.
pub const GSI_UNIT: GsiDef = GsiDef {
    name: "by_unit",
    pk: "unit_pk",
    sk: CSK,
};
/// Reports by reporter (citizen id).
pub const GSI_REPORTER: GsiDef = GsiDef {
    name: "by_reporter",
    pk: "reporter_pk",
    sk: CSK,
};
/// Sparse: only published, non-secret reports.
pub const GSI_PUBLIC: GsiDef = GsiDef {
    name: "public_feed",
    pk: "public_pk",
    sk: CSK,
};
/// Sparse: reports with a pending escalation threshold, by `next_at`.
pub const GSI_ESCALATION: GsiDef = GsiDef {
    name: "escalation",
    pk: "esc_pk",
    sk: "esc_sk",
};
/// Sparse: outbox events not yet published, oldest first.
pub const GSI_OUTBOX: GsiDef = GsiDef {
    name: "outbox",
    pk: "outbox_pk",
    sk: "outbox_sk",
};

pub const GSIS: [GsiDef; 6] = [
    GSI_STATE,
    GSI_UNIT,
    GSI_REPORTER,
    GSI_PUBLIC,
    GSI_ESCALATION,
    GSI_OUTBOX,
];

/// Every attribute that is a key of the table or of an index (all strings).
pub fn key_attributes() -> Vec<&'static str> {
    let mut v = vec![PK, SK];
    for g in GSIS {
        for a in [g.pk, g.sk] {
            if !v.contains(&a) {
                v.push(a);
            }
        }
    }
    v
}

/// Creates the table (on-demand billing, every GSI) and turns on TTL. Used by the emulator
/// harness and by anyone provisioning outside CloudFormation; `template.yaml` is the
/// production definition.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), TableError> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for a in key_attributes() {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(TableError::build)?,
        );
    }
    for g in GSIS {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(g.name)
                .key_schema(key(g.pk, KeyType::Hash)?)
                .key_schema(key(g.sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(TableError::build)?,
        );
    }
    req.send().await.map_err(TableError::sdk)?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTR)
                .build()
                .map_err(TableError::build)?,
        )
        .send()
        .await
        .map_err(TableError::sdk)?;
    Ok(())
}

fn key(name: &str, kt: KeyType) -> Result<KeySchemaElement, TableError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kt)
        .build()
        .map_err(TableError::build)
}

#[derive(Debug, thiserror::Error)]
#[error("create table: {0}")]
pub struct TableError(String);

impl TableError {
    fn build(e: impl std::fmt::Display) -> Self {
        TableError(e.to_string())
    }
    fn sdk<E: std::error::Error + 'static>(e: aws_sdk_dynamodb::error::SdkError<E>) -> Self {
        TableError(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
    }
}
