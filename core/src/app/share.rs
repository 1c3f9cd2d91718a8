//! Đ.4.4 sharing with a third party, as use cases: request, a leader's decision, and the
//! release of a watermarked export. Every step is a timeline entry (`lifecycle::share`).

use super::App;
use crate::error::DomainError;
use crate::lifecycle::share::{share_state, watermark};
use crate::lifecycle::Command;
use crate::model::{Actor, Report, ReportId, Reporter};
use serde::Serialize;
use tracing::info;

/// What is handed to the third party: the report's content, the reporter's identity only
/// when the approved request included it, and the request's watermark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedExport {
    /// `CHIA-SE/<report id>/<request seq>`: on every copy, so a leak names its request.
    pub watermark: String,
    pub report_id: ReportId,
    pub request: u32,
    pub recipient: String,
    pub reason: String,
    pub approved_by: String,
    pub category: String,
    pub title: String,
    pub description: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
    pub notice: String,
}

impl App {
    /// Đ.4.4: records a request to share `id` with `recipient` for `reason`. The request's id
    /// is the seq of its timeline entry (returned).
    pub async fn request_share(
        &self,
        actor: &Actor,
        id: &ReportId,
        recipient: String,
        reason: String,
        personal_data: bool,
    ) -> Result<(Report, u32), DomainError> {
        let r = self
            .act(
                id,
                actor,
                Command::RequestShare {
                    recipient,
                    reason,
                    personal_data,
                },
            )
            .await?;
        let seq = r.timeline.len() as u32 - 1;
        info!(report_id = %id, request = seq, by = %actor.id, "share requested (Đ.4.4)");
        Ok((r, seq))
    }

    /// Đ.4.4: a leader approves or refuses request `request` of `id`.
    pub async fn decide_share(
        &self,
        actor: &Actor,
        id: &ReportId,
        request: u32,
        approve: bool,
        note: Option<String>,
    ) -> Result<Report, DomainError> {
        let r = self
            .act(
                id,
                actor,
                Command::DecideShare {
                    request,
                    approve,
                    note,
                },
            )
            .await?;
        info!(report_id = %id, request, approve, by = %actor.id, "share decided (Đ.4.4)");
        Ok(r)
    }

    /// Đ.4.4: releases approved request `request` of `id` (recorded) and answers the export.
    pub async fn release_share(
        &self,
        actor: &Actor,
        id: &ReportId,
        request: u32,
    ) -> Result<SharedExport, DomainError> {
        let r = self
            .act(id, actor, Command::ReleaseShare { request })
            .await?;
        let s = share_state(&r, request)?;
        info!(report_id = %id, request, by = %actor.id, "share released (Đ.4.4)");
        let mark = watermark(&r.id, request);
        Ok(SharedExport {
            notice: format!(
                "Tài liệu cung cấp cho {} theo yêu cầu {mark}, được Lãnh đạo UBND đồng ý (Điều 4.4). Không chia sẻ tiếp.",
                s.recipient
            ),
            watermark: mark,
            report_id: r.id.clone(),
            request,
            recipient: s.recipient,
            reason: s.reason,
            approved_by: s.decided_by.unwrap_or_default(),
            category: r.category.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            state: r.state.as_str().to_string(),
            address: r.address.clone(),
            reporter: if s.personal_data {
                r.reporter.clone()
            } else {
                None
            },
        })
    }
}
