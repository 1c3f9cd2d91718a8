//! Service requests: a partner app files one for a citizen (`POST requests`), and anyone
//! reads published ones (`GET requests`, `GET requests/{id}`, `GET tokens/{token}`).
//!
//! Out goes only what [`views::public_view`] lets out (published, redacted; never the
//! reporter), with `status` open/closed from the lifecycle, `status_notes` the published
//! answer, `agency_responsible` the lead unit and `expected_datetime` the deadline. In comes a
//! report through core's `submit`, the personal fields kept as protected reporter data.

use super::doc::{Format, Node, Open311Error};
use super::services::{ATTR_TITLE, ATTR_WARD};
use super::{
    answer, authorised_partner, check_jurisdiction, deadline_notice, domain_error, Answer, Params,
    Partner,
};
use crate::HttpState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use phananh_core::ids::IdempotencyKey;
use phananh_core::lifecycle::{NewReport, MAX_TEXT, MAX_TITLE};
use phananh_core::model::{Actor, GeoPoint, Report, ReportId, Reporter, Role, State as LState};
use phananh_core::ports::{Page, ReportQuery};
use phananh_core::views::{self, PublicReport};
use phananh_core::DomainError;
use sha2::{Digest, Sha256};

/// The window of `GET requests` without dates, and the widest one allowed.
pub const WINDOW_DAYS: i64 = 90;
/// The most requests one `GET requests` answers with.
pub const MAX_ROWS: usize = 1000;
/// Page size when reading the public feed.
const PAGE: u32 = 200;
/// At most this many feed pages are read for one answer (filters applied after reading).
const MAX_PAGES: usize = 50;
/// Longest title made from a description.
const TITLE_CHARS: usize = 100;

/// open/closed from our lifecycle: closed once handling has ended (resolved, published,
/// closed, rejected), open before.
pub fn status_of(state: LState) -> &'static str {
    if state.handling_ended() {
        "closed"
    } else {
        "open"
    }
}

fn datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One request as the public may see it; None when the report is not public.
fn request_node(s: &HttpState, r: &Report) -> Option<Node> {
    let v: PublicReport = views::public_view(r, s.app.rules())?;
    let cfg = &s.app.rules().config;
    let secret = r.flags.state_secret;
    let notice = cfg.category(&v.category).and_then(deadline_notice);
    Some(Node::Obj(vec![
        ("service_request_id", Node::text(v.id.0.clone())),
        ("status", Node::text(status_of(v.state))),
        ("status_notes", Node::opt(v.public_answer)),
        ("service_name", Node::text(v.category_name)),
        ("service_code", Node::text(v.category)),
        ("description", Node::opt(v.description)),
        ("agency_responsible", Node::opt(v.unit_name)),
        ("service_notice", Node::opt(notice)),
        ("requested_datetime", Node::text(datetime(v.created_at))),
        ("updated_datetime", Node::opt(v.published_at.map(datetime))),
        (
            "expected_datetime",
            Node::opt(r.due_at().filter(|_| !secret).map(datetime)),
        ),
        ("address", Node::Text(None)),
        ("address_id", Node::Text(None)),
        ("zipcode", Node::Text(None)),
        (
            "lat",
            v.location.map_or(Node::Text(None), |p| Node::Float(p.lat)),
        ),
        (
            "long",
            v.location.map_or(Node::Text(None), |p| Node::Float(p.lon)),
        ),
        ("media_url", Node::Text(None)),
    ]))
}

/// `GET requests/{id}.{fmt}`: the request if it is published, else not found.
pub async fn one_request(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, format)) = Format::split(&file) else {
        return super::unknown_path();
    };
    let params = Params::parse(q.as_deref().unwrap_or(""));
    let result = async {
        check_jurisdiction(&s, &params)?;
        let r = load(&s, id)
            .await?
            .ok_or_else(|| Open311Error::not_found(not_public(id)))?;
        let node = request_node(&s, &r).ok_or_else(|| Open311Error::not_found(not_public(id)))?;
        Ok((Node::List(vec![node]), "service_requests", "request"))
    }
    .await;
    answer(result, format)
}

fn not_public(id: &str) -> String {
    format!("Không có phản ánh công khai với service_request_id “{id}”.")
}

/// A report by id; None for an id that cannot be one or names nothing.
async fn load(s: &HttpState, id: &str) -> Result<Option<Report>, Open311Error> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Ok(None);
    }
    match s.app.load(&ReportId(id.to_string())).await {
        Ok(r) => Ok(Some(r)),
        Err(DomainError::NotFound) => Ok(None),
        Err(e) => Err(domain_error(e)),
    }
}

/// `GET tokens/{token}.{fmt}`: our token is the request id itself (answered at once).
pub async fn token(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((token, format)) = Format::split(&file) else {
        return super::unknown_path();
    };
    let params = Params::parse(q.as_deref().unwrap_or(""));
    let result = async {
        check_jurisdiction(&s, &params)?;
        let r = load(&s, token).await?.ok_or_else(|| {
            Open311Error::not_found(format!("Không có mã theo dõi (token) “{token}”."))
        })?;
        let node = Node::Obj(vec![
            ("service_request_id", Node::text(r.id.0.clone())),
            ("token", Node::text(token)),
        ]);
        Ok((Node::List(vec![node]), "service_requests", "request"))
    }
    .await;
    answer(result, format)
}

fn date_param(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, Open311Error> {
    params
        .get(name)
        .map(|d| {
            DateTime::parse_from_rfc3339(d)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Open311Error::bad_request(format!(
                        "{name} không đúng định dạng W3C (ví dụ 2025-01-01T00:00:00Z)."
                    ))
                })
        })
        .transpose()
}

/// `GET requests.{fmt}`: published requests, by ids or by the spec's filters.
pub(crate) async fn list(s: &HttpState, params: &Params) -> Answer {
    check_jurisdiction(s, params)?;
    let ids = params.list("service_request_id");
    let mut out = Vec::new();
    if !ids.is_empty() {
        // The ids override every other filter (the spec).
        for id in ids.iter().take(MAX_ROWS) {
            if let Some(node) = load(s, id).await?.and_then(|r| request_node(s, &r)) {
                out.push(node);
            }
        }
        return Ok((Node::List(out), "service_requests", "request"));
    }
    let cfg = &s.app.rules().config;
    let codes = params.list("service_code");
    if let Some(c) = codes.iter().find(|c| cfg.category(c).is_none()) {
        return Err(Open311Error::bad_request(format!(
            "Không có dịch vụ với service_code “{c}”."
        )));
    }
    let statuses = params.list("status");
    if let Some(st) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
        return Err(Open311Error::bad_request(format!(
            "status “{st}” không hợp lệ: chỉ open hoặc closed."
        )));
    }
    let window = Duration::days(WINDOW_DAYS);
    let (from, to) = match (
        date_param(params, "start_date")?,
        date_param(params, "end_date")?,
    ) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f + window),
        (None, Some(t)) => (t - window, t),
        (None, None) => {
            let now = s.app.now();
            (now - window, now)
        }
    };
    if to < from {
        return Err(Open311Error::bad_request("end_date phải sau start_date."));
    }
    if to - from > window {
        return Err(Open311Error::bad_request(format!(
            "Khoảng start_date–end_date không được vượt quá {WINDOW_DAYS} ngày."
        )));
    }
    let mut q = ReportQuery {
        created_from: Some(from),
        // The store's upper bound is exclusive; end_date is the latest instant included.
        created_to: Some(to + Duration::seconds(1)),
        category: (codes.len() == 1).then(|| codes[0].clone()),
        limit: PAGE,
        ..ReportQuery::default()
    };
    for _ in 0..MAX_PAGES {
        let Page { items, next_cursor } =
            s.app.public_feed(q.clone()).await.map_err(domain_error)?;
        for r in &items {
            let code_ok = codes.is_empty() || codes.contains(&r.category);
            let status_ok =
                statuses.is_empty() || statuses.iter().any(|st| st == status_of(r.state));
            if !(code_ok && status_ok) {
                continue;
            }
            if let Some(node) = request_node(s, r) {
                out.push(node);
                if out.len() == MAX_ROWS {
                    return Ok((Node::List(out), "service_requests", "request"));
                }
            }
        }
        match next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    Ok((Node::List(out), "service_requests", "request"))
}

/// `POST requests.{fmt}`, form-encoded, by a registered partner app.
pub async fn create_request(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((stem, format)) = Format::split(&file) else {
        return super::unknown_path();
    };
    if stem != "requests" {
        return super::unknown_path();
    }
    let params = match std::str::from_utf8(&body) {
        Ok(text) => Params::parse(text),
        Err(_) => {
            return Open311Error::bad_request("Nội dung yêu cầu không phải UTF-8.").render(format)
        }
    };
    answer(create(&s, &params, &headers).await, format)
}

async fn create(s: &HttpState, params: &Params, headers: &HeaderMap) -> Answer {
    let partner = authorised_partner(params)?;
    check_jurisdiction(s, params)?;
    let cfg = &s.app.rules().config;
    let code = params
        .get("service_code")
        .ok_or_else(|| Open311Error::bad_request("Thiếu service_code."))?;
    let category = cfg.category(code).ok_or_else(|| {
        Open311Error::bad_request(format!("Không có dịch vụ với service_code “{code}”."))
    })?;
    let location = location(params)?;
    let address = params.get("address_string").map(str::to_string);
    if location.is_none() && address.is_none() {
        return Err(Open311Error::bad_request(
            "Cần vị trí: lat và long, hoặc address_string.",
        ));
    }
    let mut title = None;
    let mut ward = None;
    for (k, v) in params.pairs() {
        let Some(attr) = k
            .strip_prefix("attribute[")
            .and_then(|a| a.strip_suffix(']'))
        else {
            continue;
        };
        let v = v.trim();
        match attr {
            ATTR_TITLE => title = Some(v.to_string()).filter(|t| !t.is_empty()),
            ATTR_WARD if v.is_empty() => {}
            ATTR_WARD => {
                if cfg.ward(v).is_none() {
                    return Err(Open311Error::bad_request(format!(
                        "attribute[ward]: không có phường, xã “{v}”."
                    )));
                }
                ward = Some(v.to_string());
            }
            other => {
                return Err(Open311Error::bad_request(format!(
                    "Thuộc tính “{other}” không có trong định nghĩa dịch vụ."
                )))
            }
        }
    }
    let mut description = params
        .get("description")
        .ok_or_else(|| Open311Error::bad_request("Thiếu description: hãy mô tả sự việc."))?
        .to_string();
    if let Some(url) = params.get("media_url") {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2000
            && !url.chars().any(char::is_whitespace);
        if !ok {
            return Err(Open311Error::bad_request(
                "media_url phải là một địa chỉ http(s) hợp lệ.",
            ));
        }
        description.push_str(&format!("\n\nẢnh/tệp đính kèm: {url}"));
    }
    if description.chars().count() > MAX_TEXT {
        return Err(Open311Error::bad_request(format!(
            "description: dài quá {MAX_TEXT} ký tự."
        )));
    }
    let title = title.unwrap_or_else(|| title_from(&description));
    if title.chars().count() > MAX_TITLE {
        return Err(Open311Error::bad_request(format!(
            "attribute[title]: dài quá {MAX_TITLE} ký tự."
        )));
    }
    let name = [params.get("first_name"), params.get("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let input = NewReport {
        category: category.code.clone(),
        title,
        description,
        location,
        address,
        reporter_ward: ward,
        attachments: Vec::new(),
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some(name).filter(|n| !n.is_empty()),
            phone: params.get("phone").map(str::to_string),
            email: params.get("email").map(str::to_string),
        }),
        camera_id: None,
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| DomainError::invalid(IdempotencyKey::HEADER, "chỉ gồm ký tự ASCII"))
                .and_then(IdempotencyKey::parse)
                .map_err(domain_error)?,
        ),
    };
    let actor = actor_for(partner, params);
    let (report, _) = s
        .app
        .submit(&actor, input, &[], key.as_ref())
        .await
        .map_err(domain_error)?;
    tracing::info!(report_id = %report.id, partner = %partner.name, "open311: request filed");
    let node = Node::Obj(vec![
        ("service_request_id", Node::text(report.id.0.clone())),
        ("service_notice", Node::opt(deadline_notice(category))),
        ("account_id", Node::opt(params.get("account_id"))),
    ]);
    Ok((Node::List(vec![node]), "service_requests", "request"))
}

fn location(params: &Params) -> Result<Option<GeoPoint>, Open311Error> {
    GeoPoint::parse_pair(("lat", params.get("lat")), ("long", params.get("long")))
        .map_err(|e| Open311Error::bad_request(e.message_vi()))
}

/// A title from the description's first line, cut at a word near [`TITLE_CHARS`].
fn title_from(description: &str) -> String {
    let line = description
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= TITLE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > TITLE_CHARS / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// The citizen a partner files for: the partner plus a digest of the first of `device_id`,
/// `account_id`, `email` it sent (so no personal data is in the id), else the partner alone.
pub fn actor_for(partner: &Partner, params: &Params) -> Actor {
    let who = ["device_id", "account_id", "email"]
        .into_iter()
        .find_map(|f| params.get(f).map(|v| format!("{f}:{v}")));
    let id = match who {
        Some(w) => {
            let digest = Sha256::digest(format!("{}\n{w}", partner.name).as_bytes());
            format!("open311:{}:{}", partner.name, &hex::encode(digest)[..24])
        }
        None => format!("open311:{}", partner.name),
    };
    Actor::new(id, Role::Citizen, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title_from("\n Ổ gà lớn \nchi tiết"), "Ổ gà lớn");
        let long = "từ ".repeat(60);
        let t = title_from(&long);
        assert!(t.chars().count() <= TITLE_CHARS + 1 && t.ends_with('…'));
    }

    #[test]
    fn open_until_handling_ends() {
        assert_eq!(status_of(LState::InProgress), "open");
        assert_eq!(status_of(LState::Published), "closed");
        assert_eq!(status_of(LState::Closed), "closed");
    }
}
