//! What the Lambda suites share: API Gateway events from the `events/` samples, and a call
//! through an API function's router.
#![allow(dead_code)]

use phananh_lambda::{router, Runtime};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower::ServiceExt;

/// A sample event of `events/`.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json")
}

/// An API Gateway request from a sample, with its path, body and claims replaced.
pub fn request(
    name: &str,
    path: Option<&str>,
    body: Option<Value>,
    claims: Option<Value>,
) -> Value {
    let mut ev = sample(name);
    if let Some(p) = path {
        ev["rawPath"] = json!(p);
        ev["requestContext"]["http"]["path"] = json!(p);
    }
    if let Some(b) = body {
        ev["body"] = json!(b.to_string());
    }
    if let Some(c) = claims {
        ev["requestContext"]["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}});
    }
    ev
}

/// The request through the API function's router: the status and the body as JSON.
pub async fn call(rt: &Runtime, ev: Value) -> (StatusCode, Value) {
    let req = lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event");
    let resp = router(rt).oneshot(req).await.expect("router");
    let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What the relay's DynamoDB Streams event source mapping does (harness requests, not
/// counted): reads the table's stream since the last read and invokes the relay function
/// with the records. Returns how many events the relay published.
pub struct StreamRelay {
    tap: phananh_tests::stream_tap::StreamTap,
    /// How many times the relay was invoked: batches holding an event item, which is what
    /// the template's filter on the stream's event source mapping lets through.
    pub invocations: usize,
}

impl StreamRelay {
    pub async fn open(p: &phananh_tests::moto::Provisioned) -> StreamRelay {
        StreamRelay {
            tap: phananh_tests::stream_tap::StreamTap::open(&p.clients, &p.settings.table)
                .await
                .expect("table stream"),
            invocations: 0,
        }
    }

    /// One invocation of `relay` with what the stream carried since the last one (none when
    /// nothing was written).
    pub async fn pump(&mut self, relay: &Runtime) -> usize {
        self.try_pump(relay).await.expect("relay")
    }

    /// [`StreamRelay::pump`], with the relay's error.
    pub async fn try_pump(&mut self, relay: &Runtime) -> Result<usize, phananh_lambda::Error> {
        let batch = self.tap.next_batch().await.expect("stream records");
        if batch["Records"].as_array().is_none_or(|r| r.is_empty()) {
            return Ok(0);
        }
        let events = batch["Records"].as_array().into_iter().flatten().any(|r| {
            r["dynamodb"]["Keys"]["sk"]["S"] == "EVENT"
                && matches!(r["eventName"].as_str(), Some("INSERT" | "MODIFY"))
        });
        self.invocations += usize::from(events);
        let ev = serde_json::from_value(batch).expect("stream event");
        phananh_lambda::relay_stream(
            relay,
            lambda_runtime::LambdaEvent::new(ev, lambda_runtime::Context::default()),
        )
        .await
    }
}
