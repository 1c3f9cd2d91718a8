//! A local SMTP server for tests, on 127.0.0.1: it offers AUTH PLAIN and LOGIN, accepts every
//! message (or refuses recipients, or never greets), and hands back what it received, decoded
//! (the AUTH credentials, the envelope, the headers and the text of each MIME part).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Accept,
    /// 550 to every RCPT TO.
    RejectRcpt,
    /// Never greets.
    Silent,
}

/// One message as the server received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMail {
    /// (username, password) of AUTH, when the client authenticated.
    pub auth: Option<(String, String)>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The raw DATA, lines joined with `\n`.
    pub raw: String,
}

impl ReceivedMail {
    /// A header's value (unfolded, RFC 2047 words decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self.raw.split('\n');
        let prefix = format!("{}:", name.to_ascii_lowercase());
        let mut value = None::<String>;
        for l in lines.by_ref() {
            if l.is_empty() {
                break;
            }
            if let Some(v) = value.as_mut() {
                if l.starts_with(' ') || l.starts_with('\t') {
                    v.push_str(l);
                    continue;
                }
                break;
            }
            if l.to_ascii_lowercase().starts_with(&prefix) {
                value = Some(l[prefix.len()..].trim().to_string());
            }
        }
        value.map(|v| decode_words(&v))
    }

    /// The decoded text of every MIME part of this content type (`text/plain`, `text/html`).
    pub fn parts(&self, content_type: &str) -> Vec<String> {
        let mut out = Vec::new();
        let chunks: Vec<&str> = self.raw.split("\n--").collect();
        for chunk in chunks {
            let Some((head, body)) = chunk.split_once("\n\n") else {
                continue;
            };
            let h = head.to_ascii_lowercase();
            if !h.contains(&format!("content-type: {content_type}")) {
                continue;
            }
            let body = body.trim_end();
            let text = if h.contains("content-transfer-encoding: base64") {
                let compact: String = body.split_whitespace().collect();
                STANDARD
                    .decode(compact)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default()
            } else if h.contains("content-transfer-encoding: quoted-printable") {
                decode_qp(body)
            } else {
                body.to_string()
            };
            out.push(text.replace("\r\n", "\n"));
        }
        out
    }
}

fn decode_qp(s: &str) -> String {
    let mut bytes = Vec::new();
    let mut lines = s.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(hex, 16) {
                    bytes.push(v);
                    i += 3;
                    continue;
                }
            }
            bytes.push(b[i]);
            i += 1;
        }
        if !soft && lines.peek().is_some() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=` and `=?utf-8?q?…?=`).
pub fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut last_was_word = false;
    for token in v.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?") && token.ends_with("?=") && token.len() > 12 {
            let kind = &lower[8..9];
            let payload = &token[10..token.len() - 2];
            let text = if kind == "b" {
                STANDARD
                    .decode(payload)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default()
            } else {
                decode_qp(&payload.replace('_', " "))
            };
            out.push_str(&text);
            last_was_word = true;
        } else {
            if !out.is_empty() || last_was_word {
                out.push(' ');
            }
            out.push_str(token);
            last_was_word = false;
        }
    }
    out
}

/// A running test SMTP server.
pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Listens on 127.0.0.1 (a free port) for at most `sessions` connections.
    pub async fn start(mode: SmtpMode, sessions: usize) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            for _ in 0..sessions {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(sock, mode, store).await;
                });
            }
        });
        SmtpServer {
            port,
            received,
            task,
        }
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Waits (at most `limit`) until `n` messages arrived.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<ReceivedMail> {
        let end = tokio::time::Instant::now() + limit;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= end {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(
    sock: tokio::net::TcpStream,
    mode: SmtpMode,
    store: Arc<Mutex<Vec<ReceivedMail>>>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    if mode == SmtpMode::Silent {
        let mut buf = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut buf)).await;
        return Ok(());
    }
    w.write_all(b"220 test.local ESMTP\r\n").await?;
    let mut mail = ReceivedMail::default();
    let mut data: Option<Vec<String>> = None;
    let mut auth_login: Option<Option<String>> = None;
    for _ in 0..10_000 {
        let mut line = String::new();
        if tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
            .await
            .unwrap_or(Ok(0))?
            == 0
        {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if let Some(d) = data.as_mut() {
            if line == "." {
                mail.raw = std::mem::take(d).join("\n");
                data = None;
                if let Ok(mut g) = store.lock() {
                    g.push(std::mem::take(&mut mail));
                }
                w.write_all(b"250 2.0.0 Ok: queued as TEST123\r\n").await?;
            } else {
                d.push(line.strip_prefix('.').map(str::to_string).unwrap_or(line));
            }
            continue;
        }
        if let Some(step) = auth_login.as_mut() {
            let decoded =
                String::from_utf8(STANDARD.decode(&line).unwrap_or_default()).unwrap_or_default();
            match step.take() {
                None => {
                    *step = Some(decoded);
                    w.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                }
                Some(user) => {
                    mail.auth = Some((user, decoded));
                    auth_login = None;
                    w.write_all(b"235 2.7.0 ok\r\n").await?;
                }
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-test.local\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10000000\r\n"
        } else if upper.starts_with("AUTH PLAIN ") {
            let raw = STANDARD.decode(line[11..].trim()).unwrap_or_default();
            let parts: Vec<String> = raw
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.len() == 3 {
                mail.auth = Some((parts[1].clone(), parts[2].clone()));
            }
            b"235 2.7.0 ok\r\n"
        } else if upper == "AUTH LOGIN" {
            auth_login = Some(None);
            b"334 VXNlcm5hbWU6\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.mail_from = line[10..].trim().to_string();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            if mode == SmtpMode::RejectRcpt {
                // As Postfix answers: the refused address quoted back.
                let reply = format!(
                    "550 5.1.1 {}: Recipient address rejected: no such user\r\n",
                    line[8..].trim()
                );
                w.write_all(reply.as_bytes()).await?;
                continue;
            } else {
                mail.rcpt_to.push(line[8..].trim().to_string());
                b"250 ok\r\n"
            }
        } else if upper == "DATA" {
            data = Some(Vec::new());
            b"354 go ahead\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 ok\r\n"
        } else {
            b"500 what\r\n"
        };
        w.write_all(reply).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_and_quoted_printable_decode() {
        assert_eq!(decode_words("=?utf-8?b?UGjhuqNuIMOhbmg=?="), "Phản ánh");
        assert_eq!(
            decode_qp("K=C3=ADnh g=E1=BB=ADi=\n ok\nx"),
            "Kính gửi ok\nx"
        );
    }
}
