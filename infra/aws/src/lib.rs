//! AWS adapters of the phananh ports.
//!
//! - [`DynamoReportStore`]: `ReportStore` + `AccountStore` on one DynamoDB table (see
//!   `docs/aws.md` for the key design and access patterns; [`table`] holds the schema).
//! - [`S3MediaStore`]: `MediaStore` on a private, encrypted S3 bucket (presigned POST upload, GET).
//! - [`SnsEventBus`]: `EventBus` on the events SNS topic (message attribute `event_type`).
//! - [`SnsNotifier`]: `Notifier` over SNS (SMS direct publish, e-mail through the alerts topic
//!   filtered by `unit`/`to`), deduplicated by notification id in DynamoDB.
//! - [`CognitoAccounts`]: `AccountStore` on the Cognito staff user pool (admin API).
//! - [`sqs`]: the partial-batch SQS consumer helper of the Lambda consumers.
//!
//! Clients are built once per cold start by [`AwsClients::from_env`]; the endpoint comes only
//! from the SDK's standard configuration (`AWS_ENDPOINT_URL`, ...), so the same code runs on
//! AWS and against a local emulator.

pub mod anchors;
pub mod capacity;
pub mod cognito;
pub mod deliveries;
pub mod dynamo;
pub mod guards;
pub mod iam;
pub mod kms;
pub mod ops;
pub mod s3;
pub mod ses;
pub mod settings;
pub mod slots;
pub mod sns;
pub mod sqs;
pub mod stats;
pub mod table;
pub mod topology;

// The SDK crates, so function crates and tests use the exact versions the adapters use.
pub use aws_config;
pub use aws_lambda_events;
#[cfg(feature = "cognito")]
pub use aws_sdk_cognitoidentityprovider;
pub use aws_sdk_dynamodb;
pub use aws_sdk_kms;
pub use aws_sdk_s3;
pub use aws_sdk_sesv2;
pub use aws_sdk_sns;
pub use aws_sdk_sqs;

#[cfg(feature = "cognito")]
pub use cognito::CognitoAccounts;
pub use dynamo::DynamoReportStore;
pub use guards::DynamoGuards;
pub use s3::S3MediaStore;
pub use ses::SesMailer;
pub use settings::{AwsClients, AwsSettings, SettingsError};
pub use slots::DynamoSlots;
pub use sns::{SnsEventBus, SnsNotifier};
pub use sqs::{process_sqs_batch, unwrap_envelope, SqsMessageError};
pub use stats::DynamoAggregates;

impl DynamoReportStore {
    /// The store of the table in `settings`.
    pub fn from_settings(clients: &AwsClients, settings: &AwsSettings) -> Self {
        DynamoReportStore::new(clients.dynamodb.clone(), &settings.table)
    }
}

impl S3MediaStore {
    /// The media store of the bucket in `settings`.
    pub fn from_settings(clients: &AwsClients, settings: &AwsSettings) -> Self {
        S3MediaStore::new(clients.s3.clone(), &settings.bucket)
            .with_credentials(clients.credentials.clone())
    }
}

impl SnsEventBus {
    /// The bus of the events topic in `settings`.
    pub fn from_settings(clients: &AwsClients, settings: &AwsSettings) -> Self {
        SnsEventBus::new(clients.sns.clone(), &settings.events_topic_arn)
    }
}

#[cfg(feature = "cognito")]
impl CognitoAccounts {
    /// The accounts of the staff user pool `user_pool_id`.
    pub fn from_clients(clients: &AwsClients, user_pool_id: &str) -> Self {
        CognitoAccounts::new(
            aws_sdk_cognitoidentityprovider::Client::new(&clients.config),
            user_pool_id,
        )
    }
}
