//! Đ.4.4: a report's personal data and content are shared with a third party only with the
//! consent of the city People's Committee's leadership. A share is three timeline entries: the
//! request (who asks, for whom, why, whether the reporter's identity is included), a leader's
//! decision, and the release; the released export carries the request's watermark. This
//! module reads a request's state back from the timeline (the only record).

use crate::error::DomainError;
use crate::model::{Action, Report, ReportId};

/// Where a share request stands, from the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareState {
    pub request: u32,
    pub recipient: String,
    pub reason: String,
    pub requested_by: String,
    pub personal_data: bool,
    /// None: not decided yet; Some(true): approved; Some(false): refused.
    pub approved: Option<bool>,
    pub decided_by: Option<String>,
    pub released: bool,
}

impl ShareState {
    /// Refused unless no leader has decided yet.
    pub fn undecided(&self) -> Result<(), DomainError> {
        match self.approved {
            None => Ok(()),
            Some(_) => Err(DomainError::invalid(
                "request",
                "yêu cầu chia sẻ này đã được lãnh đạo quyết định",
            )),
        }
    }

    /// Refused unless a leader approved it and it was not released yet.
    pub fn releasable(&self) -> Result<(), DomainError> {
        match (self.approved, self.released) {
            (Some(true), false) => Ok(()),
            (Some(true), true) => Err(DomainError::invalid(
                "request",
                "yêu cầu chia sẻ này đã được cung cấp",
            )),
            (Some(false), _) => Err(DomainError::invalid(
                "request",
                "lãnh đạo đã từ chối yêu cầu chia sẻ này",
            )),
            (None, _) => Err(DomainError::invalid(
                "request",
                "chưa có sự đồng ý của Lãnh đạo UBND (Điều 4.4)",
            )),
        }
    }
}

/// The watermark of the export released for the request at `request`.
pub fn watermark(id: &ReportId, request: u32) -> String {
    format!("CHIA-SE/{}/{request}", id.0)
}

/// The state of the share request at timeline `request` of `r`.
pub fn share_state(r: &Report, request: u32) -> Result<ShareState, DomainError> {
    let not_a_request = || {
        DomainError::invalid(
            "request",
            "không có yêu cầu chia sẻ nào ở vị trí này của nhật ký",
        )
    };
    let e = r
        .timeline
        .get(request as usize)
        .filter(|e| e.action == Action::RequestShare)
        .ok_or_else(not_a_request)?;
    let mut s = ShareState {
        request,
        recipient: e.data["recipient"].as_str().unwrap_or_default().to_string(),
        reason: e.note.clone().unwrap_or_default(),
        requested_by: e.actor_id.clone(),
        personal_data: e.data["personal_data"].as_bool().unwrap_or(false),
        approved: None,
        decided_by: None,
        released: false,
    };
    for later in r.timeline.iter().skip(request as usize + 1) {
        if later.data["request"].as_u64() != Some(u64::from(request)) {
            continue;
        }
        match later.action {
            Action::DecideShare if s.approved.is_none() => {
                s.approved = later.data["approved"].as_bool();
                s.decided_by = Some(later.actor_id.clone());
            }
            Action::ReleaseShare => s.released = true,
            _ => {}
        }
    }
    Ok(s)
}
