//! A minimal SMTP client (plain TCP): EHLO, MAIL FROM, RCPT TO, DATA, QUIT, with
//! dot-stuffing, an RFC 2047 UTF-8 subject and timeouts on every step.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Where and as whom e-mail is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// Envelope and header sender address.
    pub from: String,
    /// Limit of the connection and of each command's reply.
    pub timeout: Duration,
}

impl SmtpConfig {
    pub fn new(host: impl Into<String>, port: u16, from: impl Into<String>) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port,
            from: from.into(),
            timeout: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmtpError {
    #[error("invalid address: {0}")]
    BadAddress(String),
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("i/o: {0}")]
    Io(String),
    #[error("server refused {step}: {reply}")]
    Refused { step: &'static str, reply: String },
}

fn valid_address(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 254
        && a.contains('@')
        && !a
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

/// `Subject` header value: plain when ASCII, else RFC 2047 base64 encoded-words, folded.
pub fn encode_subject(subject: &str) -> String {
    let clean: String = subject.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        return clean;
    }
    // At most 45 bytes of UTF-8 per word keeps each encoded word under 75 characters,
    // and a word never splits a character.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// CRLF line endings and dot-stuffing (a line starting with '.' gets another '.').
pub fn dot_stuff(body: &str) -> String {
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() + 16);
    for (i, line) in normalized.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    out
}

fn message(cfg: &SmtpConfig, to: &str, subject: &str, body: &str) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let id = uuid::Uuid::new_v4();
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@phananh>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {body}\r\n.\r\n",
        from = cfg.from,
        subject = encode_subject(subject),
        body = dot_stuff(body),
    )
}

/// The 3-digit code starting a reply line; `None` when the line does not start with three
/// ASCII digits (short, non-ASCII or signed lines are malformed, never sliced blindly).
fn reply_code(line: &str) -> Option<u16> {
    let digits = line.as_bytes().get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u16, |code, d| code * 10 + u16::from(d - b'0')),
    )
}

struct Session {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
    timeout: Duration,
}

impl Session {
    /// Reads one (possibly multi-line) reply: (code, text).
    async fn reply(&mut self, step: &'static str) -> Result<(u16, String), SmtpError> {
        let mut text = String::new();
        // A reply has at most 64 lines here; more is a broken server.
        for _ in 0..64 {
            let mut line = String::new();
            let n = tokio::time::timeout(self.timeout, self.reader.read_line(&mut line))
                .await
                .map_err(|_| SmtpError::Timeout(step))?
                .map_err(|e| SmtpError::Io(e.to_string()))?;
            if n == 0 {
                return Err(SmtpError::Io(format!("connection closed during {step}")));
            }
            let line = line.trim_end();
            let code = reply_code(line).ok_or_else(|| SmtpError::Refused {
                step,
                reply: line.to_string(),
            })?;
            text.push_str(line);
            text.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
        }
        Err(SmtpError::Refused {
            step,
            reply: "reply too long".into(),
        })
    }

    async fn send(&mut self, step: &'static str, data: &str) -> Result<(), SmtpError> {
        tokio::time::timeout(self.timeout, self.writer.write_all(data.as_bytes()))
            .await
            .map_err(|_| SmtpError::Timeout(step))?
            .map_err(|e| SmtpError::Io(e.to_string()))
    }

    async fn command(
        &mut self,
        step: &'static str,
        line: &str,
        ok: &[u16],
    ) -> Result<String, SmtpError> {
        self.send(step, line).await?;
        let (code, text) = self.reply(step).await?;
        if ok.contains(&code) {
            Ok(text)
        } else {
            Err(SmtpError::Refused { step, reply: text })
        }
    }
}

/// Sends one plain-text UTF-8 e-mail.
pub async fn send_mail(
    cfg: &SmtpConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), SmtpError> {
    if !valid_address(to) {
        return Err(SmtpError::BadAddress(to.to_string()));
    }
    if !valid_address(&cfg.from) {
        return Err(SmtpError::BadAddress(cfg.from.clone()));
    }
    let stream = tokio::time::timeout(
        cfg.timeout,
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    .map_err(|_| SmtpError::Timeout("connect"))?
    .map_err(|e| SmtpError::Io(e.to_string()))?;
    let (r, w) = stream.into_split();
    let mut s = Session {
        reader: BufReader::new(r),
        writer: w,
        timeout: cfg.timeout,
    };
    let (code, text) = s.reply("greeting").await?;
    if code != 220 {
        return Err(SmtpError::Refused {
            step: "greeting",
            reply: text,
        });
    }
    if s.command("EHLO", "EHLO phananh.local\r\n", &[250])
        .await
        .is_err()
    {
        s.command("HELO", "HELO phananh.local\r\n", &[250]).await?;
    }
    s.command(
        "MAIL FROM",
        &format!("MAIL FROM:<{}>\r\n", cfg.from),
        &[250],
    )
    .await?;
    s.command("RCPT TO", &format!("RCPT TO:<{to}>\r\n"), &[250, 251])
        .await?;
    s.command("DATA", "DATA\r\n", &[354]).await?;
    s.command("message", &message(cfg, to, subject, body), &[250])
        .await?;
    // The message is accepted; a failed QUIT changes nothing.
    if let Err(e) = s.command("QUIT", "QUIT\r\n", &[221]).await {
        tracing::debug!(error = %e, "SMTP QUIT not acknowledged");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_encoded_per_rfc_2047_when_not_ascii() {
        assert_eq!(encode_subject("Hello"), "Hello");
        let enc = encode_subject("Phản ánh quá hạn xử lý — cần đôn đốc đơn vị chủ trì ngay");
        for word in enc.split("\r\n ") {
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
            assert!(word.len() <= 75, "{word}");
            let b64 = &word[10..word.len() - 2];
            assert!(String::from_utf8(STANDARD.decode(b64).unwrap()).is_ok());
        }
        let decoded: String = enc
            .split("\r\n ")
            .map(|w| String::from_utf8(STANDARD.decode(&w[10..w.len() - 2]).unwrap()).unwrap())
            .collect();
        assert_eq!(
            decoded,
            "Phản ánh quá hạn xử lý — cần đôn đốc đơn vị chủ trì ngay"
        );
    }

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_uses_crlf() {
        assert_eq!(dot_stuff("a\n.b\r\n..c\nd."), "a\r\n..b\r\n...c\r\nd.");
    }

    #[test]
    fn reply_codes_are_three_ascii_digits() {
        assert_eq!(reply_code("250 ok"), Some(250));
        assert_eq!(reply_code("250-fake.local"), Some(250));
        assert_eq!(reply_code("421"), Some(421));
        for bad in [
            "",
            "25",
            "22é ready",
            "2é0",
            "😀 hi",
            "+22 ok",
            "-12",
            "abc",
            " 250",
        ] {
            assert_eq!(reply_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(!valid_address("a@b.c\r\nBcc: x@y.z"));
        assert!(!valid_address("a b@c.d"));
        assert!(valid_address("phong.tnmt@laichau.gov.vn"));
    }
}
