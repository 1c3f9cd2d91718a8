//! E-mail to one person through Amazon SES (API v2, `SendEmail`): the text as written (with
//! diacritics) in a plain-text part and its HTML alternative, UTF-8, from the configured
//! verified sender. The message id SES returns goes to the delivery log.

use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use phananh_core::delivery::html_alternative;
use phananh_core::ports::NotifyError;

/// Environment variable of the sender address (a verified SES identity); unset: e-mail goes
/// to the alerts topic's subscriptions as before.
pub const ENV_SES_FROM: &str = "PHANANH_SES_FROM";

/// Sends e-mail through SES.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

fn content(data: &str) -> Result<Content, NotifyError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| NotifyError(e.to_string()))
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> SesMailer {
        SesMailer {
            client,
            from: from.into(),
        }
    }

    /// The sender address.
    pub fn from_address(&self) -> &str {
        &self.from
    }

    /// Sends one e-mail to `to`; SES's message id on acceptance.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, NotifyError> {
        let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
        let message = Message::builder()
            .subject(content(&subject)?)
            .body(
                Body::builder()
                    .text(content(text)?)
                    .html(content(&html_alternative(text))?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| NotifyError(format!("ses: {}", DisplayErrorContext(&e))))?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}
