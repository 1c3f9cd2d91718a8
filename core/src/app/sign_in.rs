//! Citizen sign-in by one-time code: which contact a code goes to (one phone number or one
//! e-mail address, normalised so `0912…` and `+84912…` are the same person) and the message
//! that carries it. The code itself is made and checked by the token service of the HTTP layer.

use super::App;
use crate::contact;
use crate::error::DomainError;
use crate::ports::{Channel, Notification};
use crate::text;
use tracing::{info, warn};

/// How long a sign-in code is valid, in minutes (as the message tells the citizen).
pub const CODE_VALID_MINUTES: u32 = 10;

/// The normalised contact a code is sent to, and by which channel: exactly one of a phone
/// number (SMS, E.164) or an e-mail address (lower case).
pub fn sign_in_contact(
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<(String, Channel), DomainError> {
    match (phone, email) {
        (Some(p), None) => contact::phone_e164(p)
            .map(|p| (p, Channel::Sms))
            .map_err(|m| DomainError::invalid("phone", m)),
        (None, Some(e)) => contact::email(e)
            .map(|e| (e.to_lowercase(), Channel::Email))
            .map_err(|m| DomainError::invalid("email", m)),
        _ => Err(DomainError::invalid(
            "phone",
            "cần đúng một trong hai: số điện thoại hoặc e-mail",
        )),
    }
}

impl App {
    /// Sends `code` to `to`. `window` (the code's validity window) makes the id, so a retry in
    /// the same window is not sent twice.
    pub async fn send_sign_in_code(
        &self,
        to: &str,
        channel: Channel,
        code: &str,
        window: i64,
    ) -> Result<(), DomainError> {
        // The texts are the city's (messages.toml `sign_in.code.*`).
        let minutes = CODE_VALID_MINUTES.to_string();
        let vars = [("code", code), ("minutes", minutes.as_str())];
        let msg = |key: &str| self.rules.config.messages.render(key, &vars);
        let (subject, body) = match channel {
            Channel::Sms if !self.rules.config.city.sms_diacritics => {
                (None, text::strip_diacritics(&msg("sign_in.code.sms")))
            }
            Channel::Sms => (None, msg("sign_in.code.sms")),
            Channel::Email => (
                Some(msg("sign_in.code.email_subject")),
                msg("sign_in.code.email_body"),
            ),
        };
        let n = Notification {
            // No contact in the id (it is logged and stored): a keyed digest of it.
            id: format!("{}:{window}", self.contact_digest(to)),
            channel,
            to: to.to_string(),
            unit: None,
            subject,
            body,
            report_id: None,
        };
        match self.notifier.send(&n).await {
            Ok(()) => {
                info!(notification_id = %n.id, channel = ?channel, "sign-in code sent");
                Ok(())
            }
            Err(e) => {
                warn!(notification_id = %n.id, channel = ?channel, error = %e, "sign-in code not sent");
                Err(DomainError::Storage(e.to_string()))
            }
        }
    }
}
