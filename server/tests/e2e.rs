//! End-to-end over real HTTP against a started `phananh serve` process (127.0.0.1 only).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_workflow_over_http() {
    let data = TempData::new("flow");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let ioc = api.login(&s, "ioc.head").await;
    let unit = api.login(&s, "kinhte.staff").await;
    let other_unit = api.login(&s, "vhtt.staff").await;

    // Submit with a photo and an Idempotency-Key; the same key again makes no second report.
    let photo = api.upload(&citizen, &jpeg()).await;
    let mut body = report_body(
        "market_prices",
        "Quán ăn chặt chém du khách",
        "Quán phở bán 150.000đ một bát, không niêm yết giá.",
    );
    body["attachments"] = json!([photo]);
    let submit = |key: &'static str| {
        let body = body.clone();
        let api = &api;
        let citizen = citizen.clone();
        async move {
            api.http
                .post(format!("{}/v1/reports", api.base))
                .bearer_auth(citizen)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = submit("key-001").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_string();
    let again = submit("key-001").await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let (_, mine) = api.get("/v1/me/reports", Some(&citizen)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // The same key with another body is refused, never answered with the first report.
    let mut changed = body.clone();
    changed["title"] = json!("Một phản ánh khác");
    let reused = api
        .http
        .post(format!("{}/v1/reports", api.base))
        .bearer_auth(&citizen)
        .header("Idempotency-Key", "key-001")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(reused["code"], "idempotency_key_reused");
    assert_eq!(reused["field"], "Idempotency-Key");

    // Screening runs through the queue; the IOC head assigns (Đ.7.2).
    let screened = api.wait_state(&ioc, &id, "screened").await;
    // Staff see the reporter masked, never in clear.
    assert_eq!(screened["reporter"]["phone"], "09******21");
    let (st, assigned) = api
        .action(&ioc, &id, json!({"action": "assign", "lead_unit": "phong_kinh_te", "coordinating_units": ["ubnd_tan_phong"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{assigned}");
    // Đ.7.4.d: 4 clock hours from assignment.
    let a = &assigned["assignment"];
    let at = chrono::DateTime::parse_from_rfc3339(a["assigned_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(a["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - at, chrono::Duration::hours(4));

    // The unit sees it without the reporter; another unit does not see it at all.
    let (st, seen) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&unit))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        seen.get("reporter").is_none() || seen["reporter"].is_null(),
        "{seen}"
    );
    assert!(!seen.to_string().contains("0987654321"));
    let (st, _) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&other_unit))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = api
        .action(&other_unit, &id, json!({"action": "accept"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (_, list) = api.get("/v1/staff/reports", Some(&other_unit)).await;
    assert!(list["items"].as_array().unwrap().is_empty());

    // Handling with evidence (Đ.7.3).
    let (st, _) = api
        .action(
            &unit,
            &id,
            json!({"action": "accept", "note": "Đã cử cán bộ"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = api
        .action(
            &unit,
            &id,
            json!({"action": "resolve", "summary": "Đã xử phạt", "evidence": []}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "evidence");
    let evidence = api.upload(&unit, &jpeg()).await;
    let (st, v) = api
        .action(&unit, &id, json!({"action": "resolve", "summary": "Đã xử phạt và yêu cầu niêm yết giá", "evidence": [evidence]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["resolution"]["on_time"], true);

    // The IOC publishes (Đ.8.1); the public sees it without personal data.
    let (st, v) = api
        .action(&ioc, &id, json!({"action": "publish", "public_answer": "Cơ sở đã bị xử phạt, giá đã được niêm yết.", "public_attachments": [evidence]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, public) = api.get(&format!("/v1/public/reports/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let text = public.to_string();
    for secret in ["0987654321", "hoa@example.vn", "Nguyễn Thị Hoa"] {
        assert!(!text.contains(secret), "public output leaks {secret}");
    }
    assert_eq!(public["attachments"].as_array().unwrap().len(), 1);
    let (_, feed) = api.get("/v1/public/reports", None).await;
    assert!(feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id.as_str()));
    let (st, url) = api
        .get(
            &format!("/v1/public/reports/{id}/attachments/{evidence}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let got = api
        .http
        .get(url["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    // The public copy made by the media worker, never the uploaded bytes.
    let public_copy = got.bytes().await.unwrap();
    assert_ne!(public_copy.as_ref(), jpeg().as_slice());
    assert!(public_copy.starts_with(&[0xFF, 0xD8, 0xFF]));
    // The citizen's own photo was not approved for publication.
    let (st, _) = api
        .get(
            &format!("/v1/public/reports/{id}/attachments/{photo}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The citizen follows the timeline and rates; another citizen cannot.
    let (_, mine) = api
        .get(&format!("/v1/me/reports/{id}"), Some(&citizen))
        .await;
    let actions: Vec<&str> = mine["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["submit", "assign", "accept", "resolve", "publish"]
    );
    let stranger = api.device().await;
    let (st, _) = api
        .post(
            &format!("/v1/me/reports/{id}/rating"),
            Some(&stranger),
            json!({"stars": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = api
        .post(
            &format!("/v1/me/reports/{id}/rating"),
            Some(&citizen),
            json!({"stars": 5, "comment": "Cảm ơn"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rating"]["stars"], 5);

    // Statistics (Đ.9.2) for the office, refused to units; CSV export.
    let office = api.login(&s, "office").await;
    let (st, stats) = api.get("/v1/stats", Some(&office)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(stats["resolved"], 1);
    assert_eq!(stats["on_time_rate"], 1.0);
    let (st, _) = api.get("/v1/stats", Some(&unit)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, csv) = api.get("/v1/stats/export.csv", Some(&office)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(csv.as_str().unwrap().contains(&id));
    assert!(!csv.as_str().unwrap().contains("0987654321"));

    // State survives a restart.
    drop(s);
    let s = start(&data.0);
    let api = s.api();
    let ioc = api.login(&s, "ioc.head").await;
    let (st, v) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&ioc))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["state"], "published");
    assert_eq!(v["rating"]["stars"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_scope_complaints_are_refused_with_guidance() {
    // Đ.6.3: complaints, denunciations and legal-advice requests are not received.
    let data = TempData::new("scope");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let (st, v) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "other",
                "Đơn khiếu nại",
                "Tôi làm đơn khiếu nại quyết định thu hồi đất của phường.",
            ),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "out_of_scope_complaint");
    assert!(v["guidance"].as_str().unwrap().len() > 20);
    let (_, mine) = api.get("/v1/me/reports", Some(&citizen)).await;
    assert!(
        mine["items"].as_array().unwrap().is_empty(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_category_is_returned_reclassified_and_reassigned_and_a_directive_cannot_be_edited()
{
    let data = TempData::new("reassign");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let ioc = api.login(&s, "ioc.head").await;
    let kinhte = api.login(&s, "kinhte.staff").await;
    let office = api.login(&s, "office").await;
    let vhtt = api.login(&s, "vhtt.staff").await;
    let leader = api.login(&s, "leader").await;
    let (st, r) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "market_prices",
                "Karaoke hát quá giờ",
                "Quán karaoke mở nhạc to sau 23 giờ, ảnh hưởng khu dân cư và khách du lịch.",
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    api.wait_state(&ioc, &id, "screened").await;
    let (st, _) = api
        .action(
            &ioc,
            &id,
            json!({"action": "assign", "lead_unit": "phong_kinh_te"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Đ.9.2: the unit returns it; only the office reclassifies and reassigns.
    let (st, v) = api.action(&kinhte, &id, json!({"action": "return", "reason": "Thuộc lĩnh vực văn hóa", "suggested_category": "culture_tourism"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = api
        .action(
            &kinhte,
            &id,
            json!({"action": "reassign", "lead_unit": "phong_vhtt", "note": "x"}),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role")),
        "{v}"
    );
    let (st, v) = api
        .action(
            &ioc,
            &id,
            json!({"action": "reassign", "lead_unit": "phong_vhtt", "note": "x"}),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role"))
    );
    let (st, v) = api
        .action(
            &office,
            &id,
            json!({"action": "reclassify", "category": "culture_tourism"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = api.action(&office, &id, json!({"action": "reassign", "lead_unit": "phong_vhtt", "note": "Chuyển Phòng Văn hóa và Thông tin"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["category"], "culture_tourism");
    assert_eq!(v["assignment"]["lead_unit"], "phong_vhtt");
    let (st, _) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&vhtt))
        .await;
    assert_eq!(st, StatusCode::OK);

    // Đ.6.2: a leader's directive is recorded, attributed, and there is no way to edit it.
    let (st, v) = api
        .post(
            &format!("/v1/staff/reports/{id}/directives"),
            Some(&leader),
            json!({"text": "Đề nghị Phòng VH-TT xử lý dứt điểm trong ngày"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let entry = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["action"], "directive");
    assert_eq!(entry["role"], "leader");
    assert_eq!(entry["hash"].as_str().unwrap().len(), 64);
    for m in [Method::PUT, Method::PATCH, Method::DELETE] {
        let (st, _) = api
            .call(
                m,
                &format!("/v1/staff/reports/{id}/directives"),
                Some(&leader),
                Some(json!({"text": "sửa"})),
            )
            .await;
        assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    }
    // Only leaders issue directives.
    let (st, _) = api
        .post(
            &format!("/v1/staff/reports/{id}/directives"),
            Some(&ioc),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, after) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&ioc))
        .await;
    let same = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["seq"] == entry["seq"])
        .unwrap();
    assert_eq!(same, &entry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_a_token_of_the_wrong_role_or_unit() {
    let data = TempData::new("authz");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let unit = api.login(&s, "kinhte.staff").await;
    let ioc = api.login(&s, "ioc.head").await;
    let (_, r) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body("environment", "Đốt rác", "Đốt rác thải gây khói."),
        )
        .await;
    let id = r["id"].as_str().unwrap().to_string();
    api.wait_state(&ioc, &id, "screened").await;

    let staff_routes: Vec<(Method, String, Value)> = vec![
        (Method::GET, "/v1/staff/reports".into(), Value::Null),
        (Method::GET, format!("/v1/staff/reports/{id}"), Value::Null),
        (
            Method::POST,
            format!("/v1/staff/reports/{id}/actions"),
            json!({"action": "add_note", "note": "x"}),
        ),
        (
            Method::POST,
            format!("/v1/staff/reports/{id}/directives"),
            json!({"text": "x"}),
        ),
        (
            Method::POST,
            format!("/v1/staff/reports/{id}/reveal-reporter"),
            json!({"reason": "x"}),
        ),
        (Method::GET, "/v1/stats".into(), Value::Null),
        (Method::GET, "/v1/stats/export.csv".into(), Value::Null),
        (Method::GET, "/v1/admin/accounts".into(), Value::Null),
        (
            Method::POST,
            "/v1/admin/accounts".into(),
            json!({"username": "hacker", "display_name": "x", "role": "leader", "password": "0123456789ab"}),
        ),
    ];
    for (m, path, body) in &staff_routes {
        let b = (!body.is_null()).then(|| body.clone());
        // No token at all.
        let (st, v) = api.call(m.clone(), path, None, b.clone()).await;
        assert_eq!(
            st,
            StatusCode::UNAUTHORIZED,
            "{m} {path} without token: {v}"
        );
        // A citizen's token.
        let (st, v) = api.call(m.clone(), path, Some(&citizen), b.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{m} {path} as citizen: {v}");
        assert_eq!(v["code"], "forbidden_role");
    }
    // A unit officer: no report of another unit, no admin, no statistics, no reveal.
    for (m, path, body) in &staff_routes[1..] {
        let b = (!body.is_null()).then(|| body.clone());
        let (st, v) = api.call(m.clone(), path, Some(&unit), b).await;
        assert!(
            matches!(st, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{m} {path} as other unit: {st} {v}"
        );
    }
    // Đ.7.1: IOC operators create reports from surveillance cameras; citizens cannot.
    let op = api.login(&s, "ioc.operator").await;
    let mut cam = report_body(
        "traffic_security",
        "Xe tải đỗ trên vỉa hè",
        "Camera CAM-017 ghi nhận xe tải đỗ trên vỉa hè đường Trần Phú.",
    );
    cam.as_object_mut().unwrap().remove("reporter");
    cam["camera_id"] = json!("CAM-017");
    let (st, v) = api.post("/v1/reports", Some(&op), cam.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["source"],
        json!({"kind": "camera", "camera_id": "CAM-017"})
    );
    let (st, v) = api.post("/v1/reports", Some(&citizen), cam.clone()).await;
    assert_eq!(
        (st, v["code"].as_str(), v["field"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("forbidden_role"),
            Some("camera_id")
        )
    );
    let (st, _) = api.post("/v1/reports", Some(&unit), cam).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // A unit cannot widen its queue to another unit.
    let (st, _) = api
        .get("/v1/staff/reports?unit=phong_vhtt", Some(&unit))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Citizen routes refuse staff tokens; a tampered token is refused.
    let (st, _) = api.get("/v1/me/reports", Some(&ioc)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let tampered = format!("{}x", &ioc[..ioc.len() - 1]);
    let (st, v) = api.get("/v1/staff/reports", Some(&tampered)).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_problem_naming_the_field_and_stores_nothing() {
    let data = TempData::new("bad");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let send_raw = |body: Vec<u8>| {
        let api = &api;
        let citizen = citizen.clone();
        async move {
            let resp = api
                .http
                .post(format!("{}/v1/reports", api.base))
                .bearer_auth(citizen)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let st = resp.status();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            (st, ct, v)
        }
    };
    let good = report_body("environment", "Xả thải", "Nước thải chảy ra suối.");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        serde_json::to_vec(&b).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "malformed json",
            b"{\"category\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (
            "wrong type",
            with(&|b| b["title"] = json!(42)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            "missing field",
            with(&|b| {
                b.as_object_mut().unwrap().remove("description");
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "description",
        ),
        (
            "latitude out of range",
            with(&|b| b["location"]["lat"] = json!(123.0)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "location",
        ),
        (
            "unknown category",
            with(&|b| b["category"] = json!("ufo")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "category",
        ),
        (
            "control characters",
            with(&|b| b["title"] = json!("Xả\u{0000}thải")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            "unknown field",
            with(&|b| b["state"] = json!("published")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "state",
        ),
        (
            "invalid utf-8",
            {
                let mut v = serde_json::to_vec(&good).unwrap();
                let p = v.iter().position(|&c| c == b'X').unwrap();
                v[p] = 0xC3;
                v[p + 1] = 0x28;
                v
            },
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (
            "oversized body",
            with(&|b| b["description"] = json!("a".repeat(100_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            "empty title",
            with(&|b| b["title"] = json!("   ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
    ];
    for (name, body, status, field) in cases {
        let (st, ct, v) = send_raw(body).await;
        assert_eq!(st, status, "{name}: {v}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{name}");
        assert!(
            v["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{name}: stable code in {v}"
        );
        assert!(
            v["title"].as_str().is_some_and(|t| !t.is_ascii()),
            "{name}: Vietnamese title in {v}"
        );
        if !field.is_empty() {
            assert_eq!(v["field"], field, "{name}: {v}");
        }
    }
    // Wrong content type and a bad Idempotency-Key.
    let resp = api
        .http
        .post(format!("{}/v1/reports", api.base))
        .bearer_auth(&citizen)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let resp = api
        .http
        .post(format!("{}/v1/reports", api.base))
        .bearer_auth(&citizen)
        .header("Idempotency-Key", "x".repeat(300))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Nothing half-written.
    let (_, mine) = api.get("/v1/me/reports", Some(&citizen)).await;
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");
    // Unknown routes and bad ids are problems too.
    let (st, v) = api.get("/v1/nope", None).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (st, v) = api.get("/v1/public/reports/..%2F..%2Fetc", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_its_openapi_document_and_catalogues() {
    let data = TempData::new("docs");
    let s = start(&data.0);
    let api = s.api();
    let resp = api
        .http
        .get(format!("{}/v1/openapi.yaml", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("openapi: 3.1"));
    let (_, cats) = api.get("/v1/categories", None).await;
    assert_eq!(cats["items"].as_array().unwrap().len(), 10);
    let (_, units) = api.get("/v1/units", None).await;
    assert!(
        !units.to_string().contains("example.invalid"),
        "unit contacts are not public"
    );
    let (_, wards) = api.get("/v1/wards", None).await;
    assert_eq!(wards["items"].as_array().unwrap().len(), 7);
}
