//! `MediaStore` on a private S3 bucket.
//!
//! What is enforced where:
//! - The presigned PUT signs `Content-Type` and `x-amz-server-side-encryption: AES256`: an
//!   upload with another type or without the encryption header is refused by S3.
//! - The size can NOT be capped by a presigned PUT (signing `Content-Length` would demand one
//!   exact size). The limit is checked after the upload: the media function handles the
//!   bucket's `ObjectCreated` event, reads the size with `head` and deletes/ignores objects
//!   over `max_size`; `read` also refuses objects over its `max_size` (`TooLarge`).
//! - Objects live under `uploads/` until the media pipeline validates them; a lifecycle rule
//!   expires that prefix after one day (template.yaml).

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use chrono::Utc;
use phananh_core::ports::{MediaError, MediaStore, ObjectMeta, PresignedUrl};
use std::time::Duration;

/// Longest validity S3 accepts for a SigV4 presigned URL.
const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// S3 adapter of [`MediaStore`].
#[derive(Debug, Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3MediaStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3MediaStore {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Deletes an object (used by the media pipeline to drop invalid uploads).
    pub async fn delete(&self, key: &str) -> Result<(), MediaError> {
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
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .presigned(presign_config(ttl)?)
            .await
            .map_err(backend)?;
        tracing::debug!(key, max_size, "presigned upload");
        let mut url = to_url(req, ttl);
        // Make sure the client sends the signed headers even if the SDK moved one into the query.
        for (name, value) in [
            ("content-type", content_type.to_string()),
            ("x-amz-server-side-encryption", "AES256".to_string()),
        ] {
            if !url
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
            {
                url.headers.push((name.to_string(), value));
            }
        }
        Ok(url)
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedUrl, MediaError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
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
}
