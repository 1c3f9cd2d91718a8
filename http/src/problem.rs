//! Errors as `application/problem+json` (RFC 9457) with a stable machine `code`, a Vietnamese
//! `title`/`detail`, and the offending `field` when there is one.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use phananh_core::DomainError;
use serde::Serialize;

/// A problem response (boxed: errors stay small on the happy path).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Problem(Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;
    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemBody {
        &mut self.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For out-of-scope reports (Đ.6.3): where the citizen should go instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    /// For an action on a stale version: the report's current version and state, so the
    /// client shows what changed and decides again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// Seconds to wait before retrying (429): sent as the `Retry-After` header too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// 429 with `Retry-After`: a client sent too many requests or attempts.
    pub fn too_many(retry_after_secs: u64) -> Self {
        Problem::from(DomainError::TooManyAttempts { retry_after_secs })
    }

    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem(Box::new(ProblemBody {
            type_: format!("https://phananh.invalid/problems/{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            field: None,
            guidance: None,
            current_version: None,
            current_state: None,
            retry_after: None,
        }))
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &str, field: &str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            code,
            "Yêu cầu không hợp lệ",
            detail,
        )
        .with_field(field)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ",
            detail,
        )
    }

    pub fn forbidden(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            code,
            "Không có quyền thực hiện",
            detail,
        )
    }

    pub fn not_found() -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Không tìm thấy",
            "Không tìm thấy tài nguyên được yêu cầu.",
        )
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        let (status, title) = match &e {
            DomainError::Forbidden { .. }
            | DomainError::OutOfUnitScope { .. }
            | DomainError::NotOwner => (StatusCode::FORBIDDEN, "Không có quyền thực hiện"),
            DomainError::InvalidState { .. } => {
                (StatusCode::CONFLICT, "Trạng thái phản ánh không cho phép")
            }
            DomainError::OutOfScope { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Nội dung không thuộc phạm vi tiếp nhận của hệ thống phản ánh hiện trường",
            ),
            DomainError::Invalid { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Dữ liệu không hợp lệ")
            }
            DomainError::NotFound => (StatusCode::NOT_FOUND, "Không tìm thấy"),
            DomainError::Conflict | DomainError::Stale { .. } => {
                (StatusCode::CONFLICT, "Xung đột cập nhật")
            }
            DomainError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Mã chống gửi trùng đã được dùng",
            ),
            DomainError::AlreadyExists { .. } => (StatusCode::CONFLICT, "Đã tồn tại"),
            DomainError::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, "Đăng nhập không thành công")
            }
            DomainError::Storage(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Hệ thống tạm thời gián đoạn",
            ),
            DomainError::QuotaExceeded { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "Vượt hạn mức tải tệp")
            }
            DomainError::StorageFull => {
                (StatusCode::INSUFFICIENT_STORAGE, "Máy chủ hết chỗ lưu tệp")
            }
            DomainError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "Quá nhiều yêu cầu")
            }
            DomainError::InvalidCode => (StatusCode::UNAUTHORIZED, "Mã xác thực không đúng"),
            DomainError::SessionEnded => (
                StatusCode::UNAUTHORIZED,
                "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ",
            ),
            DomainError::SecondFactorRequired => {
                (StatusCode::UNAUTHORIZED, "Cần mã xác thực hai lớp")
            }
        };
        if let DomainError::Storage(msg) = &e {
            tracing::error!(error = %msg, "storage error");
        }
        let mut p = Problem::new(status, e.code(), title, e.message_vi());
        match e {
            DomainError::Invalid { field, .. } | DomainError::AlreadyExists { field } => {
                p.field = Some(field)
            }
            DomainError::IdempotencyKeyReused => p.field = Some("Idempotency-Key".into()),
            DomainError::TooManyAttempts { retry_after_secs } => {
                p.retry_after = Some(retry_after_secs.max(1))
            }
            DomainError::OutOfScope { code, guidance } => {
                p.type_ = format!("https://phananh.invalid/problems/out_of_scope_{code}");
                p.code = format!("out_of_scope_{code}");
                p.guidance = Some(guidance);
            }
            DomainError::Stale {
                current_version,
                state,
            } => {
                p.field = Some("If-Match".into());
                p.current_version = Some(current_version);
                p.current_state = Some(state.as_str().to_string());
            }
            DomainError::QuotaExceeded { retry_after_secs } => {
                p.retry_after = Some(retry_after_secs)
            }
            _ => {}
        }
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, Problem>;
