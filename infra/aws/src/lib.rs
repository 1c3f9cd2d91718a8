//! AWS adapters of the phananh ports.
//!
//! - [`DynamoReportStore`]: `ReportStore` + `AccountStore` on one DynamoDB table (see
//!   `docs/aws.md` for the key design and access patterns; [`table`] holds the schema).
//! - [`S3MediaStore`]: `MediaStore` on a private, encrypted S3 bucket (presigned PUT/GET).
//! - [`SnsEventBus`]: `EventBus` on the events SNS topic (message attribute `event_type`).
//! - [`SnsNotifier`]: `Notifier` over SNS (SMS direct publish, e-mail through the alerts topic
//!   filtered by `unit`/`to`), deduplicated by notification id in DynamoDB.
//! - [`sqs`]: the partial-batch SQS consumer helper of the Lambda consumers.
//!
//! Clients are built once per cold start by [`AwsClients::from_env`]; the endpoint comes only
//! from the SDK's standard configuration (`AWS_ENDPOINT_URL`, ...), so the same code runs on
//! AWS and against a local emulator.

pub mod dynamo;
pub mod s3;
pub mod settings;
pub mod sns;
pub mod sqs;
pub mod table;

pub use dynamo::DynamoReportStore;
pub use s3::S3MediaStore;
pub use settings::{AwsClients, AwsSettings, SettingsError};
pub use sns::{SnsEventBus, SnsNotifier};
pub use sqs::{process_sqs_batch, unwrap_envelope, SqsMessageError};
