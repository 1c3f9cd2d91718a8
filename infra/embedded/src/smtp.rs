//! E-mail over SMTP with `lettre`: implicit TLS (port 465), STARTTLS (587) or, for a relay on
//! the same host, plain; authentication when a username is set. Each message has a plain-text
//! part with the text as written (with diacritics) and an HTML alternative of the same text.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// No TLS: only for a relay on the same machine or a test server on 127.0.0.1.
    None,
    /// Upgrade with STARTTLS, refusing a server that does not offer it (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpTls {
    /// `none`, `starttls` or `tls`.
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::StartTls),
            "tls" | "ssl" | "smtps" => Some(SmtpTls::Tls),
            _ => None,
        }
    }

    /// The usual port of each mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// Where and as whom e-mail is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// Envelope and header sender address.
    pub from: String,
    /// Display name of the sender (`Trung tâm IOC Lai Châu`).
    pub from_name: Option<String>,
    pub tls: SmtpTls,
    /// Authentication (PLAIN or LOGIN) when set; the password comes from the environment.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Limit of the connection and of each command.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl SmtpConfig {
    /// A plain relay (no TLS, no authentication) at `host:port`.
    pub fn new(host: impl Into<String>, port: u16, from: impl Into<String>) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port,
            from: from.into(),
            from_name: None,
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout: Duration::from_secs(15),
        }
    }

    /// Reads `PHANANH_SMTP_HOST` (none: no SMTP), `PHANANH_SMTP_PORT`, `PHANANH_SMTP_TLS`
    /// (`starttls` by default, `tls`, `none`), `PHANANH_SMTP_FROM`, `PHANANH_SMTP_FROM_NAME`,
    /// `PHANANH_SMTP_USERNAME`, `PHANANH_SMTP_PASSWORD`, `PHANANH_SMTP_TIMEOUT_SECS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<SmtpConfig>, String> {
        let Some(host) = get("PHANANH_SMTP_HOST").filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let tls = match get("PHANANH_SMTP_TLS") {
            None => SmtpTls::StartTls,
            Some(s) => SmtpTls::parse(&s)
                .ok_or_else(|| format!("PHANANH_SMTP_TLS={s:?}: expected starttls, tls or none"))?,
        };
        let port = match get("PHANANH_SMTP_PORT") {
            None => tls.default_port(),
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| format!("PHANANH_SMTP_PORT={p:?}: not a port number"))?,
        };
        let from = get("PHANANH_SMTP_FROM").unwrap_or_else(|| "phananh@localhost".into());
        if !valid_address(&from) {
            return Err(format!("PHANANH_SMTP_FROM={from:?}: not an e-mail address"));
        }
        let timeout = match get("PHANANH_SMTP_TIMEOUT_SECS") {
            None => Duration::from_secs(15),
            Some(s) => Duration::from_secs(
                s.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=300).contains(n))
                    .ok_or_else(|| format!("PHANANH_SMTP_TIMEOUT_SECS={s:?}: 1 to 300"))?,
            ),
        };
        let username = get("PHANANH_SMTP_USERNAME").filter(|u| !u.is_empty());
        let password = get("PHANANH_SMTP_PASSWORD");
        if username.is_some() && password.is_none() {
            return Err("PHANANH_SMTP_USERNAME is set but PHANANH_SMTP_PASSWORD is not".into());
        }
        Ok(Some(SmtpConfig {
            host: host.trim().to_string(),
            port,
            from,
            from_name: get("PHANANH_SMTP_FROM_NAME").filter(|n| !n.trim().is_empty()),
            tls,
            username,
            password,
            timeout,
        }))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmtpError {
    #[error("invalid address: {0}")]
    BadAddress(String),
    #[error("message: {0}")]
    Message(String),
    #[error("smtp: {0}")]
    Transport(String),
}

fn valid_address(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 254
        && a.contains('@')
        && !a
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

pub use phananh_core::delivery::html_alternative as html_of;

/// The message: UTF-8 subject and a multipart/alternative body (plain text, then HTML).
pub fn build_message(
    cfg: &SmtpConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<Message, SmtpError> {
    if !valid_address(to) {
        return Err(SmtpError::BadAddress(to.to_string()));
    }
    let from: Mailbox = format!("{} <{}>", cfg.from_name.as_deref().unwrap_or(""), cfg.from)
        .trim()
        .parse()
        .map_err(|e| SmtpError::BadAddress(format!("{}: {e}", cfg.from)))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| SmtpError::BadAddress(format!("{to}: {e}")))?;
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.to_string()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html_of(body)),
                ),
        )
        .map_err(|e| SmtpError::Message(e.to_string()))
}

fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
    let err = |e: lettre::transport::smtp::Error| SmtpError::Transport(e.to_string());
    let mut b = match cfg.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        SmtpTls::StartTls => {
            let p = TlsParameters::new(cfg.host.clone()).map_err(err)?;
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host).tls(Tls::Required(p))
        }
        SmtpTls::Tls => {
            let p = TlsParameters::new(cfg.host.clone()).map_err(err)?;
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host).tls(Tls::Wrapper(p))
        }
    }
    .port(cfg.port)
    .timeout(Some(cfg.timeout));
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        b = b.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(b.build())
}

/// Sends one e-mail; the server's reply to the message (its queue id) on acceptance.
pub async fn send_mail(
    cfg: &SmtpConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<String, SmtpError> {
    let msg = build_message(cfg, to, subject, body)?;
    let t = transport(cfg)?;
    // The transport's own timeout covers each command; this bounds the whole exchange.
    let limit = cfg.timeout.saturating_mul(4);
    let resp = tokio::time::timeout(limit, t.send(msg))
        .await
        .map_err(|_| SmtpError::Transport("timed out".into()))?
        .map_err(|e| SmtpError::Transport(e.to_string()))?;
    let text = resp.message().collect::<Vec<_>>().join(" ");
    Ok(format!("{} {text}", resp.code()).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| v.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn settings_come_from_the_environment_with_starttls_by_default() {
        assert_eq!(SmtpConfig::from_env(env(&[])), Ok(None));
        let c = SmtpConfig::from_env(env(&[
            ("PHANANH_SMTP_HOST", "smtp.laichau.gov.vn"),
            ("PHANANH_SMTP_FROM", "ioc@laichau.gov.vn"),
            ("PHANANH_SMTP_USERNAME", "ioc"),
            ("PHANANH_SMTP_PASSWORD", "s3cret"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((c.tls, c.port), (SmtpTls::StartTls, 587));
        assert_eq!(c.username.as_deref(), Some("ioc"));
        assert!(!format!("{c:?}").contains("s3cret"), "no password in logs");
        let c = SmtpConfig::from_env(env(&[
            ("PHANANH_SMTP_HOST", "smtp.example.vn"),
            ("PHANANH_SMTP_TLS", "tls"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((c.tls, c.port), (SmtpTls::Tls, 465));
        for bad in [
            vec![("PHANANH_SMTP_HOST", "h"), ("PHANANH_SMTP_TLS", "maybe")],
            vec![("PHANANH_SMTP_HOST", "h"), ("PHANANH_SMTP_PORT", "x")],
            vec![("PHANANH_SMTP_HOST", "h"), ("PHANANH_SMTP_USERNAME", "u")],
            vec![("PHANANH_SMTP_HOST", "h"), ("PHANANH_SMTP_FROM", "nobody")],
        ] {
            assert!(SmtpConfig::from_env(env(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_message_has_a_plain_text_part_with_diacritics_and_an_html_part() {
        let cfg = SmtpConfig::new("127.0.0.1", 25, "noreply@laichau.gov.vn");
        let m = build_message(
            &cfg,
            "ubnd.tanphong@laichau.gov.vn",
            "Phản ánh quá hạn",
            "Kính gửi <UBND>\nTrân trọng.",
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain; charset=utf-8"), "{raw}");
        assert!(raw.contains("text/html; charset=utf-8"), "{raw}");
        assert!(html_of("a <b>\nc").contains("a &lt;b&gt;<br>\nc"));
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(!valid_address("a@b.c\r\nBcc: x@y.z"));
        assert!(!valid_address("a b@c.d"));
        assert!(valid_address("phong.tnmt@laichau.gov.vn"));
    }
}
