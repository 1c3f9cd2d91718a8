//! What every phananh Lambda function shares. Each function's `main.rs` is wiring only:
//! build [`Runtime`] once per cold start, then hand one of the handlers below to the runtime.
//! The handlers are plain async fns, driven in tests with the samples in `events/`.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use http::request::Parts;
use lambda_http::request::RequestContext;
use phananh_aws::settings::ConsoleSettings;
use phananh_aws::{
    AwsClients, AwsSettings, DynamoReportStore, S3MediaStore, SnsEventBus, SnsNotifier,
};
use phananh_core::app::{App, Ports};
use phananh_core::media::UploadCheck;
use phananh_core::model::Actor;
use phananh_core::ports::{SystemClock, UuidV7Ids};
use phananh_core::CityRules;
use phananh_http::auth::{Argon2Passwords, Authenticator};
use phananh_http::console::cognito::{self, CognitoConfig};
use phananh_http::console::ConsoleConfig;
use phananh_http::problem::Problem;
use phananh_http::HttpState;
use std::sync::Arc;
use tracing::{info, warn};

pub use lambda_runtime::{Error, LambdaEvent};

pub mod trust;

/// JSON logs (CloudWatch), level from `RUST_LOG` (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        // No phone number or e-mail address leaves in a log line (Đ.4.2).
        .with_writer(|| phananh_core::redact::RedactingWriter::new(std::io::stdout()))
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .try_init();
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("settings: {0}")]
    Settings(#[from] phananh_aws::SettingsError),
    #[error("city configuration: {0}")]
    Config(#[from] phananh_core::config::ConfigErrors),
    #[error("PHANANH_CITY={0}: no such bundled city configuration (bundled: laichau); set PHANANH_CONFIG_DIR for another city")]
    UnknownCity(String),
}

/// Everything a function needs, built once per cold start and reused by every invocation.
#[derive(Clone)]
pub struct Runtime {
    pub app: App,
    pub bus: Arc<SnsEventBus>,
    pub settings: AwsSettings,
}

impl Runtime {
    /// Reads the settings from the environment and builds the clients and adapters. The AWS
    /// endpoint comes only from the SDK's own configuration (`AWS_ENDPOINT_URL`).
    pub async fn from_env() -> Result<Runtime, InitError> {
        let settings = AwsSettings::from_env()?;
        let clients = AwsClients::from_env(&settings).await;
        // A config folder shipped with the function wins; else the bundled city named by
        // the template's CityConfig parameter.
        let rules = match std::env::var("PHANANH_CONFIG_DIR") {
            Ok(dir) => CityRules::load_dir(std::path::Path::new(&dir))?,
            Err(_) => match std::env::var("PHANANH_CITY").as_deref() {
                Ok("laichau") | Err(_) => CityRules::laichau_default()?,
                Ok(other) => return Err(InitError::UnknownCity(other.to_string())),
            },
        };
        Ok(Runtime::new(&clients, settings, rules))
    }

    pub fn new(clients: &AwsClients, settings: AwsSettings, rules: CityRules) -> Runtime {
        let store = Arc::new(DynamoReportStore::from_settings(clients, &settings));
        let bus = Arc::new(SnsEventBus::from_settings(clients, &settings));
        let app = App::new(
            Arc::new(rules),
            Ports {
                store: store.clone(),
                accounts: store,
                media: Arc::new(S3MediaStore::from_settings(clients, &settings)),
                notifier: Arc::new(SnsNotifier::from_settings(clients, &settings)),
                clock: Arc::new(SystemClock),
                ids: Arc::new(UuidV7Ids),
                passwords: Arc::new(Argon2Passwords),
            },
        )
        .with_publisher(Some(bus.clone()))
        .with_guards(Arc::new(phananh_aws::DynamoGuards::from_settings(
            clients, &settings,
        )));
        let app = trust::with_audit_key(app);
        Runtime { app, bus, settings }
    }

    /// The shared HTTP layer with identities from API Gateway's JWT authorizer (Cognito), and
    /// the console signing in through the user pool's hosted UI when the console settings
    /// (`COGNITO_DOMAIN`, `COGNITO_CLIENT_ID`, `COGNITO_USER_POOL_ID`, `CONSOLE_BASE_URL`)
    /// are set; without them the console answers that sign-in is not configured.
    pub fn http_state(&self) -> HttpState {
        let console = match ConsoleSettings::from_env() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "console sign-in settings are incomplete: console disabled");
                None
            }
        };
        self.http_state_with(console.as_ref())
    }

    /// [`Runtime::http_state`] with the console settings given.
    pub fn http_state_with(&self, console: Option<&ConsoleSettings>) -> HttpState {
        HttpState {
            app: self.app.clone(),
            auth: Arc::new(ApiGatewayJwtAuth),
            tokens: None,
            console: console_config(console),
        }
    }
}

/// The console's sessions and sign-in: Cognito ID tokens verified against the pool's keys
/// (cached, fetched in the background at start), the hosted UI with PKCE, secure cookies.
pub fn console_config(settings: Option<&ConsoleSettings>) -> ConsoleConfig {
    match settings {
        Some(s) => cognito::console_config(CognitoConfig::for_pool(
            &s.cognito_domain,
            &s.client_id,
            &s.region,
            &s.user_pool_id,
            &s.base_url,
        )),
        None => cognito::unconfigured_console(),
    }
}

/// Identity from the claims API Gateway's JWT authorizer verified (Cognito user pool):
/// `sub` → id, `cognito:groups` → role, `custom:unit` → unit. Requests without an
/// authorizer context are anonymous.
pub struct ApiGatewayJwtAuth;

/// Parses the groups claim as HTTP APIs pass it: `[a b]`, `a,b` or `["a","b"]`.
pub use phananh_http::console::cognito::parse_groups;

impl Authenticator for ApiGatewayJwtAuth {
    fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, Problem> {
        let Some(ctx) = parts.extensions.get::<RequestContext>() else {
            return Ok(None);
        };
        let Some(claims) = ctx
            .authorizer()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims)
        else {
            return Ok(None);
        };
        // The one Cognito identity mapping, shared with the console's ID tokens.
        let groups = claims
            .get("cognito:groups")
            .map(|g| parse_groups(g))
            .unwrap_or_default();
        cognito::actor_from_claims(
            claims.get("sub").map(String::as_str),
            &groups,
            claims.get("custom:unit").map(String::as_str),
        )
        .map(Some)
    }
}

/// An SQS consumer (classify, notify, publish): every message is one domain event; failures
/// are reported per message so the rest of the batch is not retried with it.
pub async fn consume(
    rt: &Runtime,
    consumer: Consumer,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let app = rt.app.clone();
    let resp = phananh_aws::process_sqs_batch(event.payload, move |env| {
        let app = app.clone();
        async move {
            let r = app.handle_event(consumer, &env).await;
            if let Err(e) = &r {
                warn!(report_id = %env.report_id, consumer = consumer.as_str(), error = %e, "event handling failed");
            }
            r
        }
    })
    .await;
    Ok(resp)
}

/// The media function's S3 ObjectCreated handler: checks each new upload. Unknown or foreign
/// keys are ignored and logged; the function fails only on infrastructure errors (retried).
pub async fn media_event(
    rt: &Runtime,
    event: LambdaEvent<S3Event>,
) -> Result<Vec<UploadCheck>, Error> {
    let mut out = Vec::new();
    for rec in event.payload.records {
        let bucket = rec.s3.bucket.name.unwrap_or_default();
        let Some(raw_key) = rec.s3.object.key else {
            warn!("S3 record without a key: ignored");
            continue;
        };
        if bucket != rt.settings.bucket {
            warn!(bucket = %bucket, key = %raw_key, "S3 event from a foreign bucket: ignored");
            out.push(UploadCheck::Ignored {
                reason: "foreign bucket".into(),
            });
            continue;
        }
        // S3 event keys are URL-encoded (spaces as '+').
        let key = url_decode(&raw_key.replace('+', " "));
        out.push(rt.app.check_upload(&key).await?);
    }
    Ok(out)
}

/// Decodes `%XX` escapes (S3 event keys are URL-encoded), working on bytes: a `%` not
/// followed by two hex digits (too near the end, a sign, a multi-byte character) is kept as
/// it is, and bytes that do not form UTF-8 become U+FFFD.
pub fn url_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex);
            let lo = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The escalation timer (EventBridge schedule): sends every threshold due now, once.
pub async fn escalate(rt: &Runtime, _event: LambdaEvent<EventBridgeEvent>) -> Result<usize, Error> {
    let n = rt.app.run_escalations(500).await?;
    info!(count = n, "escalation pass");
    Ok(n)
}

/// The outbox relay (EventBridge schedule): publishes events a crash left unpublished.
pub async fn relay(rt: &Runtime, _event: LambdaEvent<EventBridgeEvent>) -> Result<usize, Error> {
    let n = rt.app.relay_outbox(rt.bus.as_ref(), 500).await?;
    if n > 0 {
        warn!(count = n, "relayed events left in the outbox");
    }
    Ok(n)
}

pub use phananh_core::app::Consumer;

/// The router type the API function serves.
pub type Router = phananh_http::Router;

/// The shared HTTP layer with this runtime's state.
pub fn router(rt: &Runtime) -> Router {
    trust::with_client_addr(phananh_http::router(rt.http_state()))
}

/// The whole `main` of a consumer function: runtime once per cold start, then SQS batches.
pub async fn run_consumer(consumer: Consumer) -> Result<(), Error> {
    init_tracing();
    let rt = Runtime::from_env().await?;
    let rt = &rt;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |e: LambdaEvent<SqsEvent>| consume(rt, consumer, e),
    ))
    .await
}
