//! A real third-party Open311 client, the `georeport` package from PyPI (installed into the
//! tools venv by scripts/tools.sh), drives a started `phananh serve` through /open311/v2:
//! the service list, a service definition, the request list and a single request, in JSON
//! and XML. A partner app also files a request (form-encoded, `requests`). 127.0.0.1 only.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

const KEY: &str = "e2e-partner-key-42";

fn python() -> PathBuf {
    let tools = std::env::var_os("PHANANH_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/phananh/tools")))
        .expect("PHANANH_TOOLS_DIR or HOME");
    let py = tools.join("venv/bin/python");
    assert!(
        py.exists(),
        "{} missing: run scripts/tools.sh (it installs georeport)",
        py.display()
    );
    py
}

/// Reads through the client and checks what it got; prints the request list as JSON.
const SCRIPT: &str = r#"
import json, sys, requests
from georeport import GeoReport

base, report_id, key = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
for fmt in ("json", "xml"):
    client = GeoReport(base + "/open311/v2", output_format=fmt)
    services = client.get_service_list()
    env = [s for s in services if s["service_code"] == "market_prices"][0]
    assert env["service_name"] == "Giá cả thị trường", env
    assert "Thời hạn xử lý" in env["description"], env
    assert str(env["metadata"]).lower() == "true", env
    definition = client.get_service_definition("market_prices")
    assert definition["service_code"] == "market_prices", definition
    attrs = definition["attributes"]
    if fmt == "xml":
        attrs = attrs["attribute"]
    assert [a["code"] for a in attrs] == ["title", "ward"], attrs
    listed = client.get_service_requests(service_code="market_prices,environment", status="closed")
    if fmt == "xml" and isinstance(listed, dict):
        listed = [listed]
    assert [r["service_request_id"] for r in listed] == [report_id], listed
    one = client.get_service_request(report_id)
    assert one["status"] == "closed", one
    assert one["status_notes"] == "Cơ sở đã bị xử phạt, giá đã được niêm yết.", one
    assert one["agency_responsible"] == "Phòng Kinh tế", one
    assert one["service_name"] == "Giá cả thị trường", one
    out[fmt] = one
    try:
        client.get_service_request("no-such-request")
        raise AssertionError("an unknown request was found")
    except requests.HTTPError as e:
        assert e.response.status_code == 404, e

# A partner app files a request (the client package only reads).
r = requests.post(base + "/open311/v2/requests.json", data={
    "api_key": key, "jurisdiction_id": "", "service_code": "environment",
    "lat": "22.3964", "long": "103.4582", "description": "Rác đổ trộm bên suối",
    "first_name": "Trần", "last_name": "Thị Mai", "email": "mai@example.vn", "device_id": "d-1",
})
assert r.status_code == 200, r.text
filed = r.json()[0]["service_request_id"]
bad = requests.post(base + "/open311/v2/requests.xml", data={"api_key": "wrong", "service_code": "environment"})
assert bad.status_code == 403 and "<errors><error><code>403</code>" in bad.text, bad.text
out["filed"] = filed
print(json.dumps(out, ensure_ascii=False))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_georeport_client_reads_our_open311() {
    let py = python();
    // The server process inherits the partner keys.
    std::env::set_var("PHANANH_OPEN311_KEYS", format!("e2e:{KEY}"));
    let data = TempData::new("open311");
    let s = start(&data.0);
    let api = s.api();
    let citizen = api.device().await;
    let ioc = api.login(&s, "ioc.head").await;
    let unit = api.login(&s, "kinhte.staff").await;

    // A report through the API, handled and published.
    let (st, v) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "market_prices",
                "Quán ăn chặt chém du khách",
                "Quán phở bán 150.000đ một bát, không niêm yết giá.",
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    api.wait_state(&ioc, &id, "screened").await;
    let steps = [
        (
            &ioc,
            json!({"action": "assign", "lead_unit": "phong_kinh_te"}),
        ),
        (&unit, json!({"action": "accept"})),
    ];
    for (token, body) in steps {
        let (st, v) = api.action(token, &id, body).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let evidence = api.upload(&unit, &jpeg()).await;
    let (st, v) = api
        .action(
            &unit,
            &id,
            json!({"action": "resolve", "summary": "Đã xử phạt", "evidence": [evidence]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = api
        .action(
            &ioc,
            &id,
            json!({"action": "publish", "public_answer": "Cơ sở đã bị xử phạt, giá đã được niêm yết."}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Another report, never published: not in the list the client reads.
    let (st, _) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body("environment", "Rác thải", "Rác ùn ứ trước chợ."),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);

    let base = s.base.trim_end_matches('/').to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let run = Command::new(&py)
        .args(["-c", SCRIPT, &base, &id, KEY])
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .expect("run the georeport client");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got: Value = serde_json::from_str(stdout.trim()).expect("the client's summary");
    assert_eq!(got["json"]["service_request_id"], id.as_str());
    assert_eq!(got["xml"]["service_request_id"], id.as_str());
    for personal in ["Nguyễn Thị Hoa", "0987654321", "hoa@example.vn", "Trần Phú"] {
        assert!(!stdout.contains(personal), "{personal} in {stdout}");
    }

    // The filed request is a report with protected reporter data, seen by the IOC masked.
    let filed = got["filed"].as_str().expect("a filed id");
    let v = api.wait_state(&ioc, filed, "screened").await;
    assert_eq!(v["category"], "environment");
    assert_eq!(v["reporter"]["email"], "m***@example.vn");
}
