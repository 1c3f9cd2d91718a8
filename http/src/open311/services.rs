//! Discovery, the service list and service definitions: the city's categories as Open311
//! services (Vietnamese names; the deadline in the description), with two optional attributes
//! that map onto a report: a short `title` and the `ward` the reporter names.

use super::doc::{Format, Node};
use super::{answer, check_jurisdiction, deadline_notice, jurisdiction_id, Answer, Params};
use crate::HttpState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use phananh_core::config::CategoryConfig;

/// The attribute codes of every service definition.
pub const ATTR_TITLE: &str = "title";
pub const ATTR_WARD: &str = "ward";

pub(crate) fn discovery(s: &HttpState, headers: &HeaderMap) -> (Node, &'static str, &'static str) {
    let city = &s.app.rules().config.city.name;
    let node = Node::Obj(vec![
        ("changeset", Node::text(super::CHANGESET)),
        (
            "contact",
            Node::text(format!(
                "Trung tâm Giám sát, điều hành đô thị thông minh (IOC) — {city}. Jurisdiction: {}",
                jurisdiction_id(s)
            )),
        ),
        (
            "key_service",
            Node::text(
                "Ứng dụng đối tác liên hệ Trung tâm IOC để được cấp api_key (chỉ cần khi gửi phản ánh).",
            ),
        ),
        (
            "endpoints",
            Node::List(vec![Node::Obj(vec![
                ("specification", Node::text(super::SPECIFICATION)),
                ("url", Node::text(base_url(headers))),
                ("changeset", Node::text(super::CHANGESET)),
                ("type", Node::text("production")),
                (
                    "formats",
                    Node::List(vec![
                        Node::text("text/xml"),
                        Node::text("application/json"),
                    ]),
                ),
            ])]),
        ),
    ]);
    (node, "discovery", "discovery")
}

/// The endpoint's URL as the client reached it (`X-Forwarded-Proto` behind a proxy).
fn base_url(headers: &HeaderMap) -> String {
    let value = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host = value(header::HOST.as_str()).unwrap_or("localhost");
    let proto = match value("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}{}", super::BASE)
}

fn description(c: &CategoryConfig) -> String {
    match deadline_notice(c) {
        Some(d) => format!("{} {d}", c.description.trim_end()),
        None => c.description.clone(),
    }
}

pub(crate) fn list(s: &HttpState, params: &Params) -> Answer {
    check_jurisdiction(s, params)?;
    let cfg = &s.app.rules().config;
    let services = cfg
        .categories
        .iter()
        .map(|c| {
            let keywords = cfg
                .screening
                .category_keywords
                .get(&c.code)
                .map(|k| k.join(", "))
                .unwrap_or_default();
            Node::Obj(vec![
                ("service_code", Node::text(c.code.clone())),
                ("service_name", Node::text(c.name.clone())),
                ("description", Node::text(description(c))),
                ("metadata", Node::Bool(true)),
                ("type", Node::text("realtime")),
                ("keywords", Node::text(keywords)),
                ("group", Node::text(c.article.clone())),
            ])
        })
        .collect();
    Ok((Node::List(services), "services", "service"))
}

pub async fn definition(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, format)) = Format::split(&file) else {
        return super::unknown_path();
    };
    let params = Params::parse(q.as_deref().unwrap_or(""));
    answer(definition_of(&s, code, &params), format)
}

fn definition_of(s: &HttpState, code: &str, params: &Params) -> Answer {
    check_jurisdiction(s, params)?;
    let cfg = &s.app.rules().config;
    if cfg.category(code).is_none() {
        return Err(super::doc::Open311Error::not_found(format!(
            "Không có dịch vụ (lĩnh vực) với service_code “{code}”."
        )));
    }
    let wards = cfg
        .wards
        .iter()
        .map(|w| {
            Node::Obj(vec![
                ("key", Node::text(w.id.clone())),
                ("name", Node::text(w.name.clone())),
            ])
        })
        .collect();
    let node = Node::Obj(vec![
        ("service_code", Node::text(code)),
        (
            "attributes",
            Node::List(vec![
                attribute(
                    ATTR_TITLE,
                    "string",
                    1,
                    "Tiêu đề ngắn của phản ánh (bỏ trống: lấy dòng đầu của mô tả).",
                    Vec::new(),
                ),
                attribute(
                    ATTR_WARD,
                    "singlevaluelist",
                    2,
                    "Phường, xã nơi xảy ra sự việc (bỏ trống: xác định theo vị trí).",
                    wards,
                ),
            ]),
        ),
    ]);
    Ok((node, "service_definition", "service_definition"))
}

fn attribute(code: &str, datatype: &str, order: i64, description: &str, values: Vec<Node>) -> Node {
    Node::Obj(vec![
        ("variable", Node::Bool(true)),
        ("code", Node::text(code)),
        ("datatype", Node::text(datatype)),
        ("required", Node::Bool(false)),
        ("datatype_description", Node::Text(None)),
        ("order", Node::Int(order)),
        ("description", Node::text(description)),
        ("values", Node::List(values)),
    ])
}
