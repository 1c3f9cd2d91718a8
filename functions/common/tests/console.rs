//! The console is served by the API function: its router, built from the environment the
//! template sets (`COGNITO_*`, `CONSOLE_BASE_URL`), answers `/console/login` with a redirect
//! to the user pool's hosted UI (authorization code with PKCE), and a console page without a
//! session with a redirect to sign-in. Requests are API Gateway events (payload 2.0) without
//! an authorizer context: the console routes are public at API Gateway.
//!
//! Nothing here reaches AWS: the router is built outside a Tokio runtime (so the key set is
//! not prefetched) and no request needs the store or the key set.

use phananh_aws::aws_config::{BehaviorVersion, Region, SdkConfig};
use phananh_aws::settings::{
    ConsoleSettings, ENV_COGNITO_CLIENT_ID, ENV_COGNITO_DOMAIN, ENV_COGNITO_USER_POOL_ID,
    ENV_CONSOLE_BASE_URL,
};
use phananh_aws::{AwsClients, AwsSettings};
use phananh_core::CityRules;
use phananh_lambda::{router, Router, Runtime};
use serde_json::{json, Value};
use std::collections::HashMap;
use tower::ServiceExt;

const DOMAIN: &str = "phananh-test-123456789012.auth.ap-southeast-1.amazoncognito.com";
const CLIENT: &str = "consoleclient0123456789";
const POOL: &str = "ap-southeast-1_TestPool";
const BASE: &str = "https://console0123.execute-api.ap-southeast-1.amazonaws.com";

fn runtime() -> Runtime {
    let cfg = SdkConfig::builder()
        .region(Region::new("ap-southeast-1"))
        .behavior_version(BehaviorVersion::latest())
        .build();
    let settings = AwsSettings {
        table: "phananh-test".into(),
        bucket: "phananh-test-media".into(),
        events_topic_arn: "arn:aws:sns:ap-southeast-1:123456789012:events".into(),
        alerts_topic_arn: "arn:aws:sns:ap-southeast-1:123456789012:alerts".into(),
        s3_path_style: false,
        sms_sender_id: None,
        sms_country_code: "84".into(),
        ses_from: None,
    };
    Runtime::new(
        &AwsClients::from_sdk_config(&cfg, false),
        settings,
        CityRules::laichau_default().unwrap(),
    )
}

/// A public (no authorizer) API Gateway GET event for `path?query`.
fn event(path: &str, query: &str) -> Value {
    let sample = format!(
        "{}/../../events/api-staff-queue.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut ev: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    ev["rawPath"] = json!(path);
    ev["rawQueryString"] = json!(query);
    ev["routeKey"] = json!("GET /console/{proxy+}");
    ev["requestContext"]["routeKey"] = json!("GET /console/{proxy+}");
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["requestContext"]["http"]["method"] = json!("GET");
    ev["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let qs: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    ev["queryStringParameters"] = Value::Object(qs);
    ev["headers"]["x-forwarded-proto"] = json!("https");
    ev
}

async fn call(r: &Router, ev: Value) -> (u16, HashMap<String, Vec<String>>, String) {
    let req = lambda_http::request::from_str(&ev.to_string()).expect("API Gateway event");
    let resp = r.clone().oneshot(req).await.expect("router");
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in resp.headers() {
        headers
            .entry(k.as_str().to_string())
            .or_default()
            .push(v.to_str().unwrap().to_string());
    }
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn query(url: &str) -> HashMap<String, String> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v
                .replace("%3A", ":")
                .replace("%2F", "/")
                .replace("%20", " ");
            (k.to_string(), v)
        })
        .collect()
}

#[test]
fn the_api_function_serves_the_console_and_signs_in_through_the_hosted_ui() {
    // The environment template.yaml gives the console's function (one test in this binary:
    // nothing else reads it concurrently).
    for (k, v) in [
        (ENV_COGNITO_DOMAIN, DOMAIN),
        (ENV_COGNITO_CLIENT_ID, CLIENT),
        (ENV_COGNITO_USER_POOL_ID, POOL),
        (ENV_CONSOLE_BASE_URL, BASE),
    ] {
        std::env::set_var(k, v);
    }
    let rt = runtime();
    let console = router(&rt);
    let unconfigured = phananh_http::router(rt.http_state_with(None));
    let settings = ConsoleSettings::from_env().unwrap().unwrap();
    assert_eq!(settings.region, "ap-southeast-1");

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        // /console/login: straight to the hosted UI, with PKCE and the sign-in cookie.
        let (status, headers, _) =
            call(&console, event("/console/login", "next=%2Fconsole%2Funit")).await;
        assert!((300..400).contains(&status), "{status}");
        let to = &headers["location"][0];
        assert!(
            to.starts_with(&format!("https://{DOMAIN}/oauth2/authorize?")),
            "{to}"
        );
        let q = query(to);
        assert_eq!(q["client_id"], CLIENT);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], format!("{BASE}/console/auth/callback"));
        assert!(!q["state"].is_empty() && !q["code_challenge"].is_empty());
        let auth = headers["set-cookie"]
            .iter()
            .find(|c| c.starts_with("phananh_auth="))
            .expect("sign-in cookie");
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/console/auth"] {
            assert!(auth.contains(attr), "{attr} in {auth}");
        }

        // A console page without a session: to sign-in, and back to the page after.
        let (status, headers, _) = call(&console, event("/console/ioc", "")).await;
        assert!((300..400).contains(&status), "{status}");
        assert_eq!(
            headers["location"][0],
            "/console/login?next=%2Fconsole%2Fioc"
        );

        // /console itself: public at API Gateway, to sign-in in the function.
        let (status, _, body) = call(&console, event("/console", "")).await;
        assert!((300..400).contains(&status), "{status} {body}");

        // Without the console settings the sign-in page says it is not configured.
        let (status, _, body) = call(&unconfigured, event("/console/login", "")).await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("console_not_configured"), "{body}");
    });
}
