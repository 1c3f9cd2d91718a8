//! The delivery log for the office and the IOC (Đ.7.2): who was told what about a report, the
//! latest notifications (the SMS that go out, the dead letters), and the re-send of one that
//! could not be delivered. Core checks the role and masks the reporter's address.

use super::{ok, report_id, require_staff};
use crate::extract::{Authed, Query};
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::Response;
use phananh_core::delivery::DeliveryStatus;
use phananh_core::ports::Channel;
use serde::Deserialize;
use serde_json::json;

pub async fn report_deliveries(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let items = s.app.deliveries_for(&actor, &report_id(id)?).await?;
    Ok(ok(json!({ "items": items })))
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryParams {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn deliveries(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let channel = match p.channel.as_deref() {
        None | Some("") => None,
        Some("sms") => Some(Channel::Sms),
        Some("email") => Some(Channel::Email),
        Some(_) => {
            return Err(Problem::bad_request(
                "invalid_channel",
                "channel",
                "Kênh phải là sms hoặc email.",
            ))
        }
    };
    let status = match p.status.as_deref() {
        None | Some("") => None,
        Some(st) => Some(DeliveryStatus::parse(st).ok_or_else(|| {
            Problem::bad_request(
                "invalid_status",
                "status",
                "Trạng thái phải là recorded, pending, sent, retrying hoặc dead.",
            )
        })?),
    };
    let items = s
        .app
        .recent_deliveries(&actor, channel, status, p.limit.unwrap_or(100))
        .await?;
    Ok(ok(json!({ "items": items })))
}

pub async fn resend(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    Ok(ok(s.app.resend_delivery(&actor, &id).await?))
}
