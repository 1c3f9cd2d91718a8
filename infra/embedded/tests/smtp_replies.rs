//! SMTP replies that are not `NNN text`: the send fails with an error, never a panic or a hang.

use phananh_embedded::smtp::send_mail;
use phananh_embedded::SmtpConfig;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A fake SMTP server for one session: greets with `greeting`, answers EHLO with
/// `ehlo_reply` (to HELO as well), and refuses everything else.
async fn fake_smtp(greeting: &'static [u8], ehlo_reply: &'static [u8]) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        // The client may hang up at any point: write errors end the session.
        if w.write_all(greeting).await.is_err() {
            return;
        }
        for _ in 0..20 {
            let mut line = String::new();
            match r.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let reply: &[u8] = if line.starts_with("EHLO") || line.starts_with("HELO") {
                ehlo_reply
            } else {
                b"500 what\r\n"
            };
            if w.write_all(reply).await.is_err() {
                return;
            }
        }
    });
    (port, task)
}

async fn send(greeting: &'static [u8], ehlo_reply: &'static [u8]) -> Result<String, String> {
    let (port, server) = fake_smtp(greeting, ehlo_reply).await;
    let mut cfg = SmtpConfig::new("127.0.0.1", port, "noreply@laichau.gov.vn");
    cfg.timeout = Duration::from_secs(2);
    let out = tokio::time::timeout(
        Duration::from_secs(15),
        send_mail(&cfg, "ubnd.tanphong@laichau.gov.vn", "Phản ánh", "Nội dung"),
    )
    .await
    .expect("the client gives up by itself");
    server.abort();
    out.map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_greeting_with_non_ascii_in_its_code_is_refused() {
    // The 3rd byte of the line is inside a character: "22é", "2é…", "😀…".
    for greeting in [
        "22é ESMTP sẵn sàng\r\n",
        "2é0 ready\r\n",
        "😀 ready\r\n",
        "é\r\n",
        "22\r\n",
        "+22 ready\r\n",
    ] {
        let greeting: &'static [u8] = greeting.as_bytes();
        assert!(send(greeting, b"250 ok\r\n").await.is_err(), "{greeting:?}");
    }
}

#[tokio::test]
async fn a_multi_line_reply_with_a_non_ascii_line_is_refused() {
    let err = send(
        b"220 fake.local ESMTP\r\n",
        b"250-fake.local\r\n25\xc3\xa9 SIZE\r\n",
    )
    .await;
    assert!(err.is_err(), "{err:?}");
}
