//! `MediaStore` on a local directory, with HMAC-signed upload/download URLs served by
//! [`media_routes`].
//!
//! Layout under the root: `objects/<key>` holds the bytes, `meta/<key>.json` the content type,
//! `tmp/` the files being written (each write is a temp file renamed into place).
//!
//! Uploads are streamed to disk chunk by chunk, never held whole in memory, and refused (413)
//! as soon as they pass the signed size; new uploads are refused (507) while the disk has
//! less free space than the configured floor. Each completed upload's key is sent to the
//! listener set with [`FileMediaStore::on_upload`] (the embedded media worker).

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Path as AxPath, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use phananh_core::ports::{MediaError, MediaStore, ObjectMeta, PresignedUrl};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("invalid key")]
    BadKey,
    #[error("signature does not match")]
    BadSignature,
    #[error("link expired")]
    Expired,
}

/// The parts of a signed media URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SignedRequest {
    /// "put" or "get".
    pub op: String,
    pub key: String,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Content type the upload must carry ("" for get).
    #[serde(default)]
    pub ct: String,
    /// Largest upload in bytes (0 for get).
    #[serde(default)]
    pub max: u64,
    pub sig: String,
}

#[derive(Serialize, Deserialize)]
struct Sidecar {
    content_type: String,
}

/// Local-directory media store.
pub struct FileMediaStore {
    root: PathBuf,
    base_url: String,
    /// HMAC keyed with the secret, cloned for each signature.
    keyed: HmacSha256,
    /// New uploads are refused below this many free bytes on the root's disk.
    min_free: AtomicU64,
    /// Told the key of each completed upload.
    uploaded: OnceLock<UnboundedSender<String>>,
}

impl std::fmt::Debug for FileMediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMediaStore")
            .field("root", &self.root)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Keys: 1..=512 characters of `[A-Za-z0-9/_.-]`, relative, no empty, `.` or `..` segment.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'))
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn check_key(key: &str) -> Result<(), MediaError> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(MediaError::Backend(format!("invalid media key: {key:?}")))
    }
}

fn io_err(e: std::io::Error) -> MediaError {
    MediaError::Backend(e.to_string())
}

/// Percent-encodes a query value (everything but unreserved characters).
fn enc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FileMediaStore {
    /// A store under `root` (created when absent). `base_url` is where [`media_routes`] is
    /// served (e.g. `http://127.0.0.1:8080`); `secret` signs the URLs.
    pub fn new(
        root: impl AsRef<Path>,
        base_url: &str,
        secret: &[u8],
    ) -> Result<FileMediaStore, MediaError> {
        let root = root.as_ref().to_path_buf();
        for sub in ["objects", "meta", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).map_err(io_err)?;
        }
        if secret.len() < 16 {
            return Err(MediaError::Backend(
                "media secret must be at least 16 bytes".into(),
            ));
        }
        let keyed = HmacSha256::new_from_slice(secret)
            .map_err(|e| MediaError::Backend(format!("media secret: {e}")))?;
        Ok(FileMediaStore {
            root,
            base_url: base_url.trim_end_matches('/').to_string(),
            keyed,
            min_free: AtomicU64::new(0),
            uploaded: OnceLock::new(),
        })
    }

    /// Refuse new uploads while the disk holding the store has less than `bytes` free.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.min_free.store(bytes, Ordering::Relaxed);
    }

    /// Sends the key of every completed upload to `tx` (set once; later calls are ignored).
    pub fn on_upload(&self, tx: UnboundedSender<String>) {
        let _ = self.uploaded.set(tx);
    }

    /// Free bytes available to us on the disk holding the store.
    pub fn free_bytes(&self) -> Result<u64, MediaError> {
        let st = rustix::fs::statvfs(&self.root)
            .map_err(|e| MediaError::Backend(format!("statvfs: {e}")))?;
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// Whether the disk is below the floor (uploads refused).
    fn low_on_space(&self) -> Result<bool, MediaError> {
        let floor = self.min_free.load(Ordering::Relaxed);
        Ok(floor > 0 && self.free_bytes()? < floor)
    }

    /// Removes upload-area objects (`uploads/`, `slots/`) and quota records (`quota/`, kept
    /// at least two days) last written more than `max_age` ago, and stale temp files: unconfirmed
    /// uploads expire. Returns how many objects were removed.
    pub async fn sweep(&self, max_age: Duration) -> Result<usize, MediaError> {
        let now = SystemTime::now();
        let mut removed = 0;
        for (prefix, age) in [
            ("uploads", max_age),
            ("slots", max_age),
            ("quota", max_age.max(Duration::from_secs(48 * 3600))),
        ] {
            let base = self.root.join("objects").join(prefix);
            let Ok(mut owners) = tokio::fs::read_dir(&base).await else {
                continue;
            };
            while let Some(owner) = owners.next_entry().await.map_err(io_err)? {
                let Ok(mut files) = tokio::fs::read_dir(owner.path()).await else {
                    continue;
                };
                while let Some(f) = files.next_entry().await.map_err(io_err)? {
                    let old = f
                        .metadata()
                        .await
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| now.duration_since(t).ok())
                        .is_some_and(|d| d > age);
                    if !old {
                        continue;
                    }
                    let key = format!(
                        "{prefix}/{}/{}",
                        owner.file_name().to_string_lossy(),
                        f.file_name().to_string_lossy()
                    );
                    if valid_key(&key) {
                        self.delete(&key).await?;
                        tracing::info!(key = %key, "expired upload removed");
                        removed += 1;
                    }
                }
            }
        }
        if let Ok(mut tmp) = tokio::fs::read_dir(self.root.join("tmp")).await {
            while let Some(f) = tmp.next_entry().await.map_err(io_err)? {
                let old = f
                    .metadata()
                    .await
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|d| d > Duration::from_secs(3600));
                if old {
                    let _ = tokio::fs::remove_file(f.path()).await;
                }
            }
        }
        Ok(removed)
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join("meta").join(format!("{key}.json"))
    }

    fn mac(&self, op: &str, key: &str, exp: i64, ct: &str, max: u64) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(format!("{op}\n{key}\n{exp}\n{ct}\n{max}").as_bytes());
        mac
    }

    /// Signature (hex HMAC-SHA256) of one URL.
    pub fn sign(&self, op: &str, key: &str, exp: i64, ct: &str, max: u64) -> String {
        hex::encode(self.mac(op, key, exp, ct, max).finalize().into_bytes())
    }

    /// Checks a signed URL at `now`: key valid, signature over (op, key, exp, ct, max)
    /// matching (constant time), not expired.
    pub fn verify(&self, req: &SignedRequest, now: DateTime<Utc>) -> Result<(), UrlError> {
        if !valid_key(&req.key) {
            return Err(UrlError::BadKey);
        }
        let sig = hex::decode(&req.sig).map_err(|_| UrlError::BadSignature)?;
        self.mac(&req.op, &req.key, req.exp, &req.ct, req.max)
            .verify_slice(&sig)
            .map_err(|_| UrlError::BadSignature)?;
        if now.timestamp() > req.exp {
            return Err(UrlError::Expired);
        }
        Ok(())
    }

    fn url(
        &self,
        op: &str,
        key: &str,
        ttl: Duration,
        ct: &str,
        max: u64,
    ) -> (String, DateTime<Utc>) {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        let expires_at = Utc::now() + ttl;
        let exp = expires_at.timestamp();
        let sig = self.sign(op, key, exp, ct, max);
        (
            format!(
                "{}/media/{key}?op={op}&exp={exp}&ct={}&max={max}&sig={sig}",
                self.base_url,
                enc(ct)
            ),
            expires_at,
        )
    }

    async fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> Result<(), MediaError> {
        let tmp = self.root.join("tmp").join(uuid::Uuid::new_v4().to_string());
        let result = async {
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io_err)?;
            f.write_all(bytes).await.map_err(io_err)?;
            f.sync_all().await.map_err(io_err)?;
            drop(f);
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(io_err)?;
            }
            tokio::fs::rename(&tmp, dest).await.map_err(io_err)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn content_type(&self, key: &str) -> Option<String> {
        let raw = tokio::fs::read(self.meta_path(key)).await.ok()?;
        serde_json::from_slice::<Sidecar>(&raw)
            .ok()
            .map(|s| s.content_type)
    }
}

#[async_trait]
impl MediaStore for FileMediaStore {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        max_size: u64,
        ttl: Duration,
    ) -> Result<PresignedUrl, MediaError> {
        check_key(key)?;
        if self.low_on_space()? {
            return Err(MediaError::InsufficientStorage);
        }
        let (url, expires_at) = self.url("put", key, ttl, content_type, max_size);
        Ok(PresignedUrl {
            url,
            method: "PUT".into(),
            headers: vec![("Content-Type".into(), content_type.to_string())],
            fields: vec![],
            expires_at,
        })
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedUrl, MediaError> {
        check_key(key)?;
        let (url, expires_at) = self.url("get", key, ttl, "", 0);
        Ok(PresignedUrl {
            url,
            method: "GET".into(),
            headers: vec![],
            fields: vec![],
            expires_at,
        })
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, MediaError> {
        check_key(key)?;
        match tokio::fs::metadata(self.object_path(key)).await {
            Ok(m) if m.is_file() => Ok(Some(ObjectMeta {
                size: m.len(),
                content_type: self.content_type(key).await,
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    async fn read(&self, key: &str, max_size: u64) -> Result<Vec<u8>, MediaError> {
        let meta = self.head(key).await?.ok_or(MediaError::NotFound)?;
        if meta.size > max_size {
            return Err(MediaError::TooLarge);
        }
        let bytes = tokio::fs::read(self.object_path(key))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => MediaError::NotFound,
                _ => io_err(e),
            })?;
        // The file may have been replaced between head and read.
        if bytes.len() as u64 > max_size {
            return Err(MediaError::TooLarge);
        }
        Ok(bytes)
    }

    async fn write(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError> {
        check_key(key)?;
        let sidecar = serde_json::to_vec(&Sidecar {
            content_type: content_type.to_string(),
        })
        .map_err(|e| MediaError::Backend(e.to_string()))?;
        self.write_atomic(&self.meta_path(key), &sidecar).await?;
        self.write_atomic(&self.object_path(key), bytes).await
    }

    async fn read_head(&self, key: &str, n: u64) -> Result<Vec<u8>, MediaError> {
        check_key(key)?;
        let f = tokio::fs::File::open(self.object_path(key))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => MediaError::NotFound,
                _ => io_err(e),
            })?;
        let mut buf = Vec::new();
        f.take(n).read_to_end(&mut buf).await.map_err(io_err)?;
        Ok(buf)
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), MediaError> {
        check_key(from)?;
        check_key(to)?;
        let ct = self.content_type(from).await.unwrap_or_default();
        let tmp = self.root.join("tmp").join(uuid::Uuid::new_v4().to_string());
        if let Err(e) = tokio::fs::copy(self.object_path(from), &tmp).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(match e.kind() {
                std::io::ErrorKind::NotFound => MediaError::NotFound,
                _ => io_err(e),
            });
        }
        self.commit(&tmp, to, &ct).await
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        check_key(key)?;
        for path in [self.object_path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        Ok(())
    }
}

impl FileMediaStore {
    /// Moves a finished temp file into place as `key`, with its content type.
    async fn commit(&self, tmp: &Path, key: &str, content_type: &str) -> Result<(), MediaError> {
        let result = async {
            let sidecar = serde_json::to_vec(&Sidecar {
                content_type: content_type.to_string(),
            })
            .map_err(|e| MediaError::Backend(e.to_string()))?;
            self.write_atomic(&self.meta_path(key), &sidecar).await?;
            let dest = self.object_path(key);
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(io_err)?;
            }
            tokio::fs::rename(tmp, &dest).await.map_err(io_err)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(tmp).await;
        }
        result
    }

    /// Streams `body` into a temp file, stopping past `max` bytes (`TooLarge`, nothing kept).
    async fn receive(&self, body: Body, max: u64) -> Result<(std::path::PathBuf, u64), MediaError> {
        use futures_util::StreamExt;
        let tmp = self.root.join("tmp").join(uuid::Uuid::new_v4().to_string());
        let result = async {
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io_err)?;
            let mut stream = body.into_data_stream();
            let mut n: u64 = 0;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| MediaError::Backend(format!("upload body: {e}")))?;
                n += chunk.len() as u64;
                if n > max {
                    return Err(MediaError::TooLarge);
                }
                f.write_all(&chunk).await.map_err(io_err)?;
            }
            f.sync_all().await.map_err(io_err)?;
            Ok(n)
        }
        .await;
        match result {
            Ok(n) => Ok((tmp, n)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }
}

/// An application/problem+json answer with a stable `code` and Vietnamese texts.
fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn refused(e: UrlError) -> Response {
    match e {
        UrlError::BadKey => problem(
            StatusCode::BAD_REQUEST,
            "media_bad_key",
            "Đường dẫn tệp không hợp lệ",
            "Tên tệp chứa ký tự hoặc đoạn đường dẫn không được phép.",
        ),
        UrlError::BadSignature => problem(
            StatusCode::FORBIDDEN,
            "media_link_invalid",
            "Liên kết không hợp lệ",
            "Chữ ký của liên kết không đúng; vui lòng yêu cầu liên kết mới.",
        ),
        UrlError::Expired => problem(
            StatusCode::FORBIDDEN,
            "media_link_expired",
            "Liên kết đã hết hạn",
            "Liên kết tải tệp đã hết hạn; vui lòng yêu cầu liên kết mới.",
        ),
    }
}

fn storage_error(e: &MediaError) -> Response {
    tracing::error!(error = %e, "media storage failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "media_storage_error",
        "Lỗi lưu trữ tệp",
        "Không thể lưu hoặc đọc tệp lúc này; vui lòng thử lại sau.",
    )
}

fn disk_full() -> Response {
    problem(
        StatusCode::INSUFFICIENT_STORAGE,
        "storage_full",
        "Máy chủ hết chỗ lưu tệp",
        "Máy chủ sắp hết dung lượng lưu trữ nên tạm thời không nhận tệp tải lên. Vui lòng thử lại sau.",
    )
}

fn too_large(max: u64) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "media_too_large",
        "Tệp quá lớn",
        &format!("Tệp vượt quá dung lượng cho phép ({max} byte)."),
    )
}

#[derive(Deserialize)]
struct SigQuery {
    op: String,
    exp: i64,
    #[serde(default)]
    ct: String,
    #[serde(default)]
    max: u64,
    sig: String,
}

fn signed(key: String, q: SigQuery) -> SignedRequest {
    SignedRequest {
        op: q.op,
        key,
        exp: q.exp,
        ct: q.ct,
        max: q.max,
        sig: q.sig,
    }
}

async fn put_object(
    State(store): State<Arc<FileMediaStore>>,
    AxPath(key): AxPath<String>,
    Query(q): Query<SigQuery>,
    req: Request,
) -> Response {
    let sr = signed(key, q);
    if sr.op != "put" {
        return refused(UrlError::BadSignature);
    }
    if let Err(e) = store.verify(&sr, Utc::now()) {
        return refused(e);
    }
    let headers: &HeaderMap = req.headers();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != sr.ct {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media_content_type_mismatch",
            "Loại tệp không khớp",
            &format!(
                "Content-Type phải là \"{}\" như khi xin liên kết tải lên.",
                sr.ct
            ),
        );
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > sr.max) {
        return too_large(sr.max);
    }
    match store.low_on_space() {
        Ok(false) => {}
        Ok(true) => return disk_full(),
        Err(e) => return storage_error(&e),
    }
    // Streamed to a temp file: never the whole body in memory, cut off past the limit.
    let (tmp, size) = match store.receive(req.into_body(), sr.max).await {
        Ok(r) => r,
        Err(MediaError::TooLarge) => {
            tracing::warn!(key = %sr.key, max = sr.max, "upload over its limit refused");
            return too_large(sr.max);
        }
        Err(e) => return storage_error(&e),
    };
    match store.commit(&tmp, &sr.key, &sr.ct).await {
        Ok(()) => {
            tracing::info!(key = %sr.key, size, "media uploaded");
            if let Some(tx) = store.uploaded.get() {
                let _ = tx.send(sr.key.clone());
            }
            StatusCode::OK.into_response()
        }
        Err(e) => storage_error(&e),
    }
}

async fn get_object(
    State(store): State<Arc<FileMediaStore>>,
    AxPath(key): AxPath<String>,
    Query(q): Query<SigQuery>,
) -> Response {
    let sr = signed(key, q);
    if sr.op != "get" {
        return refused(UrlError::BadSignature);
    }
    if let Err(e) = store.verify(&sr, Utc::now()) {
        return refused(e);
    }
    let meta = match store.head(&sr.key).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                "media_not_found",
                "Không tìm thấy tệp",
                "Tệp không tồn tại hoặc đã bị xóa.",
            )
        }
        Err(e) => return storage_error(&e),
    };
    let file = match tokio::fs::File::open(store.object_path(&sr.key)).await {
        Ok(f) => f,
        Err(e) => return storage_error(&io_err(e)),
    };
    let ct = meta
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    // Keys are plain ASCII ([`valid_key`]), so the last segment is a safe file name.
    let name = sr.key.rsplit('/').next().unwrap_or("file");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_LENGTH, meta.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response()
}

/// `PUT /media/{*key}` and `GET /media/{*key}` for the signed URLs of `store`.
pub fn media_routes(store: Arc<FileMediaStore>) -> Router {
    Router::new()
        .route("/media/{*key}", put(put_object).get(get_object))
        .with_state(store)
}

/// Serves [`media_routes`] on an already bound listener until the task is aborted
/// (tests and tools that need only the media endpoints).
pub fn spawn_media_server(
    listener: tokio::net::TcpListener,
    store: Arc<FileMediaStore>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, media_routes(store)).await {
            tracing::error!(error = %e, "media server stopped");
        }
    })
}
