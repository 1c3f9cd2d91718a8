//! `MediaStore` on a local directory, with HMAC-signed upload/download URLs served by
//! [`media_routes`].
//!
//! Layout under the root: `objects/<key>` holds the bytes, `meta/<key>.json` the content type,
//! `tmp/` the files being written (each write is a temp file renamed into place).

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
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

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
        })
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
        let (url, expires_at) = self.url("put", key, ttl, content_type, max_size);
        Ok(PresignedUrl {
            url,
            method: "PUT".into(),
            headers: vec![("Content-Type".into(), content_type.to_string())],
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
    let limit = usize::try_from(sr.max).unwrap_or(usize::MAX);
    let bytes = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => return too_large(sr.max),
    };
    match store.write(&sr.key, &bytes, &sr.ct).await {
        Ok(()) => {
            tracing::info!(key = %sr.key, size = bytes.len(), "media uploaded");
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
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_LENGTH, meta.size.to_string()),
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
