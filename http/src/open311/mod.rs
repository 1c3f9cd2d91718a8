//! Open311 GeoReport v2 under `/open311/v2`, the interface civic-tech clients and aggregators
//! (FixMyStreet, SeeClickFix) speak, mapped onto the same core use cases as `/v1`:
//!
//! - `GET discovery.{fmt}`, `GET services.{fmt}`, `GET services/{code}.{fmt}` — from the
//!   city's categories (Vietnamese names, the deadline in the description) ([`services`]);
//! - `POST requests.{fmt}` — a registered partner app files a report for a citizen (`api_key`);
//!   `GET tokens/{token}.{fmt}`, `GET requests.{fmt}`, `GET requests/{id}.{fmt}` — only
//!   published, redacted reports ([`requests`]).
//!
//! Every answer is XML or JSON by the path's suffix; errors are the spec's `errors` document
//! with a Vietnamese description and the status 400, 403 or 404. Partner keys come from
//! `PHANANH_OPEN311_KEYS` (`name:key` pairs, comma separated), compared in constant time.
//! These routes are not part of the `/v1` OpenAPI contract (see docs/open311.md).

pub mod doc;
pub mod requests;
pub mod services;

use crate::HttpState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use doc::{Format, Open311Error};
use phananh_core::config::CategoryConfig;
use phananh_core::model::ClockKind;
use phananh_core::DomainError;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use subtle::ConstantTimeEq;

/// Where the interface is mounted.
pub const BASE: &str = "/open311/v2";
/// The environment variable holding the partner apps' keys: `name:key,name:key`.
pub const KEYS_ENV: &str = "PHANANH_OPEN311_KEYS";
/// The GeoReport v2 specification the endpoint implements.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this interface last changed (discovery's `changeset`).
pub const CHANGESET: &str = "2025-06-01T00:00:00Z";

/// The Open311 routes, merged into the one router beside `/v1` and the console.
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/open311/v2/{file}",
            get(top_level).post(requests::create_request),
        )
        .route("/open311/v2/services/{file}", get(services::definition))
        .route("/open311/v2/requests/{file}", get(requests::one_request))
        .route("/open311/v2/tokens/{file}", get(requests::token))
}

/// `discovery`, `services` and `requests` share the top level of the path.
async fn top_level(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((stem, format)) = Format::split(&file) else {
        return unknown_path();
    };
    let params = Params::parse(q.as_deref().unwrap_or(""));
    let result = match stem {
        "discovery" => Ok(services::discovery(&s, &headers)),
        "services" => services::list(&s, &params),
        "requests" => requests::list(&s, &params).await,
        _ => return unknown_path(),
    };
    answer(result, format)
}

/// A document (its XML root and item names) or the spec's error.
pub type Answer = Result<(doc::Node, &'static str, &'static str), Open311Error>;

pub(crate) fn answer(result: Answer, format: Format) -> Response {
    match result {
        Ok((node, root, item)) => node.render(StatusCode::OK, format, root, item),
        Err(e) => e.render(format),
    }
}

/// A path under `/open311/v2` that names nothing (XML, the spec's default format).
pub(crate) fn unknown_path() -> Response {
    Open311Error::not_found(
        "Không có tài nguyên Open311 này; đường dẫn cần đuôi định dạng .xml hoặc .json.",
    )
    .render(Format::Xml)
}

/// Form or query parameters in order, repeated names kept (`attribute[code]=value`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (`+` is a space); undecodable pairs
    /// are left out.
    pub fn parse(s: &str) -> Params {
        let pairs = s
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let k = urlencoding::decode(&k.replace('+', " ")).ok()?.into_owned();
                let v = urlencoding::decode(&v.replace('+', " ")).ok()?.into_owned();
                Some((k, v))
            })
            .collect();
        Params(pairs)
    }

    /// The first non-blank value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of `name`, comma lists split, blanks left out.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// This endpoint's one jurisdiction: the city's name folded to a slug
/// ("Thành phố Lai Châu" → `thanh-pho-lai-chau`).
pub fn jurisdiction_id(s: &HttpState) -> String {
    phananh_core::text::fold_for_search(&s.app.rules().config.city.name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// An empty `jurisdiction_id` is absent; another than ours is not found (404).
pub(crate) fn check_jurisdiction(s: &HttpState, params: &Params) -> Result<(), Open311Error> {
    match params.get("jurisdiction_id") {
        None => Ok(()),
        Some(j) if j == jurisdiction_id(s) => Ok(()),
        Some(j) => Err(Open311Error::not_found(format!(
            "Không có jurisdiction_id “{j}”; điểm truy cập này phục vụ “{}”.",
            jurisdiction_id(s)
        ))),
    }
}

/// A registered partner app.
#[derive(Debug, Clone)]
pub struct Partner {
    pub name: String,
    key_hash: [u8; 32],
}

/// The partners of `PHANANH_OPEN311_KEYS`, read once. Malformed pairs are ignored (and logged).
fn partners() -> &'static [Partner] {
    static PARTNERS: OnceLock<Vec<Partner>> = OnceLock::new();
    PARTNERS.get_or_init(|| parse_partners(&std::env::var(KEYS_ENV).unwrap_or_default()))
}

/// `name:key,name:key` → partners; a pair without a name or a key is left out.
pub fn parse_partners(s: &str) -> Vec<Partner> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let parsed = p
                .split_once(':')
                .map(|(n, k)| (n.trim(), k.trim()))
                .filter(|(n, k)| !n.is_empty() && !k.is_empty());
            if parsed.is_none() {
                tracing::warn!("{KEYS_ENV}: an entry is not name:key, ignored");
            }
            parsed
        })
        .map(|(name, key)| Partner {
            name: name.to_string(),
            key_hash: Sha256::digest(key.as_bytes()).into(),
        })
        .collect()
}

/// The partner whose key `key` is: every key is compared (as SHA-256 digests, in constant
/// time), so neither the match nor its length shows in the timing.
pub fn partner_for<'a>(partners: &'a [Partner], key: &str) -> Option<&'a Partner> {
    let given: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let mut found = None;
    for p in partners {
        if bool::from(p.key_hash.ct_eq(&given)) {
            found = Some(p);
        }
    }
    found
}

pub(crate) fn authorised_partner(params: &Params) -> Result<&'static Partner, Open311Error> {
    let key = params.get("api_key").ok_or_else(|| {
        Open311Error::forbidden("Thiếu api_key: chỉ ứng dụng đối tác đã đăng ký được gửi phản ánh.")
    })?;
    partner_for(partners(), key)
        .ok_or_else(|| Open311Error::forbidden("api_key không hợp lệ: không gửi được phản ánh."))
}

/// The category's deadline as a sentence (service description and `service_notice`).
pub fn deadline_notice(c: &CategoryConfig) -> Option<String> {
    let hours = c.deadline_hours?;
    let hours = if hours.fract() == 0.0 {
        format!("{hours:.0}")
    } else {
        format!("{hours}")
    };
    let clock = match c.clock {
        Some(ClockKind::WorkingHours) => "giờ làm việc",
        _ => "giờ (tính liên tục)",
    };
    Some(format!(
        "Thời hạn xử lý: {hours} {clock} kể từ khi được phân công cho đơn vị chủ trì."
    ))
}

/// A use case's refusal in the spec's terms.
pub(crate) fn domain_error(e: DomainError) -> Open311Error {
    match e {
        DomainError::NotFound => Open311Error::not_found("Không tìm thấy phản ánh."),
        DomainError::Invalid { field, message } => {
            Open311Error::bad_request(format!("{}: {message}", open311_field(&field)))
        }
        DomainError::OutOfScope { guidance, .. } => Open311Error::bad_request(guidance),
        DomainError::Forbidden { .. } | DomainError::NotOwner => {
            Open311Error::forbidden("Không được phép thực hiện thao tác này.")
        }
        DomainError::IdempotencyKeyReused => Open311Error::bad_request(
            "Idempotency-Key đã dùng cho một phản ánh khác; hãy dùng khóa mới.",
        ),
        other => {
            tracing::error!(error = %other, "open311: a use case failed");
            Open311Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống, vui lòng thử lại sau.",
            )
        }
    }
}

/// Our field names as the client sent them.
fn open311_field(field: &str) -> &str {
    match field {
        "category" => "service_code",
        "location" => "lat/long",
        "address" => "address_string",
        "reporter.name" => "first_name/last_name",
        "reporter.phone" => "phone",
        "reporter.email" => "email",
        "title" => "attribute[title]",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_keys_match_only_exactly() {
        let p = parse_partners("fms:secret-1, scf:secret-2,broken,:nokey");
        assert_eq!(p.len(), 2);
        assert_eq!(
            partner_for(&p, "secret-2").map(|p| p.name.as_str()),
            Some("scf")
        );
        assert!(partner_for(&p, "secret-").is_none());
        assert!(partner_for(&p, "").is_none());
    }

    #[test]
    fn params_keep_repeats_and_decode() {
        let p = Params::parse("a=1&attribute%5Btitle%5D=%C3%94+g%C3%A0&a=2,3&b=");
        assert_eq!(p.list("a"), ["1", "2", "3"]);
        assert_eq!(p.get("attribute[title]"), Some("Ô gà"));
        assert_eq!(p.get("b"), None);
    }
}
