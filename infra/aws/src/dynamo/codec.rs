//! Item <-> domain encoding: the attribute maps written for reports, unit memberships,
//! events, idempotency keys and staff accounts, and the decoding of what the table returns.
//!
//! Why it exists: every write and every query must agree on the attributes of an item, so they
//! are built and read here only. It must never call DynamoDB, and never spell a key format
//! (those are [`crate::table`]'s).

use super::backend;
use crate::table::{
    category_pk, cell_pk, reporter_pk, state_pk, timed_key, ttl_value, unit_key, ItemKey,
    CELL_PRECISION, CSK, ESCALATION_PK, GEO, GSI_CATEGORY, GSI_CELL, GSI_ESCALATION, GSI_PUBLIC,
    GSI_REPORTER, GSI_STATE, GSI_UNIT, PUBLIC_PK, TTL_ATTR,
};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use phananh_core::model::{EventEnvelope, GeoPoint, Report};
use phananh_core::ports::{StaffAccount, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub(super) type Item = HashMap<String, AttributeValue>;

/// The whole account (or a report of the earlier layout) as JSON.
pub(super) const DOC: &str = crate::table::DOC_ATTR;
/// The report as JSON on a report item, its timeline bounded (`super::archive`).
pub(super) const REPORT_DOC: &str = crate::table::REPORT_DOC_ATTR;
/// The optimistic-lock counter of a report.
pub(super) const VERSION: &str = "version";
/// The involved units of a report as one string (see [`units_attr`]).
pub(super) const UNITS: &str = "units";
/// The report an idempotency key or an event belongs to.
pub(super) const REPORT_ID: &str = "report_id";
/// The account a username item points to.
pub(super) const ACCOUNT_ID: &str = "account_id";
/// The envelope JSON of an event item.
pub(super) const EVENT: &str = "event";
/// The folded title, description and address of a report (lowercase ASCII words), each word
/// preceded by a space, so `contains(search, " " + term)` means "a word starts with term".
/// On the report item: a query's filter expression reads it.
pub(super) const SEARCH: &str = crate::table::SEARCH_ATTR;

/// The [`SEARCH`] attribute of a report.
pub(super) fn search_attr(r: &Report) -> String {
    let text = phananh_core::ports::ReportQuery::search_text(r);
    let mut out = String::with_capacity(text.len() + 1);
    out.push(' ');
    out.push_str(&text);
    out
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(super) fn num_attr(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// The JSON kept in `doc` (or `event`).
pub(super) fn to_json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

/// Decodes the JSON attribute `name`; `missing` and `corrupt` word the two failures.
fn from_json_attr<T: DeserializeOwned>(
    item: &Item,
    name: &str,
    missing: &str,
    corrupt: &str,
) -> Result<T, StoreError> {
    let json = str_attr(item, name).ok_or_else(|| StoreError::Backend(missing.into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Backend(format!("{corrupt}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Reports

/// The lead and coordinating units of a report, sorted, without repeats.
pub(super) fn involved_units(r: &Report) -> Vec<String> {
    let mut units: Vec<String> = match &r.assignment {
        Some(a) => std::iter::once(a.lead_unit.clone())
            .chain(a.coordinating_units.iter().cloned())
            .collect(),
        None => Vec::new(),
    };
    units.sort();
    units.dedup();
    units
}

/// The involved units as one comparable string attribute (never empty: DynamoDB condition
/// values must not be empty strings on every implementation).
pub(super) fn units_attr(units: &[String]) -> String {
    let mut out = String::from("U:");
    out.push_str(&units.join("\u{1f}"));
    out
}

pub(super) fn units_from_attr(attr: &str) -> Vec<String> {
    match attr.strip_prefix("U:") {
        Some("") | None => Vec::new(),
        Some(rest) => rest.split('\u{1f}').map(str::to_string).collect(),
    }
}

fn is_public(r: &Report) -> bool {
    r.state_is_public() && !r.flags.state_secret
}

/// `csk` of a report and of its memberships.
fn creation_key(r: &Report) -> String {
    timed_key(r.created_at, r.id.as_str())
}

/// The report item's base: key, `report`, `version`, `csk`, `search`.
fn report_copy(key: ItemKey, r: &Report, doc: &str) -> Item {
    let mut item = key.into_item();
    item.insert(REPORT_DOC.into(), s(doc));
    item.insert(VERSION.into(), n(r.version));
    item.insert(CSK.into(), s(creation_key(r)));
    item.insert(SEARCH.into(), s(search_attr(r)));
    item
}

/// The report item; `doc` is `to_json` of `r` with its inline timeline (`super::archive`
/// adds the archive's attributes).
pub(super) fn report_item(r: &Report, doc: &str) -> Item {
    let mut item = report_copy(ItemKey::report(r.id.as_str()), r, doc);
    item.insert(UNITS.into(), s(units_attr(&involved_units(r))));
    item.insert(GSI_STATE.pk.into(), s(state_pk(r.state.as_str())));
    item.insert(GSI_CATEGORY.pk.into(), s(category_pk(&r.category)));
    if let Some(p) = r.location.filter(|p| p.is_valid()) {
        // The duplicate check's index (`by_cell`): its cell and the point itself.
        let cell = phananh_core::geohash::encode(p, CELL_PRECISION);
        item.insert(GSI_CELL.pk.into(), s(cell_pk(&r.category, &cell)));
        item.insert(GEO.into(), s(geo_attr(p)));
    }
    if let Some(cid) = r.reporter_id() {
        item.insert(GSI_REPORTER.pk.into(), s(reporter_pk(cid)));
    }
    if is_public(r) {
        item.insert(GSI_PUBLIC.pk.into(), s(PUBLIC_PK));
    }
    if let Some(at) = r.escalation.next_at {
        item.insert(GSI_ESCALATION.pk.into(), s(ESCALATION_PK));
        item.insert(GSI_ESCALATION.sk.into(), s(timed_key(at, r.id.as_str())));
    }
    item
}

/// The [`GEO`] attribute of a point: `"<lat> <lon>"`, shortest decimals that read back as
/// the same numbers.
pub(super) fn geo_attr(p: GeoPoint) -> String {
    format!("{} {}", p.lat, p.lon)
}

/// The point of a [`GEO`] attribute (`None` when malformed).
pub(super) fn geo_from_attr(attr: &str) -> Option<GeoPoint> {
    let (lat, lon) = attr.split_once(' ')?;
    let p = GeoPoint {
        lat: lat.parse().ok()?,
        lon: lon.parse().ok()?,
    };
    p.is_valid().then_some(p)
}

/// The membership item of the report in `unit` (indexed by `by_unit`): keys only — the
/// report's partition (`pk`), the unit and the creation key, none of which ever change, so it
/// is written once when the unit becomes involved and deleted when it stops being.
pub(super) fn membership_item(r: &Report, unit: &str) -> Item {
    let mut item = ItemKey::membership(r.id.as_str(), unit).into_item();
    item.insert(GSI_UNIT.pk.into(), s(unit_key(unit)));
    item.insert(CSK.into(), s(creation_key(r)));
    item
}

/// The report of a report item as stored: with its inline timeline only when part of it is
/// archived (`super::archive` completes it). An item of the earlier layout keeps it in `doc`.
pub(super) fn report_from_item(item: &Item) -> Result<Report, StoreError> {
    let name = if item.contains_key(REPORT_DOC) {
        REPORT_DOC
    } else {
        DOC
    };
    from_json_attr(item, name, "item without doc", "corrupt report doc")
}

/// The idempotency item of a create: it points to the report until `expires`.
pub(super) fn idempotency_item(key: &str, r: &Report, expires: DateTime<Utc>) -> Item {
    let mut item = ItemKey::idempotency(key).into_item();
    item.insert(REPORT_ID.into(), s(r.id.as_str()));
    item.insert(TTL_ATTR.into(), ttl_value(expires));
    item
}

// ---------------------------------------------------------------------------------------------
// Events

/// How long an event item is kept after its instant (DynamoDB TTL deletes it, free of
/// charge): the stream, which keeps records 24 hours, has long carried it by then.
const EVENT_TTL_DAYS: i64 = 2;

/// An event, written in its change's transaction: the table's stream carries its new image
/// to the relay (`super::stream`); nothing reads or deletes it afterwards.
pub(super) fn event_item(e: &EventEnvelope) -> Result<Item, StoreError> {
    let mut item = ItemKey::event(&e.id).into_item();
    item.insert(EVENT.into(), s(to_json(e)?));
    item.insert(REPORT_ID.into(), s(e.report_id.as_str()));
    item.insert(
        TTL_ATTR.into(),
        ttl_value(e.at + chrono::Duration::days(EVENT_TTL_DAYS)),
    );
    Ok(item)
}

// ---------------------------------------------------------------------------------------------
// Accounts

/// The account item and its username item (which carries a copy of the account).
pub(super) fn account_items(a: &StaffAccount) -> Result<(Item, Item), StoreError> {
    let doc = to_json(a)?;
    let mut acc = ItemKey::account(&a.id).into_item();
    acc.insert(DOC.into(), s(&doc));
    let mut user = ItemKey::username(&a.username).into_item();
    user.insert(ACCOUNT_ID.into(), s(&a.id));
    user.insert(DOC.into(), s(doc));
    Ok((acc, user))
}

pub(super) fn account_from_item(item: &Item) -> Result<StaffAccount, StoreError> {
    from_json_attr(item, DOC, "account without doc", "corrupt account doc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_attribute_round_trips() {
        assert_eq!(units_from_attr(&units_attr(&[])), Vec::<String>::new());
        let u = vec!["a".to_string(), "b c".to_string()];
        assert_eq!(units_from_attr(&units_attr(&u)), u);
    }

    #[test]
    fn geo_attribute_round_trips_exactly() {
        for p in [
            GeoPoint {
                lat: 22.396_428_1,
                lon: 103.458_231_7,
            },
            GeoPoint {
                lat: -0.1,
                lon: 179.999_999_999,
            },
            GeoPoint {
                lat: 1.0 / 3.0,
                lon: -2.0 / 7.0,
            },
        ] {
            assert_eq!(geo_from_attr(&geo_attr(p)), Some(p));
        }
        assert_eq!(geo_from_attr("22.4"), None);
        assert_eq!(geo_from_attr("x 1"), None);
        assert_eq!(geo_from_attr("91 1"), None);
    }
}
