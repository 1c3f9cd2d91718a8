//! The SQS side of the Lambda consumers: unwrap each message (SNS envelope or raw), parse the
//! `EventEnvelope`, run the handler, and report partial batch failures so a bad message goes
//! to the DLQ after `maxReceiveCount` without holding back the good ones.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use phananh_core::model::EventEnvelope;
use std::fmt::Display;
use std::future::Future;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SqsMessageError {
    #[error("message without body")]
    NoBody,
    #[error("body is not an event envelope: {0}")]
    Unparseable(String),
}

/// The event of one SQS message body: either the envelope itself (SNS raw message delivery
/// on) or an SNS notification whose `Message` holds it (raw delivery off).
pub fn unwrap_envelope(body: &str) -> Result<EventEnvelope, SqsMessageError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| SqsMessageError::Unparseable(e.to_string()))?;
    let is_sns = value.get("Type").and_then(|t| t.as_str()) == Some("Notification");
    let inner = match (is_sns, value.get("Message").and_then(|m| m.as_str())) {
        (true, Some(message)) => serde_json::from_str(message)
            .map_err(|e| SqsMessageError::Unparseable(e.to_string()))?,
        _ => value,
    };
    serde_json::from_value(inner).map_err(|e| SqsMessageError::Unparseable(e.to_string()))
}

/// Runs `handler` on each message of the batch, in order, and lists the message ids that
/// failed (unparseable body or handler error) in `batch_item_failures`. Requires
/// `FunctionResponseTypes: [ReportBatchItemFailures]` on the event source (template.yaml).
pub async fn process_sqs_batch<F, Fut, E>(event: SqsEvent, handler: F) -> SqsBatchResponse
where
    F: Fn(EventEnvelope) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut response = SqsBatchResponse::default();
    for msg in event.records {
        let message_id = msg.message_id.clone().unwrap_or_default();
        let envelope = match msg.body.as_deref() {
            None => Err(SqsMessageError::NoBody),
            Some(body) => unwrap_envelope(body),
        };
        let result = match envelope {
            Err(e) => {
                tracing::error!(message_id = %message_id, error = %e, "unparseable message");
                Err(())
            }
            Ok(env) => {
                let report_id = env.report_id.clone();
                let event_id = env.id.clone();
                match handler(env).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        tracing::warn!(report_id = %report_id, event_id = %event_id, message_id = %message_id, error = %e, "handler failed");
                        Err(())
                    }
                }
            }
        };
        if result.is_err() {
            if message_id.is_empty() {
                // Without an id the failure cannot be reported per item: fail the whole batch
                // by reporting an identifier Lambda does not know (it retries everything).
                tracing::error!("failed message has no message id");
                response.add_failure("unknown");
            } else {
                response.add_failure(message_id);
            }
        }
    }
    response
}
