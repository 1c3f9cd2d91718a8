//! Benchmark (issue 11): a 100 MB upload through a running `phananh serve` (release build),
//! with the server's peak resident memory compared to its idle resident memory.
//!
//! ```text
//! cargo build --release --bin phananh
//! cargo run --release -p phananh --example upload_bench [-- <path to phananh> <MiB>]
//! ```
//!
//! The server is started on a free 127.0.0.1 port with a fresh data directory; the client
//! streams the body from a reused 1 MiB buffer (raw HTTP/1.1, so the client holds no copy). The
//! server's peak is its `VmHWM` after `/proc/<pid>/clear_refs` was reset at idle (Linux).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

fn status_kb(pid: u32, field: &str) -> Result<u64, Error> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed status")?
        .parse()?)
}

/// One HTTP/1.1 request with a small body; returns (status, body).
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String), Error> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.get(9..12).ok_or("short response")?.parse()?;
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    Ok((status, body))
}

/// Streams `size` bytes (an MP4 `ftyp` header, then filler) to a signed PUT URL.
fn put_stream(url: &str, size: u64) -> Result<u16, Error> {
    let rest = url.strip_prefix("http://").ok_or("not http")?;
    let (host, path) = rest.split_at(rest.find('/').ok_or("no path")?);
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: video/mp4\r\nContent-Length: {size}\r\n\r\n"
    )?;
    let mut buf = vec![0x5Au8; 1 << 20];
    buf[..24].copy_from_slice(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2");
    let mut sent = 0u64;
    while sent < size {
        let n = (size - sent).min(buf.len() as u64) as usize;
        s.write_all(&buf[..n])?;
        if sent == 0 {
            buf[..24].fill(0x5A);
        }
        sent += n as u64;
    }
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.get(9..12).ok_or("short response")?.parse()?)
}

fn json_str(body: &str, pointer: &str) -> Result<String, Error> {
    let v: serde_json::Value = serde_json::from_str(body)?;
    Ok(v.pointer(pointer)
        .and_then(|x| x.as_str())
        .ok_or_else(|| format!("no {pointer} in {body}"))?
        .to_string())
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).cloned().unwrap_or_else(|| {
        let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{dir}/release/phananh")
    });
    let mib: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let size = mib * 1024 * 1024;
    let data = std::env::temp_dir().join(format!("phananh-upload-bench-{}", std::process::id()));
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(&bin)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--no-demo"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {bin}: {e}"))?;
    let server = Server(child);
    let pid = server.0.id();
    let mut up = false;
    for _ in 0..100 {
        if request(port, "GET", "/healthz", None, "").is_ok_and(|(s, _)| s == 200) {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !up {
        return Err("server did not start".into());
    }
    let (_, body) = request(port, "POST", "/v1/auth/device", None, "{}")?;
    let token = json_str(&body, "/access_token")?;
    // Warm up with a small upload so idle memory includes the first-use allocations.
    let (st, body) = request(
        port,
        "POST",
        "/v1/uploads",
        Some(&token),
        r#"{"content_type":"video/mp4","size":1048576}"#,
    )?;
    if st != 201 {
        return Err(format!("upload slot refused: {st} {body}").into());
    }
    put_stream(&json_str(&body, "/upload/url")?, 1 << 20)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = status_kb(pid, "VmRSS:")?;
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;

    let (st, body) = request(
        port,
        "POST",
        "/v1/uploads",
        Some(&token),
        &format!(r#"{{"content_type":"video/mp4","size":{size}}}"#),
    )?;
    if st != 201 {
        return Err(format!("upload slot refused: {st} {body}").into());
    }
    let id = json_str(&body, "/attachment_id")?;
    let started = Instant::now();
    let status = put_stream(&json_str(&body, "/upload/url")?, size)?;
    let took = started.elapsed();
    // Let the worker check it (reads only the first bytes of a video).
    std::thread::sleep(Duration::from_millis(500));
    let (_, slot) = request(port, "GET", &format!("/v1/uploads/{id}"), Some(&token), "")?;
    let peak = status_kb(pid, "VmHWM:")?;
    let _ = std::fs::remove_dir_all(&data);
    println!(
        "upload of {mib} MiB: HTTP {status} in {:.2} s ({:.0} MiB/s)",
        took.as_secs_f64(),
        mib as f64 / took.as_secs_f64()
    );
    println!("slot after the worker: {slot}");
    println!(
        "server RSS idle {} KiB, peak {} KiB, peak above idle {} KiB ({:.1} MiB)",
        idle,
        peak,
        peak.saturating_sub(idle),
        peak.saturating_sub(idle) as f64 / 1024.0
    );
    if status != 200 {
        return Err("upload refused".into());
    }
    Ok(())
}
