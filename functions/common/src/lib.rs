//! What every phananh Lambda function shares. Each function's `main.rs` is wiring only:
//! build [`Runtime`] once per cold start, then hand one of the handlers below to the runtime.
//! The handlers are plain async fns, driven in tests with the samples in `events/`.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
#[cfg(feature = "http")]
use phananh_aws::cognito::ENV_USER_POOL_ID;
#[cfg(feature = "http")]
use phananh_aws::CognitoAccounts;
use phananh_aws::{
    AwsClients, AwsSettings, DynamoReportStore, S3MediaStore, SnsEventBus, SnsNotifier,
};
use phananh_core::app::{App, Ports};
use phananh_core::media::UploadCheck;
use phananh_core::ports::{AccountStore, SystemClock, UuidV7Ids};
use phananh_core::CityRules;
#[cfg(feature = "http")]
use phananh_http::auth::{Argon2Passwords, TokenService};
use std::sync::Arc;
use tracing::{info, warn};

#[cfg(feature = "http")]
mod api;
#[cfg(feature = "http")]
pub use api::*;

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
    #[error("{ENV_TOKEN_SECRET} must hold at least {MIN_TOKEN_SECRET_CHARS} characters")]
    WeakTokenSecret,
    #[error("personal-data keys: {0}")]
    PiiKeys(#[from] phananh_aws::kms::KmsKeyError),
    #[error("PHANANH_CITY={0}: no such bundled city configuration (bundled: laichau); set PHANANH_CONFIG_DIR for another city")]
    UnknownCity(String),
}

/// The secret of the citizens' app tokens (citizen function only; docs/decisions/cognito-pools.md).
pub const ENV_TOKEN_SECRET: &str = "PHANANH_TOKEN_SECRET";
/// Shortest accepted token secret (the template's `AppTokenSecret` has the same minimum).
pub const MIN_TOKEN_SECRET_CHARS: usize = 32;

/// Everything a function needs, built once per cold start and reused by every invocation.
#[derive(Clone)]
pub struct Runtime {
    pub app: App,
    pub bus: Arc<SnsEventBus>,
    pub settings: AwsSettings,
    /// The citizens' app tokens, where this function serves citizens (`PHANANH_TOKEN_SECRET`).
    #[cfg(feature = "http")]
    pub tokens: Option<TokenService>,
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
        #[cfg(feature = "http")]
        {
            let pool = std::env::var(ENV_USER_POOL_ID)
                .ok()
                .filter(|p| !p.trim().is_empty());
            let tokens = match std::env::var(ENV_TOKEN_SECRET) {
                Ok(secret) if secret.chars().count() >= MIN_TOKEN_SECRET_CHARS => {
                    Some(TokenService::new(secret))
                }
                Ok(_) => return Err(InitError::WeakTokenSecret),
                Err(_) => None,
            };
            let mut rt = Runtime::with_accounts(&clients, settings, rules, pool.as_deref());
            rt.tokens = tokens;
            rt.with_pii_keys(&clients).await
        }
        #[cfg(not(feature = "http"))]
        Runtime::new(&clients, settings, rules)
            .with_pii_keys(&clients)
            .await
    }

    /// The runtime with accounts in the table (no user pool) and no citizen tokens.
    pub fn new(clients: &AwsClients, settings: AwsSettings, rules: CityRules) -> Runtime {
        let store = Arc::new(DynamoReportStore::from_settings(clients, &settings));
        Runtime::build(clients, settings, rules, store.clone(), store)
    }

    /// The runtime; with `user_pool_id`, staff accounts are the Cognito pool's users (the
    /// staff and console functions, where staff sign in at Cognito), else table items.
    #[cfg(feature = "http")]
    pub fn with_accounts(
        clients: &AwsClients,
        settings: AwsSettings,
        rules: CityRules,
        user_pool_id: Option<&str>,
    ) -> Runtime {
        let store = Arc::new(DynamoReportStore::from_settings(clients, &settings));
        let accounts: Arc<dyn AccountStore> = match user_pool_id {
            Some(pool) => Arc::new(CognitoAccounts::from_clients(clients, pool)),
            None => store.clone(),
        };
        Runtime::build(clients, settings, rules, store, accounts)
    }

    fn build(
        clients: &AwsClients,
        settings: AwsSettings,
        rules: CityRules,
        store: Arc<DynamoReportStore>,
        accounts: Arc<dyn AccountStore>,
    ) -> Runtime {
        let bus = Arc::new(SnsEventBus::from_settings(clients, &settings));
        let notifier = Arc::new(SnsNotifier::from_settings(clients, &settings));
        let app = App::new(
            Arc::new(rules),
            Ports {
                store: store.clone(),
                accounts,
                media: Arc::new(S3MediaStore::from_settings(clients, &settings)),
                notifier: notifier.clone(),
                clock: Arc::new(SystemClock),
                ids: Arc::new(UuidV7Ids),
                #[cfg(feature = "http")]
                passwords: Arc::new(Argon2Passwords),
                #[cfg(not(feature = "http"))]
                passwords: Arc::new(NoPasswords),
            },
        )
        .with_publisher(Some(bus.clone()))
        // The notifier's records are the delivery log the office and the IOC read (Đ.7.2).
        .with_delivery_log(Some(notifier))
        .with_guards(Arc::new(phananh_aws::DynamoGuards::from_settings(
            clients, &settings,
        )))
        // Upload slots and the daily quota as table items (one conditional write per slot).
        .with_upload_slots(Arc::new(phananh_aws::DynamoSlots::from_settings(
            clients, &settings,
        )))
        // The bucket's lifecycle rule expires uploads/ (template.yaml): no delete per attachment.
        .with_uploads_left_to_expire(true)
        // Statistics read from the month items; counted only by the stats consumer, so the
        // API functions make no extra call per change.
        .with_aggregates(
            Arc::new(phananh_aws::DynamoAggregates::from_settings(
                clients, &settings,
            )),
            false,
        );
        let app = trust::with_audit_key(app);
        Runtime {
            app,
            bus,
            settings,
            #[cfg(feature = "http")]
            tokens: None,
        }
    }
}

/// An SQS consumer (classify, notify, publish): every message is one domain event; failures
/// are reported per message so the rest of the batch is not retried with it.
pub async fn consume(
    rt: &Runtime,
    consumer: Consumer,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    if consumer == Consumer::Stats {
        if let Some(resp) = count_stats_batch(rt, &event.payload).await {
            return Ok(resp);
        }
    }
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

/// The statistics consumer's batch counted at once (`App::count_batch`: one DynamoDB
/// transaction for the whole SQS batch, issue 10). `None` when the batch is to be handled
/// message by message instead, which reports each failure on its own: a message that cannot
/// be read or has no id, or the batch's counting failed (applying again is idempotent).
async fn count_stats_batch(rt: &Runtime, event: &SqsEvent) -> Option<SqsBatchResponse> {
    let mut envs = Vec::with_capacity(event.records.len());
    for msg in &event.records {
        msg.message_id.as_ref().filter(|m| !m.is_empty())?;
        envs.push(phananh_aws::unwrap_envelope(msg.body.as_deref()?).ok()?);
    }
    match rt.app.count_batch(&envs).await {
        Ok(()) => Some(SqsBatchResponse::default()),
        Err(e) => {
            for env in &envs {
                warn!(report_id = %env.report_id, event_id = %env.id, error = %e, "stats: batch not counted; one by one");
            }
            None
        }
    }
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
    anchor::daily(rt).await;
    Ok(n)
}

/// The relay (DynamoDB Streams event source on the table): publishes to the events topic the
/// events written with each change, in stream order. A failed publish fails the batch, which
/// the event source mapping retries (bisecting it) and finally sends to the on-failure queue:
/// no event is dropped silently; consumers are idempotent, so a retried batch is harmless.
pub async fn relay_stream(
    rt: &Runtime,
    event: LambdaEvent<phananh_aws::dynamo::stream::StreamEvent>,
) -> Result<usize, Error> {
    use phananh_core::ports::EventBus;
    let mut batch = phananh_aws::dynamo::stream::events_of(&event.payload);
    for seq in &batch.unreadable {
        tracing::error!(sequence_number = %seq, "stream record of an event item that cannot be read: skipped");
    }
    // The topic's only subscribers are the consumers' queues, filtered by their kinds: an
    // event none of them receives (an acceptance, ...) would be published for nobody.
    batch.events.retain(|env| {
        let received = has_consumer(env);
        if !received {
            info!(report_id = %env.report_id, event_id = %env.id, kind = env.kind(), "event no consumer receives: not published");
        }
        received
    });
    if batch.events.is_empty() {
        return Ok(0);
    }
    if let Err(e) = rt.bus.publish(&batch.events).await {
        for env in &batch.events {
            warn!(report_id = %env.report_id, event_id = %env.id, error = %e, "publish failed; the batch is retried");
        }
        return Err(e.to_string().into());
    }
    for env in &batch.events {
        info!(report_id = %env.report_id, event_id = %env.id, kind = env.kind(), "event published");
    }
    Ok(batch.events.len())
}

pub use phananh_core::app::Consumer;

/// Whether some consumer receives the event (the SNS subscriptions' filter policies are
/// built from [`Consumer::kinds`], checked by the topology test).
pub fn has_consumer(env: &phananh_core::model::EventEnvelope) -> bool {
    let kind = env.event.event_kind();
    Consumer::ALL.iter().any(|c| c.kinds().contains(&kind))
}

mod anchor;

/// The password port of functions that never see a password (consumers, timers, media):
/// staff sign in at Cognito and only the API functions manage accounts.
#[cfg(not(feature = "http"))]
struct NoPasswords;

#[cfg(not(feature = "http"))]
#[async_trait::async_trait]
impl phananh_core::ports::PasswordHasher for NoPasswords {
    async fn hash(&self, _password: &str) -> Result<String, phananh_core::ports::StoreError> {
        Err(phananh_core::ports::StoreError::Backend(
            "this function handles no passwords".into(),
        ))
    }
    async fn verify(&self, _password: &str, _phc: Option<&str>) -> bool {
        false
    }
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
