//! Putting a report in: asking for an upload slot for a photo or video, then submitting the
//! report (a citizen from the app, an IOC operator from a camera, Đ.7.1), safely retried with
//! an `Idempotency-Key`.

use super::staff_view;
use crate::extract::{Authed, Json};
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use phananh_core::ids::IdempotencyKey;
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{GeoPoint, Reporter, Role};
use phananh_core::views;
use phananh_core::DomainError;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    content_type: String,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    size: u64,
}

pub async fn request_upload(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Json(b): Json<UploadBody>,
) -> ApiResult<Response> {
    let t = s
        .app
        .request_upload(&actor, &b.content_type, b.size)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    category: String,
    title: String,
    description: String,
    #[serde(default)]
    location: Option<GeoPoint>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    ward: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    reporter: Option<ReporterBody>,
    #[serde(default)]
    camera_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<IdempotencyKey>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let refused = |detail: String| {
        Problem::bad_request("invalid_idempotency_key", IdempotencyKey::HEADER, detail)
    };
    let s = v
        .to_str()
        .map_err(|_| refused("Idempotency-Key chỉ gồm ký tự ASCII.".into()))?;
    IdempotencyKey::parse(s)
        .map(Some)
        .map_err(|e| refused(e.message_vi()))
}

/// Citizens submit from the app; IOC operators create from a camera (Đ.7.1).
pub async fn submit_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    headers: HeaderMap,
    Json(b): Json<SubmitBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    // A role rule, so 403 (the API fuzz found it answered 400, outside the document).
    if actor.role == Role::Citizen && b.camera_id.is_some() {
        return Err(Problem::forbidden(
            "forbidden_role",
            "Chỉ cán bộ IOC được tạo phản ánh từ camera.",
        )
        .with_field("camera_id"));
    }
    let input = NewReport {
        category: b.category,
        title: b.title,
        description: b.description,
        location: b.location,
        address: b.address,
        reporter_ward: b.ward,
        attachments: Vec::new(),
        reporter: b.reporter.map(|r| Reporter {
            citizen_id: String::new(),
            name: r.name,
            phone: r.phone,
            email: r.email,
        }),
        camera_id: b.camera_id,
    };
    let (report, created) = s
        .app
        .submit(&actor, input, &b.attachments, key.as_ref())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = if actor.role == Role::Citizen {
        serde_json::to_value(views::reporter_view(&report, s.app.rules()))
    } else {
        serde_json::to_value(staff_view(&s.app, &report, &actor))
    }
    .map_err(|e| Problem::from(DomainError::Storage(e.to_string())))?;
    Ok((
        status,
        [(header::LOCATION, format!("/v1/me/reports/{}", report.id))],
        axum::Json(body),
    )
        .into_response())
}
