//! `MediaStore` on a private S3 bucket.
//!
//! What is enforced where:
//! - Uploads are a presigned POST (browser form upload, SigV4) whose policy S3 checks: the
//!   exact key, the exact `Content-Type`, `x-amz-server-side-encryption: AES256` and a
//!   `content-length-range` of 1 to the declared size, and the declared size as the object's
//!   metadata (`x-amz-meta-max-size`). A larger, empty or retyped upload is refused by S3
//!   itself, before anything is stored. (A presigned PUT cannot cap the size.)
//! - The media function (S3 `ObjectCreated`) then checks the bytes (magic numbers, image
//!   decode within limits) and the size again; `read` refuses objects over its `max_size`.
//! - Objects live under `uploads/` until attached (then copied to `media/`); a lifecycle rule
//!   expires that prefix after one day (template.yaml). Slots and quotas are table items
//!   (`crate::slots`).
//! - Downloads are presigned GETs that ask S3 for `Content-Disposition: attachment`. S3 cannot
//!   add `X-Content-Type-Options: nosniff` to a presigned GET; the stored content type is the
//!   checked one (or `image/jpeg` for the public copies we encoded ourselves).

use async_trait::async_trait;
use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::copy_object::CopyObjectError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use phananh_core::ports::{
    MediaError, MediaStore, ObjectMeta, PresignedUrl, ReadWhole, UploadedBody, UploadedObject,
};
use sha2::Sha256;
use std::time::Duration;

/// The POST form field that stores an upload's size limit as its metadata (`max-size`).
const MAX_SIZE_FIELD: &str = "x-amz-meta-max-size";

/// Longest validity S3 accepts for a SigV4 presigned URL.
const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// S3 adapter of [`MediaStore`].
#[derive(Debug, Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Signs presigned POST policies (the SDK has no presigned POST).
    credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
}

impl S3MediaStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3MediaStore {
            client,
            bucket: bucket.into(),
            credentials: None,
        }
    }

    /// The credentials presigned POST uploads are signed with (those of the client's config).
    pub fn with_credentials(
        mut self,
        credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    ) -> Self {
        self.credentials = credentials;
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The bucket's URL as this client addresses it (path- or virtual-hosted style): a
    /// presigned GET of `key` without its query and key.
    async fn bucket_url(&self, key: &str) -> Result<String, MediaError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presign_config(Duration::from_secs(60))?)
            .await
            .map_err(backend)?;
        let uri = req.uri();
        let path = uri.split('?').next().unwrap_or(uri);
        path.strip_suffix(&format!("/{key}"))
            .map(|b| format!("{b}/"))
            .ok_or_else(|| MediaError::Backend(format!("cannot derive the bucket URL from {path}")))
    }
}

/// What a presigned POST is signed with.
#[derive(Debug, Clone)]
pub struct PostSigner {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// The form fields of a SigV4 presigned POST of exactly `key`, of `content_type`, 1 to
/// `max_size` bytes, server-side encrypted, valid until `expires`: the policy (base64 JSON)
/// and its signature, in the order S3 wants them before the file.
pub fn post_form_fields(
    signer: &PostSigner,
    bucket: &str,
    key: &str,
    content_type: &str,
    max_size: u64,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Vec<(String, String)> {
    let date = now.format("%Y%m%d").to_string();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let credential = format!(
        "{}/{date}/{}/s3/aws4_request",
        signer.access_key_id, signer.region
    );
    let mut fields: Vec<(String, String)> = vec![
        ("key".into(), key.into()),
        ("Content-Type".into(), content_type.into()),
        ("x-amz-server-side-encryption".into(), "AES256".into()),
        // The slot's size limit kept with the object, so the check needs no slot read.
        (MAX_SIZE_FIELD.into(), max_size.to_string()),
        ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("x-amz-credential".into(), credential),
        ("x-amz-date".into(), amz_date),
    ];
    if let Some(t) = &signer.session_token {
        fields.push(("x-amz-security-token".into(), t.clone()));
    }
    let mut conditions = vec![
        serde_json::json!({ "bucket": bucket }),
        serde_json::json!(["content-length-range", 1, max_size]),
    ];
    for (k, v) in &fields {
        conditions.push(serde_json::json!(["eq", format!("${k}"), v]));
    }
    let policy = serde_json::json!({
        "expiration": expires.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "conditions": conditions,
    });
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let k_date = hmac(
        format!("AWS4{}", signer.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, signer.region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, policy_b64.as_bytes()));
    fields.push(("Policy".into(), policy_b64));
    fields.push(("X-Amz-Signature".into(), signature));
    fields
}

/// The first `cap` bytes of a body, read chunk by chunk: the rest of a long object is not
/// waited for.
async fn read_prefix(mut body: ByteStream, cap: u64) -> Result<Vec<u8>, MediaError> {
    let mut buf = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| MediaError::Backend(e.to_string()))?;
        let room = (cap as usize).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() as u64 >= cap {
            break;
        }
    }
    Ok(buf)
}

fn backend<E, R>(e: SdkError<E, R>) -> MediaError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    MediaError::Backend(DisplayErrorContext(&e).to_string())
}

fn presign_config(ttl: Duration) -> Result<PresigningConfig, MediaError> {
    let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
    PresigningConfig::expires_in(ttl).map_err(|e| MediaError::Backend(e.to_string()))
}

fn to_url(req: PresignedRequest, ttl: Duration) -> PresignedUrl {
    let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
    let expires_at = Utc::now()
        + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::seconds(1));
    PresignedUrl {
        url: req.uri().to_string(),
        method: req.method().to_string(),
        headers: req
            .headers()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        fields: vec![],
        expires_at,
    }
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        max_size: u64,
        ttl: Duration,
    ) -> Result<PresignedUrl, MediaError> {
        let config = self.client.config();
        let creds = self
            .credentials
            .as_ref()
            .ok_or_else(|| MediaError::Backend("no AWS credentials to sign uploads".into()))?
            .provide_credentials()
            .await
            .map_err(|e| MediaError::Backend(format!("credentials: {e}")))?;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| MediaError::Backend("no AWS region".into()))?;
        let signer = PostSigner {
            access_key_id: creds.access_key_id().to_string(),
            secret_access_key: creds.secret_access_key().to_string(),
            session_token: creds.session_token().map(str::to_string),
            region,
        };
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
        let now = Utc::now();
        let expires_at =
            now + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::seconds(1));
        let fields = post_form_fields(
            &signer,
            &self.bucket,
            key,
            content_type,
            max_size,
            now,
            expires_at,
        );
        tracing::debug!(key, max_size, "presigned POST upload");
        Ok(PresignedUrl {
            url: self.bucket_url(key).await?,
            method: "POST".into(),
            headers: vec![],
            fields,
            expires_at,
        })
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedUrl, MediaError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!(
                "attachment; filename=\"{}\"",
                key.rsplit('/').next().unwrap_or("file")
            ))
            .presigned(presign_config(ttl)?)
            .await
            .map_err(backend)?;
        Ok(to_url(req, ttl))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, MediaError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                content_type: out.content_type().map(str::to_string),
            })),
            Err(SdkError::ServiceError(se)) if matches!(se.err(), HeadObjectError::NotFound(_)) => {
                Ok(None)
            }
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn read(&self, key: &str, max_size: u64) -> Result<Vec<u8>, MediaError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(se)) if matches!(se.err(), GetObjectError::NoSuchKey(_)) => {
                return Err(MediaError::NotFound)
            }
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => {
                return Err(MediaError::NotFound)
            }
            Err(e) => return Err(backend(e)),
        };
        if out
            .content_length()
            .is_some_and(|n| n.max(0) as u64 > max_size)
        {
            return Err(MediaError::TooLarge);
        }
        // Read chunk by chunk so an object that lied about its length still stops at the cap.
        let mut body = out.body;
        let mut buf = Vec::new();
        loop {
            match body.next().await {
                Some(Ok(chunk)) => {
                    if (buf.len() + chunk.len()) as u64 > max_size {
                        return Err(MediaError::TooLarge);
                    }
                    buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => return Err(MediaError::Backend(e.to_string())),
                None => break,
            }
        }
        Ok(buf)
    }

    async fn write(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn read_head(&self, key: &str, n: u64) -> Result<Vec<u8>, MediaError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", n - 1))
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(se)) if matches!(se.err(), GetObjectError::NoSuchKey(_)) => {
                return Err(MediaError::NotFound)
            }
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => {
                return Err(MediaError::NotFound)
            }
            // An empty object has no byte 0.
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 416 => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(backend(e)),
        };
        read_prefix(out.body, n).await
    }

    /// One GET, ranged to the largest whole read: the type, the metadata and the size (from
    /// `Content-Range`) come with the bytes, instead of a HEAD and a GET.
    async fn read_upload(
        &self,
        key: &str,
        n: u64,
        whole: ReadWhole<'_>,
    ) -> Result<Option<UploadedObject>, MediaError> {
        // One byte past the cap, so an object over it shows in its Content-Range.
        let last = whole.max.max(n).max(1);
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{last}"))
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(se)) if matches!(se.err(), GetObjectError::NoSuchKey(_)) => {
                return Ok(None)
            }
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => {
                return Ok(None)
            }
            // An empty object has no byte 0: S3 answers 416 without its headers.
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 416 => {
                let h = se.raw().headers();
                return Ok(Some(UploadedObject {
                    content_type: h.get("content-type").map(str::to_string),
                    size: 0,
                    max_size: h.get(MAX_SIZE_FIELD).and_then(|v| v.parse().ok()),
                    body: UploadedBody::Head(Vec::new()),
                }));
            }
            Err(e) => return Err(backend(e)),
        };
        let size = match out.content_range() {
            Some(range) => range
                .rsplit('/')
                .next()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| MediaError::Backend(format!("Content-Range {range}")))?,
            // A store that ignores the range sends the whole object: its length is the size.
            None => out.content_length().unwrap_or(0).max(0) as u64,
        };
        let content_type = out.content_type().map(str::to_string);
        let max_size = out
            .metadata()
            .and_then(|m| m.get("max-size"))
            .and_then(|v| v.parse().ok());
        let read_whole = content_type
            .as_deref()
            .is_some_and(|t| whole.types.contains(&t));
        let cap = if read_whole { whole.max } else { n };
        if read_whole && size > whole.max {
            return Ok(Some(UploadedObject {
                content_type,
                size,
                max_size,
                body: UploadedBody::TooLarge,
            }));
        }
        let buf = read_prefix(out.body, cap).await?;
        let body = if read_whole {
            UploadedBody::Whole(buf)
        } else {
            UploadedBody::Head(buf)
        };
        Ok(Some(UploadedObject {
            content_type,
            size,
            max_size,
            body,
        }))
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), MediaError> {
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(to)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), CopyObjectError::ObjectNotInActiveTierError(_))
                    || se.raw().status().as_u16() == 404 =>
            {
                Err(MediaError::NotFound)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> PostSigner {
        PostSigner {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("token-1".into()),
            region: "ap-southeast-1".into(),
        }
    }

    fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    #[test]
    fn the_post_policy_caps_size_type_key_and_encryption() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let expires = now + chrono::Duration::minutes(15);
        let f = post_form_fields(
            &signer(),
            "phananh-media",
            "uploads/0123456789abcdef/abc",
            "image/jpeg",
            5_000_000,
            now,
            expires,
        );
        let raw = base64::engine::general_purpose::STANDARD
            .decode(field(&f, "Policy"))
            .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(policy["expiration"], "2026-11-28T10:15:00.000Z");
        let conds = policy["conditions"].as_array().unwrap();
        let has = |c: serde_json::Value| conds.contains(&c);
        assert!(has(serde_json::json!([
            "content-length-range",
            1,
            5_000_000
        ])));
        assert!(has(serde_json::json!({"bucket": "phananh-media"})));
        assert!(has(serde_json::json!([
            "eq",
            "$key",
            "uploads/0123456789abcdef/abc"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$Content-Type",
            "image/jpeg"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-server-side-encryption",
            "AES256"
        ])));
        // The slot's size limit travels with the object, bound like the rest, so the check
        // can compare without reading the slot.
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-meta-max-size",
            "5000000"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-security-token",
            "token-1"
        ])));
        assert!(has(serde_json::json!([
            "eq",
            "$x-amz-credential",
            "AKIDEXAMPLE/20261128/ap-southeast-1/s3/aws4_request"
        ])));
        // Every form field but the policy and signature is bound by a condition, so none can
        // be changed by the client.
        for (k, _) in &f {
            if k != "Policy" && k != "X-Amz-Signature" {
                assert!(conds.iter().any(|c| c[1] == format!("${k}")), "{k} unbound");
            }
        }
        // The signature is the SigV4 HMAC chain over the base64 policy.
        let k = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b"20261128");
        let k = hmac(&hmac(&hmac(&k, b"ap-southeast-1"), b"s3"), b"aws4_request");
        assert_eq!(
            field(&f, "X-Amz-Signature"),
            hex::encode(hmac(&k, field(&f, "Policy").as_bytes()))
        );
        // A different size makes a different policy and signature.
        let g = post_form_fields(
            &signer(),
            "phananh-media",
            "uploads/0123456789abcdef/abc",
            "image/jpeg",
            5_000_001,
            now,
            expires,
        );
        assert_ne!(field(&f, "X-Amz-Signature"), field(&g, "X-Amz-Signature"));
    }
}
