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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use phananh_core::model::{DomainEvent, ReportId};

    fn envelope() -> EventEnvelope {
        EventEnvelope {
            id: "r1:1:0".into(),
            report_id: ReportId("r1".into()),
            version: 1,
            at: chrono::DateTime::UNIX_EPOCH,
            event: DomainEvent::ReportSubmitted,
            stats: None,
            notify: None,
        }
    }

    fn message(id: &str, body: Option<String>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = body;
        m
    }

    #[test]
    fn raw_and_sns_wrapped_bodies_give_the_same_envelope() {
        let raw = serde_json::to_string(&envelope()).unwrap();
        let wrapped = serde_json::json!({
            "Type": "Notification",
            "MessageId": "m",
            "TopicArn": "arn:aws:sns:ap-southeast-1:123456789012:events",
            "Message": raw,
            "MessageAttributes": {"event_type": {"Type": "String", "Value": "report_submitted"}}
        })
        .to_string();
        assert_eq!(unwrap_envelope(&raw), Ok(envelope()));
        assert_eq!(unwrap_envelope(&wrapped), Ok(envelope()));
        assert!(matches!(
            unwrap_envelope("{\"Type\":\"Notification\",\"Message\":\"nope\"}"),
            Err(SqsMessageError::Unparseable(_))
        ));
        assert!(matches!(
            unwrap_envelope("[]"),
            Err(SqsMessageError::Unparseable(_))
        ));
    }

    #[tokio::test]
    async fn only_failed_messages_are_reported() {
        let good = serde_json::to_string(&envelope()).unwrap();
        let mut other = envelope();
        other.id = "r1:1:1".into();
        let failing = serde_json::to_string(&other).unwrap();
        let mut event = SqsEvent::default();
        event.records = vec![
            message("a", Some(good)),
            message("b", Some("garbage".into())),
            message("c", Some(failing)),
            message("d", None),
        ];
        let seen = std::sync::Mutex::new(Vec::new());
        let resp = process_sqs_batch(event, |e: EventEnvelope| {
            seen.lock().unwrap().push(e.id.clone());
            async move {
                if e.id.ends_with(":1") {
                    Err("handler says no")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["b", "c", "d"]);
        assert_eq!(*seen.lock().unwrap(), vec!["r1:1:0", "r1:1:1"]);
    }
}
