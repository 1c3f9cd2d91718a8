//! The local AWS-API emulator (moto server) for the AWS adapter tests.
//!
//! - [`Moto::start`] spawns `moto_server` on a free port of 127.0.0.1 and kills it on drop.
//! - [`Moto::shared`] starts one server per test binary, then points the AWS SDK of this
//!   process at it through the standard variables (`AWS_ENDPOINT_URL`, static `test`
//!   credentials, `AWS_REGION=ap-southeast-1`): the adapters are built exactly as in
//!   production (`AwsClients::from_env`). The server is stopped when the test process ends
//!   (it is watched through a pipe, see [`Moto::start`]).
//! - [`provision`] creates a fresh, uniquely named set of resources mirroring `template.yaml`.
//!
//! moto is found in `$PHANANH_TOOLS_DIR/venv/bin` (default `~/.cache/phananh/tools/venv`),
//! else on `PATH`; `scripts/tools.sh` installs it.

use phananh_aws::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use phananh_aws::aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use phananh_aws::topology::{Consumer, Topology, CONSUMERS, MAX_RECEIVE_COUNT};
use phananh_aws::{AwsClients, AwsSettings};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const REGION: &str = "ap-southeast-1";
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running moto server.
pub struct Moto {
    pub endpoint: String,
    pub port: u16,
    /// File the server records every request to (see [`Moto::recorded_requests`]).
    pub recording: PathBuf,
    child: Child,
    /// Closing this pipe makes the wrapper shell stop the server.
    watch: Option<ChildStdin>,
}

/// Path of `moto_server`: the tools venv when present, else `PATH`.
pub fn moto_server_path() -> PathBuf {
    let dir = std::env::var_os("PHANANH_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/phananh/tools"))
        });
    if let Some(d) = dir {
        let p = d.join("venv/bin/moto_server");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("moto_server")
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// One plain HTTP/1.0 request to 127.0.0.1:`port`; returns (status, body).
fn http(port: u16, method: &str, path: &str) -> Result<(u16, Vec<u8>), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header end")?;
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    Ok((status, buf[head_end + 4..].to_vec()))
}

impl Moto {
    /// Starts a server and waits (at most 15 s) until `GET /moto-api/` answers.
    ///
    /// The server runs under `sh`, which waits on its stdin (a pipe from this process) and
    /// stops the server when the pipe closes: on drop, and also when the test process dies
    /// without running destructors.
    pub fn start() -> Result<Moto, String> {
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start() {
                Ok(m) => return Ok(m),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    fn try_start() -> Result<Moto, String> {
        let port = free_port()?;
        let recording =
            std::env::temp_dir().join(format!("phananh-moto-{}-{port}.jsonl", std::process::id()));
        let moto = moto_server_path();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & m=$!; read -r _ignored; kill "$m" 2>/dev/null; wait "$m"; rm -f "$2""#)
            .arg(&moto)
            .arg(port.to_string())
            .arg(&recording)
            // Atomic conditional writes, as DynamoDB guarantees (tests/moto_site/sitecustomize.py).
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/moto_site"),
            )
            // Cognito checks TOTP codes (issue 12's second factor), as the real service does.
            .env("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", moto.display()))?;
        let watch = child.stdin.take();
        let mut m = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            recording,
            child,
            watch,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok((200, _)) = http(port, "GET", "/moto-api/") {
                return Ok(m);
            }
            if let Ok(Some(status)) = m.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before answering; run scripts/tools.sh",
                    moto.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "moto on port {port} not ready within {READY_TIMEOUT:?}"
        ))
    }

    /// One server for the whole test binary; the SDK environment of this process points at
    /// it. Panics when moto cannot start (the AWS tests cannot run without it).
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| {
            let m = Moto::start().unwrap_or_else(|e| panic!("moto: {e}"));
            // Set once, before any client of this process is built.
            for (k, v) in [
                ("AWS_ENDPOINT_URL", m.endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", REGION),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("PHANANH_S3_PATH_STYLE", "1"),
            ] {
                std::env::set_var(k, v);
            }
            std::env::remove_var("AWS_PROFILE");
            std::env::remove_var("AWS_SESSION_TOKEN");
            m
        })
    }

    /// Every request the server received so far (moto's recorder), as JSON objects with
    /// `method`, `url`, `headers` and the decoded `body` text.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let raw = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"].as_bool() == Some(true) {
                    base64_decode(raw)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                } else {
                    raw.to_string()
                };
                RecordedRequest {
                    method: v["method"].as_str().unwrap_or_default().to_string(),
                    url: v["url"].as_str().unwrap_or_default().to_string(),
                    headers: v["headers"]
                        .as_object()
                        .map(|h| {
                            h.iter()
                                .map(|(k, v)| {
                                    (
                                        k.to_ascii_lowercase(),
                                        v.as_str().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    body,
                }
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.watch.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = std::fs::remove_file(&self.recording);
    }
}

/// One request seen by moto.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl RecordedRequest {
    /// The operation of a JSON-protocol request (`X-Amz-Target: Service.Operation`, e.g.
    /// DynamoDB, Cognito) or of a query-protocol one (`Action=` of the form body: SNS, SQS).
    pub fn operation(&self) -> Option<String> {
        if let Some(t) = self.headers.get("x-amz-target") {
            return t.rsplit('.').next().map(str::to_string);
        }
        self.form().get("Action").cloned()
    }

    /// The parameters of an AWS query-protocol body (`Action=Publish&...`), decoded.
    pub fn form(&self) -> HashMap<String, String> {
        self.body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect()
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 (moto's recorder encodes request bodies with it).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A consumer queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct QueuePair {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

/// Resources of one test, mirroring `template.yaml`, plus two test taps.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub settings: AwsSettings,
    pub clients: AwsClients,
    /// `classify`, `notify`, `publish` → their queues (filtered subscriptions, raw delivery).
    pub queues: HashMap<&'static str, QueuePair>,
    /// Test only: every event of the events topic (no filter, raw delivery).
    pub events_tap_url: String,
    /// Test only: every alert of the alerts topic (no filter, SNS envelope kept).
    pub alerts_tap_url: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Creates, under unique names, the table (with every GSI and TTL), the bucket, the events
/// and alerts topics, one queue + DLQ (maxReceiveCount 5) per consumer subscribed to the
/// events topic with its filter policy and raw message delivery, and the test taps.
/// Uses [`Moto::shared`] (and its SDK environment).
pub async fn provision() -> Result<Provisioned, String> {
    let _ = Moto::shared();
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let suffix = &suffix[suffix.len() - 12..];
    let settings = AwsSettings {
        table: format!("phananh-{suffix}"),
        bucket: format!("phananh-media-{suffix}"),
        events_topic_arn: String::new(),
        alerts_topic_arn: String::new(),
        s3_path_style: true,
        sms_sender_id: Some("LaiChau".into()),
        sms_country_code: "84".into(),
        ses_from: None,
    };
    let clients = AwsClients::from_env(&settings).await;

    phananh_aws::table::create_table(&clients.dynamodb, &settings.table)
        .await
        .map_err(err)?;

    use phananh_aws::aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    clients
        .s3
        .create_bucket()
        .bucket(&settings.bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .map_err(|e| phananh_aws::aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;

    let topic = |name: String| {
        let sns = clients.sns.clone();
        async move {
            sns.create_topic()
                .name(name)
                .send()
                .await
                .map_err(|e| phananh_aws::aws_sdk_sns::error::DisplayErrorContext(e).to_string())?
                .topic_arn
                .ok_or_else(|| "topic without arn".to_string())
        }
    };
    let events_arn = topic(format!("phananh-events-{suffix}")).await?;
    let alerts_arn = topic(format!("phananh-alerts-{suffix}")).await?;

    let mut queues = HashMap::new();
    for c in CONSUMERS {
        let pair = consumer_queues(&clients, &c, suffix).await?;
        subscribe(
            &clients,
            &events_arn,
            &pair.arn,
            Some(c.filter_policy()),
            true,
        )
        .await?;
        queues.insert(c.name(), pair);
    }
    let (events_tap_url, events_tap_arn) =
        create_queue(&clients, &format!("events-tap-{suffix}"), None).await?;
    subscribe(&clients, &events_arn, &events_tap_arn, None, true).await?;
    let (alerts_tap_url, alerts_tap_arn) =
        create_queue(&clients, &format!("alerts-tap-{suffix}"), None).await?;
    subscribe(&clients, &alerts_arn, &alerts_tap_arn, None, false).await?;

    Ok(Provisioned {
        settings: AwsSettings {
            events_topic_arn: events_arn,
            alerts_topic_arn: alerts_arn,
            ..settings
        },
        clients,
        queues,
        events_tap_url,
        alerts_tap_url,
    })
}

/// A fresh staff user pool, created as `template.yaml` declares it. Returns the pool id.
pub async fn provision_user_pool(clients: &AwsClients) -> Result<String, String> {
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let client = phananh_aws::aws_sdk_cognitoidentityprovider::Client::new(&clients.config);
    phananh_aws::cognito::create_staff_pool(
        &client,
        &format!("phananh-{}", &suffix[suffix.len() - 12..]),
    )
    .await
    .map_err(|e| e.to_string())
}

/// Only a fresh table (for the store suites, which need no topics or queues).
pub async fn provision_table() -> Result<(AwsClients, AwsSettings), String> {
    provision_table_with(true).await
}

/// [`provision_table`] without the table's stream: for the suites that race writers
/// (`phananh_aws::table::create_table_with` says why).
pub async fn provision_table_without_stream() -> Result<(AwsClients, AwsSettings), String> {
    provision_table_with(false).await
}

async fn provision_table_with(stream: bool) -> Result<(AwsClients, AwsSettings), String> {
    let _ = Moto::shared();
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let settings = AwsSettings {
        table: format!("phananh-{}", &suffix[suffix.len() - 12..]),
        bucket: String::new(),
        events_topic_arn: String::new(),
        alerts_topic_arn: String::new(),
        s3_path_style: true,
        sms_sender_id: None,
        sms_country_code: "84".into(),
        ses_from: None,
    };
    let clients = AwsClients::from_env(&settings).await;
    phananh_aws::table::create_table_with(&clients.dynamodb, &settings.table, stream)
        .await
        .map_err(err)?;
    Ok((clients, settings))
}

async fn create_queue(
    clients: &AwsClients,
    name: &str,
    redrive_to: Option<&str>,
) -> Result<(String, String), String> {
    let mut req = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "30");
    if let Some(dlq_arn) = redrive_to {
        req = req.attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({
                "deadLetterTargetArn": dlq_arn,
                "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
            })
            .to_string(),
        );
    }
    let url = req
        .send()
        .await
        .map_err(|e| phananh_aws::aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?
        .queue_url
        .ok_or("queue without url")?;
    let attrs = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| phananh_aws::aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    let arn = attrs
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or("queue without arn")?;
    Ok((url, arn))
}

async fn consumer_queues(
    clients: &AwsClients,
    c: &Consumer,
    suffix: &str,
) -> Result<QueuePair, String> {
    let (dlq_url, dlq_arn) =
        create_queue(clients, &format!("{}-dlq-{suffix}", c.name()), None).await?;
    let (url, arn) =
        create_queue(clients, &format!("{}-{suffix}", c.name()), Some(&dlq_arn)).await?;
    Ok(QueuePair { url, arn, dlq_url })
}

async fn subscribe(
    clients: &AwsClients,
    topic_arn: &str,
    queue_arn: &str,
    filter_policy: Option<String>,
    raw: bool,
) -> Result<(), String> {
    let mut req = clients
        .sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", if raw { "true" } else { "false" });
    if let Some(p) = filter_policy {
        req = req.attributes("FilterPolicy", p);
    }
    req.send()
        .await
        .map_err(|e| phananh_aws::aws_sdk_sns::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}

/// Receives up to 10 messages (waiting at most `wait_secs`), with the given visibility
/// timeout, as the Lambda event an SQS event source mapping would deliver.
pub async fn receive_as_lambda_event(
    clients: &AwsClients,
    queue_url: &str,
    visibility_timeout: i32,
    wait_secs: i32,
) -> Result<SqsEvent, String> {
    let out = clients
        .sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .visibility_timeout(visibility_timeout)
        .wait_time_seconds(wait_secs)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(|e| phananh_aws::aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    let mut event = SqsEvent::default();
    for m in out.messages.unwrap_or_default() {
        let mut msg = SqsMessage::default();
        msg.message_id = m.message_id;
        msg.receipt_handle = m.receipt_handle;
        msg.body = m.body;
        msg.event_source = Some("aws:sqs".into());
        event.records.push(msg);
    }
    Ok(event)
}

/// Deletes the messages of `event` that are not listed as failures (what Lambda does after a
/// handler returned a partial batch response).
pub async fn delete_succeeded(
    clients: &AwsClients,
    queue_url: &str,
    event: &SqsEvent,
    failed_ids: &[String],
) -> Result<(), String> {
    for m in &event.records {
        let id = m.message_id.clone().unwrap_or_default();
        if failed_ids.contains(&id) {
            continue;
        }
        if let Some(h) = &m.receipt_handle {
            clients
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(h)
                .send()
                .await
                .map_err(|e| phananh_aws::aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        }
    }
    Ok(())
}

/// Receives and deletes every message currently in the queue (bounded), returning bodies.
pub async fn drain_bodies(clients: &AwsClients, queue_url: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for _ in 0..20 {
        let ev = receive_as_lambda_event(clients, queue_url, 30, 0).await?;
        if ev.records.is_empty() {
            break;
        }
        delete_succeeded(clients, queue_url, &ev, &[]).await?;
        out.extend(ev.records.into_iter().filter_map(|m| m.body));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_handle_aws_query_bodies() {
        assert_eq!(
            base64_decode("QWN0aW9uPVB1Ymxpc2g=").unwrap(),
            b"Action=Publish"
        );
        assert_eq!(form_decode("Ph%E1%BA%A3n+%C3%A1nh%2B1%"), "Phản ánh+1%");
    }
}
