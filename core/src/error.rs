//! Domain errors: each has a stable machine code and a Vietnamese message for the user.

use crate::model::{Action, Role, State};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// The actor's role may not perform this action.
    #[error("role {role:?} may not {action:?}")]
    Forbidden { role: Role, action: Action },
    /// The actor's unit is not in scope for this report.
    #[error("unit {unit:?} is out of scope for this report")]
    OutOfUnitScope { unit: Option<String> },
    /// A citizen acting on a report that is not theirs.
    #[error("not the reporter of this report")]
    NotOwner,
    /// The action is not allowed in the report's current state.
    #[error("action {action:?} not allowed in state {state:?}")]
    InvalidState { state: State, action: Action },
    /// Đ.6.3: complaints, denunciations and legal-advice requests are not received.
    #[error("out of scope: {code}")]
    OutOfScope { code: String, guidance: String },
    /// Input that breaks a rule (empty reason, bad rating, unknown unit...). `field` names it.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("report not found")]
    NotFound,
    /// The record changed concurrently too many times.
    #[error("concurrent modification")]
    Conflict,
    /// The client acted on a version of the report that is no longer the current one (someone
    /// else acted first); it must look again before deciding.
    #[error("stale version: the report is at version {current_version}")]
    Stale { current_version: u64, state: State },
    /// The idempotency key was used before with a different request body.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// A record with this unique value exists already (a taken username).
    #[error("{field} already exists")]
    AlreadyExists { field: String },
    /// Sign-in refused: unknown user, wrong password or disabled account (never which).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("storage: {0}")]
    Storage(String),
    /// The per-person daily upload quota is used up until the local day ends.
    #[error("upload quota exceeded, retry after {retry_after_secs}s")]
    QuotaExceeded { retry_after_secs: u64 },
    /// The server is short of storage and refuses new uploads for now.
    #[error("storage full")]
    StorageFull,
    /// Too many attempts or requests: try again after `retry_after_secs` (sign-in guards,
    /// rate limits).
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A one-time sign-in code that is wrong, used, expired or never sent (never which).
    #[error("invalid one-time code")]
    InvalidCode,
    /// A token whose account was disabled, changed role or unit, or whose sessions were
    /// revoked after it was issued.
    #[error("session ended")]
    SessionEnded,
    /// The password was right but the account signs in with a second factor (TOTP): the
    /// 6-digit code of the authenticator app is needed too.
    #[error("second factor required")]
    SecondFactorRequired,
}

impl DomainError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Stable machine code (part of the API contract).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Forbidden { .. } => "forbidden_role",
            DomainError::OutOfUnitScope { .. } => "forbidden_unit",
            DomainError::NotOwner => "forbidden_not_owner",
            DomainError::InvalidState { .. } => "invalid_state",
            DomainError::OutOfScope { .. } => "out_of_scope",
            DomainError::Invalid { .. } => "invalid_input",
            DomainError::NotFound => "not_found",
            DomainError::Conflict => "conflict",
            DomainError::Stale { .. } => "stale_version",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
            DomainError::AlreadyExists { .. } => "already_exists",
            DomainError::InvalidCredentials => "invalid_credentials",
            DomainError::Storage(_) => "storage_error",
            DomainError::QuotaExceeded { .. } => "upload_quota_exceeded",
            DomainError::StorageFull => "storage_full",
            DomainError::TooManyAttempts { .. } => "too_many_requests",
            DomainError::InvalidCode => "invalid_otp",
            DomainError::SessionEnded => "session_ended",
            DomainError::SecondFactorRequired => "second_factor_required",
        }
    }

    /// Vietnamese message for the user.
    pub fn message_vi(&self) -> String {
        match self {
            DomainError::Forbidden { action, .. } => format!(
                "Vai trò của bạn không được phép thực hiện thao tác “{}”.",
                action.as_str()
            ),
            DomainError::OutOfUnitScope { .. } => {
                "Phản ánh này không thuộc phạm vi đơn vị của bạn.".to_string()
            }
            DomainError::NotOwner => "Bạn chỉ được thao tác trên phản ánh của chính mình.".into(),
            // Đ.7.5: the one state-dependent refusal worded by what is missing.
            DomainError::InvalidState {
                action: Action::DecideDeferral,
                ..
            } => "Phản ánh không có đề nghị gia hạn nào đang chờ quyết định.".into(),
            DomainError::InvalidState { state, action } => format!(
                "Không thể thực hiện thao tác “{}” khi phản ánh đang ở trạng thái “{}”.",
                action.as_str(),
                state.as_str()
            ),
            DomainError::OutOfScope { guidance, .. } => guidance.clone(),
            DomainError::Invalid { field, message } => {
                format!("Dữ liệu không hợp lệ ở trường “{field}”: {message}")
            }
            DomainError::NotFound => "Không tìm thấy phản ánh.".into(),
            DomainError::Conflict => {
                "Phản ánh vừa được người khác cập nhật, vui lòng thử lại.".into()
            }
            DomainError::Stale {
                current_version,
                state,
            } => format!(
                "Phản ánh vừa được người khác cập nhật (phiên bản {current_version}, trạng thái \
                 “{}”). Hãy xem lại trạng thái hiện tại trước khi thao tác.",
                state.as_str()
            ),
            DomainError::IdempotencyKeyReused => {
                "Mã chống gửi trùng (Idempotency-Key) này đã được \
                dùng cho một phản ánh khác nội dung. Hãy dùng mã mới cho phản ánh mới."
                    .into()
            }
            DomainError::AlreadyExists { .. } => "Tên đăng nhập đã được sử dụng.".into(),
            DomainError::InvalidCredentials => {
                "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa.".into()
            }
            DomainError::Storage(_) => "Lỗi lưu trữ, vui lòng thử lại sau.".into(),
            DomainError::QuotaExceeded { .. } => {
                "Bạn đã tải lên quá số tệp hoặc dung lượng cho phép trong ngày. \
                Vui lòng thử lại vào ngày mai."
                    .into()
            }
            DomainError::StorageFull => {
                "Máy chủ sắp hết dung lượng lưu trữ nên tạm thời không nhận tệp tải lên. \
                Vui lòng thử lại sau."
                    .into()
            }
            DomainError::TooManyAttempts { retry_after_secs } => format!(
                "Quá nhiều lần thử hoặc yêu cầu. Vui lòng thử lại sau {retry_after_secs} giây."
            ),
            DomainError::InvalidCode => "Mã xác thực không đúng hoặc đã hết hạn.".into(),
            DomainError::SessionEnded => {
                "Phiên đăng nhập đã kết thúc (tài khoản bị khóa, đổi vai trò/đơn vị hoặc phiên bị thu hồi). Vui lòng đăng nhập lại."
                    .into()
            }
            DomainError::SecondFactorRequired => {
                "Tài khoản này dùng xác thực hai lớp: hãy nhập mã 6 chữ số trong ứng dụng xác thực."
                    .into()
            }
        }
    }
}
