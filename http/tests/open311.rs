//! Open311 GeoReport v2 under /open311/v2, against the spec, in both formats: discovery,
//! services, service definitions, POST requests (api_key, location, service_code), tokens,
//! GET requests with its filters and defaults, GET requests/{id}; only published, redacted
//! data ever goes out.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Duration;
use common::{text, world, World, EMAIL, NAME, PHONE};
use phananh_core::model::{Report, ReportId, Role};
use phananh_testkit::fixtures::{self, at, t0};
use serde_json::Value;
use std::sync::Once;

const KEY: &str = "fms-test-key-0123456789";

/// The partner keys are read once per process, from the environment.
fn keys() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var(
            "PHANANH_OPEN311_KEYS",
            format!("fixmystreet:{KEY},other:another-key"),
        )
    });
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        assert!(
            self.content_type.starts_with("application/json"),
            "{}",
            self.content_type
        );
        serde_json::from_str(&self.body).expect("JSON")
    }

    fn xml(&self) -> &str {
        assert!(
            self.content_type.starts_with("text/xml"),
            "{}",
            self.content_type
        );
        assert!(
            self.body
                .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            "{}",
            self.body
        );
        &self.body
    }

    /// The spec's error document, in either format: its code and description.
    fn error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        if self.content_type.starts_with("application/json") {
            let v = self.json();
            assert_eq!(v[0]["code"], status.as_u16(), "{v}");
            v[0]["description"]
                .as_str()
                .expect("a description")
                .to_string()
        } else {
            let x = self.xml();
            assert!(
                x.contains(&format!(
                    "<errors><error><code>{}</code><description>",
                    status.as_u16()
                )),
                "{x}"
            );
            x.to_string()
        }
    }
}

async fn call(w: &World, req: Request<Body>) -> Answer {
    keys();
    let res = w.send(req).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Answer {
        status,
        content_type,
        body: text(res).await,
    }
}

async fn get(w: &World, uri: &str) -> Answer {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .body(Body::empty())
        .expect("a request");
    call(w, req).await
}

async fn post(w: &World, uri: &str, fields: &[(&str, &str)]) -> Answer {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("a request");
    call(w, req).await
}

/// A valid request from the partner, with personal data.
fn filing<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("api_key", KEY),
        ("jurisdiction_id", ""),
        ("service_code", "environment"),
        ("lat", "22.3964"),
        ("long", "103.4582"),
        (
            "description",
            "Rác thải đổ trộm bên suối\nĐống rác lớn, bốc mùi.",
        ),
        ("first_name", "Nguyễn"),
        ("last_name", "Văn An"),
        ("phone", PHONE),
        ("email", EMAIL),
        ("device_id", "device-abc"),
        ("attribute[ward]", "tan_phong"),
    ];
    f.extend_from_slice(extra);
    f
}

/// A published report: assigned to the environment office (due at +4h), answered.
fn published(id: &str, created_min: i64) -> Report {
    let r = fixtures::report(id, at(created_min));
    let r = fixtures::assigned(r, "phong_tnmt", &[], at(created_min + 240));
    let r = fixtures::in_state(r, phananh_core::model::State::Resolved);
    fixtures::published(r, at(created_min + 300))
}

fn assert_no_personal_data(body: &str) {
    for personal in [NAME, PHONE, EMAIL, "Văn An", "0912345678", "citizen-1"] {
        assert!(
            !body.contains(personal),
            "personal data {personal} in {body}"
        );
    }
}

#[tokio::test]
async fn discovery_names_the_endpoint_in_both_formats() {
    let w = world();
    let j = get(&w, "/open311/v2/discovery.json").await;
    assert_eq!(j.status, StatusCode::OK);
    let v = j.json();
    let e = &v["endpoints"][0];
    assert_eq!(e["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(e["type"], "production");
    assert_eq!(
        e["formats"],
        serde_json::json!(["text/xml", "application/json"])
    );
    assert!(e["url"].as_str().unwrap().ends_with("/open311/v2"));
    assert!(v["changeset"].is_string() && v["contact"].is_string());
    let x = get(&w, "/open311/v2/discovery.xml").await;
    let x = x.xml();
    assert!(x.contains("<discovery><changeset>"), "{x}");
    assert!(
        x.contains("<formats><format>text/xml</format><format>application/json</format></formats>"),
        "{x}"
    );
    // No format suffix, an unknown document: the spec's 404.
    get(&w, "/open311/v2/discovery")
        .await
        .error(StatusCode::NOT_FOUND);
    get(&w, "/open311/v2/nothing.json")
        .await
        .error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn services_are_the_categories_with_their_deadlines() {
    let w = world();
    let j = get(&w, "/open311/v2/services.json").await;
    assert_eq!(j.status, StatusCode::OK);
    let v = j.json();
    let list = v.as_array().expect("a list");
    let cats = &fixtures::rules().config.categories;
    assert_eq!(list.len(), cats.len());
    let env = list
        .iter()
        .find(|s| s["service_code"] == "environment")
        .expect("environment");
    assert_eq!(env["service_name"], "Môi trường");
    assert_eq!(env["metadata"], true);
    assert_eq!(env["type"], "realtime");
    let d = env["description"].as_str().unwrap();
    assert!(d.contains("Thời hạn xử lý: 4 giờ (tính liên tục)"), "{d}");
    let attitude = list
        .iter()
        .find(|s| s["service_code"] == "service_attitude")
        .expect("service_attitude");
    assert!(attitude["description"]
        .as_str()
        .unwrap()
        .contains("8 giờ làm việc"));

    let x = get(&w, "/open311/v2/services.xml?jurisdiction_id=").await;
    let x = x.xml();
    assert!(x.contains("<services><service><service_code>"), "{x}");
    assert!(x.contains("<service_name>Môi trường</service_name>"), "{x}");
    assert!(x.contains("<metadata>true</metadata>"), "{x}");
    // Our jurisdiction is accepted, another is not found.
    let ok = get(
        &w,
        "/open311/v2/services.json?jurisdiction_id=thanh-pho-lai-chau",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    get(&w, "/open311/v2/services.json?jurisdiction_id=sfgov.org")
        .await
        .error(StatusCode::NOT_FOUND);
    get(&w, "/open311/v2/services.xml?jurisdiction_id=sfgov.org")
        .await
        .error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_service_definition_has_the_title_and_ward_attributes() {
    let w = world();
    let v = get(&w, "/open311/v2/services/environment.json")
        .await
        .json();
    assert_eq!(v["service_code"], "environment");
    let attrs = v["attributes"].as_array().expect("attributes");
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs[0]["code"], "title");
    assert_eq!(attrs[0]["datatype"], "string");
    assert_eq!(attrs[0]["variable"], true);
    assert_eq!(attrs[0]["required"], false);
    assert_eq!(attrs[1]["code"], "ward");
    assert_eq!(attrs[1]["datatype"], "singlevaluelist");
    assert_eq!(attrs[1]["order"], 2);
    let wards = attrs[1]["values"].as_array().unwrap();
    assert_eq!(wards.len(), fixtures::rules().config.wards.len());
    assert!(wards
        .iter()
        .any(|x| x["key"] == "tan_phong" && x["name"].as_str().unwrap().contains("Tân Phong")));
    let x = get(&w, "/open311/v2/services/environment.xml").await;
    let x = x.xml();
    assert!(
        x.contains("<service_definition><service_code>environment</service_code><attributes><attribute><variable>true</variable><code>title</code>"),
        "{x}"
    );
    assert!(x.contains("<values><value><key>"), "{x}");
    let e = get(&w, "/open311/v2/services/potholes.json").await;
    assert!(e.error(StatusCode::NOT_FOUND).contains("potholes"));
    get(&w, "/open311/v2/services/potholes.xml")
        .await
        .error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_partner_files_a_request_and_personal_data_stays_protected() {
    let w = world();
    let j = post(&w, "/open311/v2/requests.json", &filing(&[])).await;
    assert_eq!(j.status, StatusCode::OK, "{}", j.body);
    let v = j.json();
    let id = v[0]["service_request_id"]
        .as_str()
        .expect("an id")
        .to_string();
    assert!(v[0]["service_notice"]
        .as_str()
        .unwrap()
        .contains("Thời hạn xử lý"));
    assert_no_personal_data(&j.body);

    let r = w
        .state
        .app
        .load(&ReportId(id.clone()))
        .await
        .expect("stored");
    assert_eq!(r.category, "environment");
    assert_eq!(r.title, "Rác thải đổ trộm bên suối");
    assert_eq!(r.reporter_ward.as_deref(), Some("tan_phong"));
    let rep = r.reporter.expect("reporter data");
    assert_eq!(rep.name.as_deref(), Some(NAME));
    assert_eq!(rep.email.as_deref(), Some(EMAIL));
    assert!(rep.phone.is_some());
    assert!(
        rep.citizen_id.starts_with("open311:fixmystreet:"),
        "{}",
        rep.citizen_id
    );
    assert!(!rep.citizen_id.contains("device-abc"));
    assert_eq!(r.timeline[0].role, Role::Citizen);

    // XML, with an address instead of coordinates, a title attribute and a media_url.
    let fields = [
        ("api_key", KEY),
        ("service_code", "urban_order"),
        ("address_string", "Đường Trần Phú, phường Tân Phong"),
        ("description", "Lấn chiếm vỉa hè"),
        ("attribute[title]", "Lấn chiếm vỉa hè trước chợ"),
        ("media_url", "https://example.org/photo.jpg"),
    ];
    let x = post(&w, "/open311/v2/requests.xml", &fields).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.body);
    let body = x.xml();
    let id2 = body
        .split("<service_request_id>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("an id in XML")
        .to_string();
    assert!(body.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><service_request_id>"
    ));
    let r2 = w
        .state
        .app
        .load(&ReportId(id2.clone()))
        .await
        .expect("stored");
    assert_eq!(r2.title, "Lấn chiếm vỉa hè trước chợ");
    assert_eq!(
        r2.address.as_deref(),
        Some("Đường Trần Phú, phường Tân Phong")
    );
    assert!(r2.description.contains("https://example.org/photo.jpg"));
    assert_eq!(
        r2.reporter.expect("reporter").citizen_id,
        "open311:fixmystreet"
    );

    // The token is the request id.
    let t = get(&w, &format!("/open311/v2/tokens/{id}.json"))
        .await
        .json();
    assert_eq!(t[0]["service_request_id"], id.as_str());
    assert_eq!(t[0]["token"], id.as_str());
    let tx = get(&w, &format!("/open311/v2/tokens/{id2}.xml")).await;
    assert!(tx.xml().contains(&format!(
        "<request><service_request_id>{id2}</service_request_id><token>{id2}</token></request>"
    )));
    get(&w, "/open311/v2/tokens/nothing-here.json")
        .await
        .error(StatusCode::NOT_FOUND);

    // Not published yet: not found, nothing of it out.
    let one = get(&w, &format!("/open311/v2/requests/{id}.json")).await;
    one.error(StatusCode::NOT_FOUND);
    assert_no_personal_data(&one.body);
    get(&w, &format!("/open311/v2/requests/{id}.xml"))
        .await
        .error(StatusCode::NOT_FOUND);
    let listed = get(
        &w,
        &format!("/open311/v2/requests.json?service_request_id={id}"),
    )
    .await;
    assert_eq!(listed.json(), serde_json::json!([]));
}

#[tokio::test]
async fn filing_needs_a_partner_key() {
    let w = world();
    for fmt in ["json", "xml"] {
        let uri = format!("/open311/v2/requests.{fmt}");
        let mut no_key = filing(&[]);
        no_key.retain(|(k, _)| *k != "api_key");
        let e = post(&w, &uri, &no_key).await;
        assert!(e.error(StatusCode::FORBIDDEN).contains("api_key"));
        let mut wrong = filing(&[]);
        wrong[0] = ("api_key", "fms-test-key-012345678");
        let e = post(&w, &uri, &wrong).await;
        assert!(e.error(StatusCode::FORBIDDEN).contains("api_key"));
    }
    // The other partner's key works too.
    let mut other = filing(&[]);
    other[0] = ("api_key", "another-key");
    let ok = post(&w, "/open311/v2/requests.json", &other).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn filing_needs_a_location_and_a_known_service() {
    let w = world();
    for fmt in ["json", "xml"] {
        let uri = format!("/open311/v2/requests.{fmt}");
        let mut nowhere = filing(&[]);
        nowhere.retain(|(k, _)| *k != "lat" && *k != "long");
        let e = post(&w, &uri, &nowhere).await;
        assert!(e.error(StatusCode::BAD_REQUEST).contains("address_string"));
        let mut unknown = filing(&[]);
        unknown[2] = ("service_code", "potholes");
        let e = post(&w, &uri, &unknown).await;
        assert!(e.error(StatusCode::BAD_REQUEST).contains("potholes"));
        let mut half = filing(&[]);
        half.retain(|(k, _)| *k != "long");
        post(&w, &uri, &half).await.error(StatusCode::BAD_REQUEST);
        let bad_attr = filing(&[("attribute[colour]", "red")]);
        post(&w, &uri, &bad_attr)
            .await
            .error(StatusCode::BAD_REQUEST);
        let bad_ward = filing(&[("attribute[ward]", "atlantis")]);
        // The later ward attribute is checked too.
        post(&w, &uri, &bad_ward)
            .await
            .error(StatusCode::BAD_REQUEST);
        let mut bad_phone = filing(&[("phone", "not a phone")]);
        bad_phone.retain(|(k, v)| !(*k == "phone" && *v == PHONE));
        let e = post(&w, &uri, &bad_phone).await;
        assert!(e.error(StatusCode::BAD_REQUEST).contains("phone"));
        let wrong_place = filing(&[("jurisdiction_id", "sfgov.org")]);
        post(&w, &uri, &wrong_place)
            .await
            .error(StatusCode::NOT_FOUND);
    }
    // Nothing was stored by the refused requests.
    let all = w
        .state
        .app
        .list(&phananh_testkit::actors::office(), Default::default())
        .await
        .expect("a list");
    assert!(all.items.is_empty());
}

#[tokio::test]
async fn a_published_request_reads_with_status_notes_and_agency() {
    let w = world();
    let r = published("rep-pub-1", -60);
    w.store(&r).await;
    let v = get(&w, "/open311/v2/requests/rep-pub-1.json").await.json();
    let one = &v[0];
    assert_eq!(one["service_request_id"], "rep-pub-1");
    assert_eq!(one["status"], "closed");
    assert_eq!(one["status_notes"], "Đã thu gom rác và vệ sinh khu vực.");
    assert_eq!(one["agency_responsible"], "Phòng Tài nguyên và Môi trường");
    assert_eq!(one["service_code"], "environment");
    assert_eq!(one["service_name"], "Môi trường");
    assert_eq!(one["requested_datetime"], "2025-03-03T01:00:00Z");
    assert_eq!(one["expected_datetime"], "2025-03-03T05:00:00Z");
    assert_eq!(one["updated_datetime"], "2025-03-03T06:00:00Z");
    assert!(one["description"].as_str().unwrap().contains("Rác thải"));
    // The address a citizen typed may be personal: never out.
    assert!(one["address"].is_null());
    let body = get(&w, "/open311/v2/requests/rep-pub-1.json").await.body;
    assert_no_personal_data(&body);
    let x = get(&w, "/open311/v2/requests/rep-pub-1.xml").await;
    let x = x.xml().to_string();
    assert!(x.contains("<service_requests><request><service_request_id>rep-pub-1</service_request_id><status>closed</status><status_notes>Đã thu gom rác và vệ sinh khu vực.</status_notes>"), "{x}");
    assert!(x.contains("<agency_responsible>Phòng Tài nguyên và Môi trường</agency_responsible>"));
    assert!(x.contains("<address/>"), "{x}");
    assert_no_personal_data(&x);
    assert!(!x.contains("Trần Hưng Đạo"), "{x}");

    // A state-secret report: only the approved answer.
    w.store(&fixtures::secret(published("rep-secret", -30)))
        .await;
    let s = get(&w, "/open311/v2/requests/rep-secret.json").await.json();
    assert!(s[0]["description"].is_null() && s[0]["agency_responsible"].is_null());
    assert!(s[0]["lat"].is_null() && s[0]["expected_datetime"].is_null());
    assert_eq!(s[0]["status_notes"], "Đã thu gom rác và vệ sinh khu vực.");
    // Submitted only: not found.
    w.store(&fixtures::report("rep-new", at(-10))).await;
    get(&w, "/open311/v2/requests/rep-new.json")
        .await
        .error(StatusCode::NOT_FOUND);
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_request_list_filters_as_the_spec_says() {
    let w = world();
    w.store(&published("rep-a", -60)).await;
    w.store(&fixtures::in_category(
        published("rep-b", -120),
        "urban_order",
    ))
    .await;
    let closed = fixtures::in_state(published("rep-c", -180), phananh_core::model::State::Closed);
    w.store(&closed).await;
    // Older than the 90-day default window.
    w.store(&published("rep-old", -(100 * 24 * 60))).await;
    // Not public.
    w.store(&fixtures::report("rep-hidden", at(-5))).await;
    w.store(&fixtures::secret(published("rep-secret", -30)))
        .await;

    let all = get(&w, "/open311/v2/requests.json").await;
    assert_eq!(ids(&all.json()), ["rep-a", "rep-b", "rep-c"]);
    assert_no_personal_data(&all.body);

    let by_code = get(&w, "/open311/v2/requests.json?service_code=urban_order").await;
    assert_eq!(ids(&by_code.json()), ["rep-b"]);
    let codes = get(
        &w,
        "/open311/v2/requests.json?service_code=urban_order,environment",
    )
    .await;
    assert_eq!(ids(&codes.json()), ["rep-a", "rep-b", "rep-c"]);
    let open = get(&w, "/open311/v2/requests.json?status=open").await;
    assert_eq!(ids(&open.json()), Vec::<String>::new());
    let closed = get(&w, "/open311/v2/requests.json?status=open,closed").await;
    assert_eq!(ids(&closed.json()).len(), 3);

    let old_from = (t0() - Duration::days(101)).to_rfc3339();
    let old_to = (t0() - Duration::days(95)).to_rfc3339();
    let old = get(
        &w,
        &format!(
            "/open311/v2/requests.json?start_date={}&end_date={}",
            urlencoding::encode(&old_from),
            urlencoding::encode(&old_to)
        ),
    )
    .await;
    assert_eq!(ids(&old.json()), ["rep-old"]);
    let window = get(
        &w,
        "/open311/v2/requests.json?start_date=2025-03-02T23:30:00Z&end_date=2025-03-03T00:30:00Z",
    )
    .await;
    assert_eq!(ids(&window.json()), ["rep-b"]);
    let since = get(
        &w,
        "/open311/v2/requests.json?start_date=2025-03-02T23:30:00Z",
    )
    .await;
    assert_eq!(ids(&since.json()), ["rep-a", "rep-b"]);

    // The ids override every other filter; unpublished ones are left out.
    let by_id = get(
        &w,
        "/open311/v2/requests.json?service_request_id=rep-old,rep-hidden,rep-a&service_code=urban_order",
    )
    .await;
    assert_eq!(ids(&by_id.json()), ["rep-old", "rep-a"]);

    let x = get(&w, "/open311/v2/requests.xml?service_code=urban_order").await;
    let x = x.xml();
    assert_eq!(x.matches("<request>").count(), 1, "{x}");
    assert!(x.contains("<service_code>urban_order</service_code>"));
    let empty = get(&w, "/open311/v2/requests.xml?service_code=food_safety").await;
    assert!(empty
        .xml()
        .ends_with("<service_requests></service_requests>"));

    for fmt in ["json", "xml"] {
        for bad in [
            "status=pending",
            "service_code=potholes",
            "start_date=yesterday",
            "start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",
            "start_date=2025-03-01T00:00:00Z&end_date=2025-02-01T00:00:00Z",
        ] {
            get(&w, &format!("/open311/v2/requests.{fmt}?{bad}"))
                .await
                .error(StatusCode::BAD_REQUEST);
        }
        get(&w, &format!("/open311/v2/requests.{fmt}?jurisdiction_id=x"))
            .await
            .error(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn at_most_a_thousand_requests() {
    let w = world();
    for i in 0..1005 {
        w.store(&published(&format!("rep-{i:04}"), -(i as i64) - 1))
            .await;
    }
    let v = get(&w, "/open311/v2/requests.json").await.json();
    let got = ids(&v);
    assert_eq!(got.len(), 1000);
    assert_eq!(got[0], "rep-0000");
    assert_eq!(got[999], "rep-0999");
}
