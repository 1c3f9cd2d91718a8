//! The harness of the server's end-to-end suites: a started `phananh serve` process on a fresh
//! data directory (127.0.0.1 only), its demo accounts, and a small API client.
#![allow(dead_code)]

pub mod browser;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base: String,
    pub accounts: HashMap<String, String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh data directory, removed when dropped.
pub struct TempData(pub PathBuf);

impl TempData {
    pub fn new(tag: &str) -> TempData {
        let d = std::env::temp_dir().join(format!("phananh-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        TempData(d)
    }
}

impl Drop for TempData {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    /// SIGKILL, as a power cut or the OOM killer would: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn api(&self) -> Api {
        Api {
            http: Client::new(),
            base: self.base.clone(),
        }
    }
}

pub fn start(data: &Path) -> Server {
    start_with(data, None)
}

/// The shipped Lai Châu configuration copied to `dir` with the rate limits off: load tests
/// send thousands of requests from 127.0.0.1, which the limits are there to refuse.
pub fn config_without_rate_limits(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/laichau");
    std::fs::create_dir_all(dir).expect("config dir");
    for entry in std::fs::read_dir(&src).expect("shipped config") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy config");
    }
    let city = dir.join("city.toml");
    let mut text = std::fs::read_to_string(&city).expect("city.toml");
    text.push_str("\n[rate_limits]\nenabled = false\n");
    std::fs::write(&city, text).expect("city.toml");
    dir.to_path_buf()
}

/// [`start`] with another city configuration directory.
pub fn start_with(data: &Path, config: Option<&Path>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_phananh"));
    if let Some(c) = config {
        cmd.args(["--config", c.to_str().unwrap()]);
    }
    let mut child = cmd
        .args([
            "--data",
            data.to_str().unwrap(),
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--escalation-interval",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start phananh");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut base = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("phananh đang chạy tại ") {
            base = Some(url.trim().to_string());
            break;
        }
    }
    let base = base.expect("server printed its URL");
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let table = std::fs::read_to_string(data.join("demo-accounts.txt")).expect("demo accounts");
    let accounts = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4).then(|| (f[0].to_string(), f[3].to_string()))
        })
        .collect();
    Server {
        child,
        base,
        accounts,
    }
}

pub struct Api {
    pub http: Client,
    pub base: String,
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }
    pub async fn login(&self, s: &Server, user: &str) -> String {
        let (st, v) = self
            .post(
                "/v1/auth/login",
                None,
                json!({"username": user, "password": s.accounts[user]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "login {user}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }
    pub async fn device(&self) -> String {
        let (st, v) = self.post("/v1/auth/device", None, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }
    /// Presigned upload, then a plain HTTP PUT of the bytes (the embedded store's upload);
    /// returns the attachment id.
    pub async fn upload(&self, token: &str, bytes: &[u8]) -> String {
        let (st, t) = self
            .post(
                "/v1/uploads",
                Some(token),
                json!({"content_type": "image/jpeg", "size": bytes.len()}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let url = t["upload"]["url"].as_str().unwrap();
        let resp = self
            .http
            .put(url)
            .header("content-type", "image/jpeg")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "upload PUT: {}", resp.status());
        t["attachment_id"].as_str().unwrap().to_string()
    }
    pub async fn action(&self, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/staff/reports/{id}/actions"),
            Some(token),
            body,
        )
        .await
    }
    /// Waits (bounded) until the queue consumer screened the report.
    pub async fn wait_state(&self, token: &str, id: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, v) = self
                .get(&format!("/v1/staff/reports/{id}"), Some(token))
                .await;
            if v["state"] == state {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "report {id} never reached {state}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A small real JPEG (the media worker decodes every photo), made on the fly.
pub fn jpeg() -> Vec<u8> {
    phananh_testkit::samples::jpeg(8, 8)
}

pub fn report_body(category: &str, title: &str, description: &str) -> Value {
    json!({
        "category": category,
        "title": title,
        "description": description,
        "location": {"lat": 22.3965, "lon": 103.4585},
        "address": "Đường Trần Phú, phường Tân Phong",
        "reporter": {"name": "Nguyễn Thị Hoa", "phone": "0987654321", "email": "hoa@example.vn"}
    })
}
