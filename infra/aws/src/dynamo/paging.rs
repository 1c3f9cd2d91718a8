//! Paging, written once: the opaque cursor of report lists, and the page-by-page reading of a
//! DynamoDB query that every bounded "read what is due" query uses.
//!
//! Why it exists: continuing a query is the same few lines everywhere (start key in, last
//! evaluated key out, stop on an empty one), and a cursor must be validated the same way on
//! every list. It must never hand DynamoDB's raw `LastEvaluatedKey` to a client (post-filtering
//! stops in the middle of a DynamoDB page, and merged partitions have several), and never read
//! without a bound on the number of calls.

use super::codec::Item;
use super::sdk_err;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use base64::Engine;
use chrono::DateTime;
use phananh_core::ports::StoreError;

/// Bound on pages read by the small "read everything" loops (accounts, escalations, outbox).
const MAX_PAGES: usize = 50;
/// Most items asked of DynamoDB in one call of [`read_pages`].
const MAX_CALL_LIMIT: usize = 100;

const CURSOR_PREFIX: &str = "v1|";

/// The cursor a client gets: "continue strictly before the creation key `csk`".
pub(super) fn encode_cursor(csk: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{csk}"))
}

/// Decodes and validates a cursor: it must be one this adapter produced (a creation key).
pub(super) fn decode_cursor(c: &str) -> Result<String, StoreError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(raw).map_err(|_| StoreError::BadCursor)?;
    let csk = text
        .strip_prefix(CURSOR_PREFIX)
        .ok_or(StoreError::BadCursor)?;
    let (ts, id) = csk.split_once('#').ok_or(StoreError::BadCursor)?;
    if id.is_empty() || DateTime::parse_from_rfc3339(ts).is_err() || ts.len() != 30 {
        return Err(StoreError::BadCursor);
    }
    Ok(csk.to_string())
}

/// Where the next call of a query starts: `None` once DynamoDB reports no more pages.
pub(super) fn next_start(last_evaluated_key: Option<Item>) -> Option<Item> {
    last_evaluated_key.filter(|k| !k.is_empty())
}

/// Runs `query` page by page (at most [`MAX_PAGES`] calls) and keeps what `decode` returns
/// for each item, in index order. With a `limit`, each call asks only for what is missing and
/// at most `limit` values are kept; every item read is still decoded, so a corrupt one fails
/// the whole read.
pub(super) async fn read_pages<T>(
    query: QueryFluentBuilder,
    limit: Option<usize>,
    mut decode: impl FnMut(&Item) -> Result<Option<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    for _ in 0..MAX_PAGES {
        let mut req = query.clone().set_exclusive_start_key(start.take());
        if let Some(limit) = limit {
            if out.len() >= limit {
                break;
            }
            req = req.limit((limit - out.len()).clamp(1, MAX_CALL_LIMIT) as i32);
        }
        let res = req.send().await.map_err(sdk_err)?;
        for item in res.items.unwrap_or_default() {
            if let Some(v) = decode(&item)? {
                if limit.is_none_or(|l| out.len() < l) {
                    out.push(v);
                }
            }
        }
        match next_start(res.last_evaluated_key) {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let key = "2024-05-01T03:04:05.000000006Z#0190a1b2-0000-7000-8000-000000000001";
        assert_eq!(decode_cursor(&encode_cursor(key)).unwrap(), key);
        for bad in [
            "",
            "!!!",
            "dGVzdA", // "test"
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1|nohash"),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode("v1|2024-13-01T00:00:00.000000000Z#x"),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode("v1|2024-05-01T03:04:05.000000006Z#"),
        ] {
            assert_eq!(decode_cursor(bad), Err(StoreError::BadCursor), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_last_key_ends_the_query() {
        assert_eq!(next_start(None), None);
        assert_eq!(next_start(Some(Item::new())), None);
        let k = Item::from([("pk".to_string(), super::super::codec::s("x"))]);
        assert_eq!(next_start(Some(k.clone())), Some(k));
    }
}
