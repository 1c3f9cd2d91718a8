//! The single-table schema: key attribute names, the global secondary indexes, the `CreateTable`
//! request built from them, and the format of every key value the adapters write.
//!
//! Why it exists: the table is shared by every adapter that touches DynamoDB (the report and
//! account store in [`crate::dynamo`], the notification dedupe of [`crate::sns`]), so its
//! shape and ALL its key formats are spelled here, once. `template.yaml` declares the same
//! table; a test (`infra/aws/tests/template.rs`) checks that both agree. Never spell a key
//! prefix (`REPORT#`, `NOTIF#`, ...) anywhere else, and never call DynamoDB from here except to
//! create the table.
//!
//! Items (all keys are strings):
//!
//! | item              | pk                 | sk            | index attributes                                  |
//! |-------------------|--------------------|---------------|---------------------------------------------------|
//! | report            | `REPORT#<id>`      | `REPORT`      | `state_pk`, `reporter_pk`, `public_pk`*, `esc_pk`/`esc_sk`*, `csk` |
//! | unit membership   | `REPORT#<id>`      | `UNIT#<unit>` | `unit_pk`, `csk` (nothing else: keys only)        |
//! | timeline chunk    | `REPORT#<id>`      | `TL#<first seq>` | — (`entries`: archived timeline entries)       |
//! | event             | `EVENT#<event id>` | `EVENT`       | — (`event`, TTL `expires_at`; the stream carries it) |
//! | idempotency key   | `IDEM#<key>`       | `IDEM`        | —                                                 |
//! | account           | `ACCOUNTS`         | `ACCOUNT#<id>`| —                                                 |
//! | username          | `USERNAME#<name>`  | `USERNAME`    | —                                                 |
//! | notification      | `NOTIF#<id>`       | `NOTIF`       | `unit_pk` = `DELIVREP#<report>`*, `deliv_pk` = `DELIV#<channel>` or `DELIV#<channel>#dead`, `csk` (the delivery log; records of the earlier layout carry `state_pk` = `DELIV#<channel>#<status>` instead of `deliv_pk`) |
//! | sign-in guard     | `GUARD#<key>`      | `GUARD`       | — (`version`, `doc`, TTL `expires_at`)            |
//! | statistics row    | `STATS`            | `ROW#<YYYY-MM>#<row key>` | — (`received`, `open`, `resolved`, `on_time`, `h<bucket>`) |
//! | report's share    | `STATSREP`         | `REPORT#<id>` | — (`version`, `doc`: its contribution)            |
//! | upload slot       | `UPLOAD#<owner>#<id>` | `UPLOAD`   | — (`doc`: the slot, TTL `expires_at`)             |
//! | upload quota day  | `UPQUOTA#<owner>#<day>` | `UPQUOTA` | — (`count`, `bytes`, TTL `expires_at`)         |
//!
//! (* sparse.) Instants in keys are [`time_key`]s, so string order is time order.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

/// Table partition key.
pub const PK: &str = "pk";
/// Table sort key.
pub const SK: &str = "sk";
/// Creation sort key shared by the list indexes: `<created_at, RFC 3339 nanos>#<id>`.
pub const CSK: &str = "csk";
/// TTL attribute (epoch seconds) of idempotency and notification markers.
pub const TTL_ATTR: &str = "expires_at";

/// The partition of the statistics' month items.
pub(crate) const STATS_PK: &str = "STATS";
/// The partition of the reports' contributions to the statistics.
pub(crate) const STATS_SHARES_PK: &str = "STATSREP";
/// The sort key prefix of a statistics row item (`ROW#<YYYY-MM>#<row key>`).
pub(crate) const STATS_ROW_PREFIX: &str = "ROW#";

/// The value of [`TTL_ATTR`] for an item that may be removed after `at`.
pub(crate) fn ttl_value(at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(at.timestamp().to_string())
}

/// The table's stream carries each written item's new image: the relay reads the events
/// (`EVENT#` items) from it (`crate::stream`).
pub const STREAM_VIEW: StreamViewType = StreamViewType::NewImage;

/// One global secondary index (both keys strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GsiDef {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    /// What the index copies besides the keys: only what its queries read.
    pub projection: GsiProjection,
}

/// The `Projection` of an index (`ProjectionType` and `NonKeyAttributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsiProjection {
    /// Every attribute.
    All,
    /// The table's and the index's keys only.
    KeysOnly,
    /// The keys and these attributes.
    Include(&'static [&'static str]),
}

impl GsiProjection {
    /// The `ProjectionType` name (as `template.yaml` spells it).
    pub fn type_name(&self) -> &'static str {
        match self {
            GsiProjection::All => "ALL",
            GsiProjection::KeysOnly => "KEYS_ONLY",
            GsiProjection::Include(_) => "INCLUDE",
        }
    }

    /// The `NonKeyAttributes` (empty unless `Include`).
    pub fn non_key_attributes(&self) -> &'static [&'static str] {
        match self {
            GsiProjection::Include(a) => a,
            _ => &[],
        }
    }

    fn to_sdk(self) -> Projection {
        let b = Projection::builder();
        match self {
            GsiProjection::All => b.projection_type(ProjectionType::All),
            GsiProjection::KeysOnly => b.projection_type(ProjectionType::KeysOnly),
            GsiProjection::Include(a) => a
                .iter()
                .fold(b.projection_type(ProjectionType::Include), |b, a| {
                    b.non_key_attributes(*a)
                }),
        }
        .build()
    }
}

/// The document (JSON) of the items other than reports (accounts, delivery records, ...), and
/// of report items of the earlier layout.
pub const DOC_ATTR: &str = "doc";
/// The report document (JSON) on a report item, its timeline bounded
/// (`crate::dynamo`'s archive): named apart from [`DOC_ATTR`] so that `by_state`, which
/// copies the delivery records' `doc`, copies no report document.
pub const REPORT_DOC_ATTR: &str = "report";
/// The folded text a list's free-text filter expression reads.
pub const SEARCH_ATTR: &str = "search";
/// What the list indexes copy besides the keys: the text their filter reads on the index —
/// no document (a page's reports are read by one `BatchGetItem` of the report items) and
/// nothing else of the report item (units, index keys of other lists, the point).
const LIST_ATTRS: &[&str] = &[SEARCH_ATTR];

/// What a delivery record (issue 13, `crate::deliveries`) needs from its index items: its
/// per-report reads go through `by_unit` (`DELIVREP#<report>`) and its channel/status reads
/// through `by_state` (`DELIV#<channel>#<status>`). Report and membership items carry none of
/// these attributes but `doc`, so they copy nothing more into those indexes.
const DELIVERY_ATTRS: &[&str] = &[
    DOC_ATTR,
    "state",
    "attempts",
    "provider",
    "provider_message_id",
    "error",
    "created_at",
    "updated_at",
    "earlier",
];

/// `by_state`: the delivery records' attributes and the lists' (`doc` among them, then `search`).
const STATE_ATTRS: [&str; DELIVERY_ATTRS.len() + 1] = with_attr(SEARCH_ATTR, DELIVERY_ATTRS);

/// `attrs` and `extra` as one list (for index projections declared from shared lists).
const fn with_attr<const N: usize>(
    extra: &'static str,
    attrs: &[&'static str],
) -> [&'static str; N] {
    let mut out = [extra; N];
    let mut i = 0;
    while i < attrs.len() {
        out[i] = attrs[i];
        i += 1;
    }
    out
}

/// Reports by state: `state_pk = STATE#<state>`, newest first by `csk`.
pub const GSI_STATE: GsiDef = GsiDef {
    name: "by_state",
    pk: "state_pk",
    sk: CSK,
    projection: GsiProjection::Include(&STATE_ATTRS),
};
/// Reports by involved unit (lead or coordinating): one membership item per unit holding
/// keys only (the report's `pk` names the report item, read by `BatchGetItem`); the delivery
/// records of a report are read here too, so their attributes are copied (memberships have none).
pub const GSI_UNIT: GsiDef = GsiDef {
    name: "by_unit",
    pk: "unit_pk",
    sk: CSK,
    projection: GsiProjection::Include(DELIVERY_ATTRS),
};
/// Reports by reporter (citizen id).
pub const GSI_REPORTER: GsiDef = GsiDef {
    name: "by_reporter",
    pk: "reporter_pk",
    sk: CSK,
    projection: GsiProjection::Include(LIST_ATTRS),
};
/// Sparse: only published, non-secret reports.
pub const GSI_PUBLIC: GsiDef = GsiDef {
    name: "public_feed",
    pk: "public_pk",
    sk: CSK,
    projection: GsiProjection::Include(LIST_ATTRS),
};
/// Sparse: reports with a pending escalation threshold, by `next_at`; keys only (the due
/// reports are read by `BatchGetItem`).
pub const GSI_ESCALATION: GsiDef = GsiDef {
    name: "escalation",
    pk: "esc_pk",
    sk: "esc_sk",
    projection: GsiProjection::KeysOnly,
};
/// Reports by category, newest first: a list by category over several states is one
/// bounded query instead of one per state partition.
pub const GSI_CATEGORY: GsiDef = GsiDef {
    name: "by_category",
    pk: "category_pk",
    sk: CSK,
    projection: GsiProjection::Include(LIST_ATTRS),
};

/// The located reports of a category by geohash cell, newest first: the duplicate check
/// reads the cells its circle touches (`phananh_core::geohash::cells_covering`), one query
/// each, and gets only points (`geo`, `state_pk`), never documents.
pub const GSI_CELL: GsiDef = GsiDef {
    name: "by_cell",
    pk: "cell_pk",
    sk: CSK,
    projection: GsiProjection::Include(&[GEO, "state_pk"]),
};

/// `geo` of a located report: `"<lat> <lon>"` (shortest round-trip decimals).
pub const GEO: &str = "geo";

/// Geohash precision of [`GSI_CELL`]'s cells: 5 characters, about 4.9 km by 4.9 km at the
/// equator (4.5 km wide at Lai Châu's 22° N), so a circle of the configured duplicate radius
/// (100–150 m) lies in one cell unless the point is within the radius of a cell edge (then 2,
/// or 4 at a corner). Changing it needs the items rewritten (their `cell_pk`).
pub const CELL_PRECISION: usize = 5;

/// The delivery log by channel (issue 10): every delivery record under `DELIV#<channel>`,
/// moved to `DELIV#<channel>#dead` when every attempt failed. Keys only, so the outcome
/// written on a record (`sent`: provider, message id, attempts) rewrites no index item: a
/// record costs this index one write when claimed (and two more only if it dies). A page's
/// records are then read by `BatchGetItem` (`crate::deliveries`). Only delivery records
/// carry `deliv_pk`.
pub const GSI_DELIVERY: GsiDef = GsiDef {
    name: "deliveries",
    pk: "deliv_pk",
    sk: CSK,
    projection: GsiProjection::KeysOnly,
};

pub const GSIS: [GsiDef; 8] = [
    GSI_STATE,
    GSI_UNIT,
    GSI_REPORTER,
    GSI_PUBLIC,
    GSI_ESCALATION,
    GSI_CATEGORY,
    GSI_CELL,
    GSI_DELIVERY,
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

// ---------------------------------------------------------------------------------------------
// Key formats

/// Fixed-width UTC timestamp: lexicographic order equals time order.
pub(crate) fn time_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// `<time_key(at)>#<id>`: every sort key that orders by an instant (`csk` by creation,
/// `esc_sk` by next escalation).
pub(crate) fn timed_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", time_key(at))
}

/// Sorts after every [`timed_key`] of an instant at or before `at` (`~` follows any id).
pub(crate) fn timed_key_bound(at: DateTime<Utc>) -> String {
    format!("{}#~", time_key(at))
}

/// `state_pk` of the reports in `state` (`State::as_str`).
pub(crate) fn state_pk(state: &str) -> String {
    format!("STATE#{state}")
}

/// The state named by a `state_pk` value (the inverse of [`state_pk`]).
pub(crate) fn state_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix("STATE#")
}

pub(crate) fn category_pk(category: &str) -> String {
    format!("CAT#{category}")
}

/// `unit_pk` of the delivery records about one report (the `by_unit` index).
pub(crate) fn delivery_report_pk(report_id: &str) -> String {
    format!("DELIVREP#{report_id}")
}

/// `state_pk` of the delivery records of one channel in one status (the `by_state` index).
pub(crate) fn delivery_state_pk(channel: &str, status: &str) -> String {
    format!("DELIV#{channel}#{status}")
}

/// `deliv_pk` of a delivery record in `status` ([`GSI_DELIVERY`]): `DELIV#<channel>`, or
/// `DELIV#<channel>#dead` for a dead letter.
pub(crate) fn delivery_log_pk(channel: &str, dead: bool) -> String {
    if dead {
        format!("DELIV#{channel}#dead")
    } else {
        format!("DELIV#{channel}")
    }
}

/// `cell_pk` of the located reports of `category` in the geohash cell `cell`.
pub(crate) fn cell_pk(category: &str, cell: &str) -> String {
    format!("CELL#{category}#{cell}")
}

/// `reporter_pk` of the reports of one citizen.
pub(crate) fn reporter_pk(citizen_id: &str) -> String {
    format!("REPORTER#{citizen_id}")
}

/// `UNIT#<unit>`: both the `unit_pk` of a membership item and its sort key.
pub(crate) fn unit_key(unit: &str) -> String {
    format!("UNIT#{unit}")
}

/// The sort key of a report item (its partition, `REPORT#<id>`, also holds its memberships).
pub(crate) const REPORT_SK: &str = "REPORT";

/// The sort key prefix of a report's archived timeline chunks (`TL#<first seq, 10 digits>`).
pub(crate) const TIMELINE_CHUNK_PREFIX: &str = "TL#";

/// `public_pk` of every published, non-secret report.
pub(crate) const PUBLIC_PK: &str = "PUBLIC";
/// `esc_pk` of every report with a pending escalation threshold.
pub(crate) const ESCALATION_PK: &str = "ESC";
/// `pk` of the account items (one partition: the list of accounts is one query).
pub(crate) const ACCOUNTS_PK: &str = "ACCOUNTS";

/// The primary key (`pk`, `sk`) of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemKey {
    pub(crate) pk: String,
    pub(crate) sk: String,
}

impl ItemKey {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        ItemKey { pk, sk: sk.into() }
    }

    /// The report item.
    pub(crate) fn report(id: &str) -> Self {
        Self::new(format!("REPORT#{id}"), REPORT_SK)
    }

    /// The membership item of a report in one involved unit (same partition as the report).
    pub(crate) fn membership(report_id: &str, unit: &str) -> Self {
        ItemKey {
            sk: unit_key(unit),
            ..Self::report(report_id)
        }
    }

    /// A chunk of a report's archived timeline (same partition as the report): the entries
    /// from the one with sequence number `first_seq` on, as many as the chunk holds.
    pub(crate) fn timeline_chunk(report_id: &str, first_seq: u32) -> Self {
        ItemKey {
            sk: format!("{TIMELINE_CHUNK_PREFIX}{first_seq:010}"),
            ..Self::report(report_id)
        }
    }

    /// One event, written with its change for the table's stream.
    pub(crate) fn event(event_id: &str) -> Self {
        Self::new(format!("EVENT#{event_id}"), "EVENT")
    }

    /// The idempotency key of a create.
    pub(crate) fn idempotency(key: &str) -> Self {
        Self::new(format!("IDEM#{key}"), "IDEM")
    }

    /// A staff account, in the [`ACCOUNTS_PK`] partition.
    pub(crate) fn account(id: &str) -> Self {
        Self::new(ACCOUNTS_PK.to_string(), format!("ACCOUNT#{id}"))
    }

    /// The username item (login is one read by name).
    pub(crate) fn username(name: &str) -> Self {
        Self::new(format!("USERNAME#{name}"), "USERNAME")
    }

    /// The dedupe marker of one notification id.
    pub(crate) fn notification(id: &str) -> Self {
        Self::new(format!("NOTIF#{id}"), "NOTIF")
    }

    /// One sign-in guard record of core (a keyed digest: no contact in the key).
    pub(crate) fn guard(key: &str) -> Self {
        Self::new(format!("GUARD#{key}"), "GUARD")
    }

    /// One row of the statistics of one local month (`YYYY-MM`), in the [`STATS_PK`]
    /// partition: a range of months is one `Query` of it, and a change writes only the rows
    /// it touches.
    pub(crate) fn stats_row(month: &str, key: &str) -> Self {
        Self::new(
            STATS_PK.to_string(),
            format!("{STATS_ROW_PREFIX}{month}#{key}"),
        )
    }

    /// A report's contribution to the statistics, with the version it was computed from.
    /// In one partition, so a rebuild can find and forget them all without a scan.
    pub(crate) fn stats_share(report_id: &str) -> Self {
        Self::new(STATS_SHARES_PK.to_string(), format!("REPORT#{report_id}"))
    }

    /// One upload slot (`<owner>` is a hash of the uploader's id).
    pub(crate) fn upload_slot(owner: &str, id: &str) -> Self {
        Self::new(format!("UPLOAD#{owner}#{id}"), "UPLOAD")
    }

    /// An uploader's count and bytes of one local day.
    pub(crate) fn upload_quota(owner: &str, day: &str) -> Self {
        Self::new(format!("UPQUOTA#{owner}#{day}"), "UPQUOTA")
    }

    /// The key as an attribute map (a `Key`, or the start of an item).
    pub(crate) fn into_item(self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_string(), AttributeValue::S(self.pk)),
            (SK.to_string(), AttributeValue::S(self.sk)),
        ])
    }
}

/// Creates the table (on-demand billing, every GSI) and turns on TTL. Used by the emulator
/// harness and by anyone provisioning outside CloudFormation; `template.yaml` is the
/// production definition.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), TableError> {
    create_table_with(client, name, true).await
}

/// [`create_table`], with or without the stream. Without: only for emulator suites of the
/// store alone that race writers against each other (moto checks a transaction's
/// conditions without a lock, and the copies of the stream's records it makes in each
/// transaction widen that window); the store writes the same items either way.
pub async fn create_table_with(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    stream: bool,
) -> Result<(), TableError> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    if stream {
        // The events written with each change reach the bus through the stream.
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(STREAM_VIEW)
                .build()
                .map_err(TableError::build)?,
        );
    }
    req = req
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
                .projection(g.projection.to_sdk())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_formats_are_the_documented_ones() {
        let k = |k: ItemKey| (k.pk, k.sk);
        let p = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(k(ItemKey::report("r1")), p("REPORT#r1", "REPORT"));
        assert_eq!(k(ItemKey::membership("r1", "u")), p("REPORT#r1", "UNIT#u"));
        assert_eq!(k(ItemKey::event("e1")), p("EVENT#e1", "EVENT"));
        assert_eq!(k(ItemKey::idempotency("i")), p("IDEM#i", "IDEM"));
        assert_eq!(k(ItemKey::account("a")), p("ACCOUNTS", "ACCOUNT#a"));
        assert_eq!(k(ItemKey::username("n")), p("USERNAME#n", "USERNAME"));
        assert_eq!(k(ItemKey::notification("x")), p("NOTIF#x", "NOTIF"));
        assert_eq!(state_pk("closed"), "STATE#closed");
        assert_eq!(state_of_pk(&state_pk("closed")), Some("closed"));
        assert_eq!(reporter_pk("c"), "REPORTER#c");
        assert_eq!(unit_key("u"), "UNIT#u");
        assert_eq!(cell_pk("roads", "w7x4v"), "CELL#roads#w7x4v");
    }

    #[test]
    fn time_keys_sort_like_instants() {
        let a = DateTime::parse_from_rfc3339("2024-05-01T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::nanoseconds(1);
        let c = a + chrono::Duration::seconds(1);
        assert!(time_key(a) < time_key(b));
        assert!(time_key(b) < time_key(c));
        assert_eq!(time_key(a).len(), 30);
        assert!(timed_key(a, "zzz") < timed_key_bound(a));
        assert!(timed_key_bound(a) < timed_key(b, "0"));
    }
}
