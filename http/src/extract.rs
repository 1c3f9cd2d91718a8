//! Extractors that turn every kind of bad input into a problem response naming the field.

use crate::problem::Problem;
use crate::HttpState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use phananh_core::model::Actor;
use serde::de::DeserializeOwned;

/// JSON body: content type, size, UTF-8, syntax, types and missing fields all give a 4xx
/// problem; the path of the offending field is named (`reporter.phone`, `location.lat`).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<HttpState> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &HttpState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let v = v.to_ascii_lowercase();
                v.starts_with("application/json") || v.contains("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Định dạng dữ liệu không được hỗ trợ",
                "Cần gửi dữ liệu JSON với Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Dữ liệu gửi lên quá lớn",
                    format!(
                        "Nội dung yêu cầu vượt quá {} KB; tệp đính kèm hãy tải lên qua /v1/uploads.",
                        crate::MAX_BODY_BYTES / 1024
                    ),
                )
            } else {
                Problem::bad_request("invalid_body", "body", "Không đọc được nội dung yêu cầu.")
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON bytes into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(Problem::bad_request(
            "invalid_utf8",
            "body",
            "Nội dung không phải UTF-8 hợp lệ.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() {
            // Missing fields are reported by serde at the parent: take the name from the text.
            inner
                .to_string()
                .split('`')
                .nth(1)
                .map(str::to_string)
                .unwrap_or_else(|| "body".into())
        } else {
            path
        };
        let syntax = matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        let field = if syntax { "body".to_string() } else { field };
        let (code, detail) = match syntax {
            true => (
                "malformed_json",
                format!(
                    "JSON không đúng cú pháp (dòng {}, cột {}).",
                    inner.line(),
                    inner.column()
                ),
            ),
            false => (
                "invalid_field",
                format!("Trường “{field}” không hợp lệ: {inner}"),
            ),
        };
        let status = if code == "malformed_json" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Problem::new(status, code, "Dữ liệu không hợp lệ", detail).with_field(field)
    })
}

/// The authenticated actor (401 problem when absent or invalid).
pub struct Authed(pub Actor);

impl FromRequestParts<HttpState> for Authed {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Problem> {
        match state.auth.authenticate_session(parts)? {
            Some((a, issued_at)) => {
                // Disabled, moved or revoked since the token was issued: refused at once.
                state.app.check_session(&a, issued_at).await?;
                Ok(Authed(a))
            }
            None => Err(Problem::unauthorized(
                "Cần đăng nhập (Authorization: Bearer <token>).",
            )),
        }
    }
}

/// Query string with problem responses naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<HttpState> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &HttpState) -> Result<Self, Problem> {
        let q = parts.uri.query().unwrap_or("");
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| {
                let text = e.body_text();
                let field = text
                    .split('`')
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or_else(|| "query".into());
                Problem::bad_request(
                    "invalid_query",
                    &field,
                    format!("Tham số truy vấn không hợp lệ: {text} ({q})"),
                )
            })
    }
}

/// A whole number in a JSON body, also when written with a fraction of zero (`3.0`): JSON
/// Schema's `integer`, which the OpenAPI document promises, admits it (found by the API fuzz).
/// Anything else (a fraction, a negative number, out of range) is refused like a wrong type.
pub(crate) fn whole_number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::{Deserialize, Error};
    let n = serde_json::Number::deserialize(d)?;
    let whole = match n.as_u64() {
        Some(u) => Some(u),
        None => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64),
    };
    whole.and_then(|u| T::try_from(u).ok()).ok_or_else(|| {
        D::Error::custom(format!(
            "invalid value: {n}, expected a whole number in range"
        ))
    })
}
