//! The daily audit anchors on AWS (issue 12 item 1, Đ.6.2, Đ.9.2): each finished UTC day's
//! Merkle root over every timeline entry written that day (`App::anchor_day`), written once as
//! `anchors/<YYYY-MM-DD>.json` to a bucket with S3 Object Lock, each object version locked in
//! COMPLIANCE mode until a retain-until date: nobody, not even the account's root user, can
//! overwrite or delete it before then, so whoever rewrites DynamoDB cannot rewrite the anchor.
//! The escalate function (every minute) writes the anchors of finished days not yet anchored;
//! [`S3Anchors::verify_day`] recomputes a day from the table and compares.

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::{ByteStream, DateTime as S3DateTime};
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use phananh_core::audit::Anchor;
use phananh_core::error::DomainError;
use phananh_core::App;
use tracing::{error, info};

/// Environment variable naming the anchor bucket (set by `template.yaml` on the escalate
/// function). Unset: no anchors are written.
pub const ENV_ANCHOR_BUCKET: &str = "PHANANH_ANCHOR_BUCKET";
/// Optional: days an anchor is locked (default [`DEFAULT_RETAIN_DAYS`]).
pub const ENV_ANCHOR_RETAIN_DAYS: &str = "PHANANH_ANCHOR_RETAIN_DAYS";
/// Ten years: the archive period of the city's handling records.
pub const DEFAULT_RETAIN_DAYS: i64 = 3650;
/// At most this many missed days are anchored in one pass.
pub const MAX_DAYS_PER_PASS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("anchor storage: {0}")]
    Storage(String),
    #[error("anchor: {0}")]
    Domain(#[from] DomainError),
}

/// What a day's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayCheck {
    /// No anchor stored for the day.
    NotAnchored,
    /// The table still gives the anchored root.
    Matches,
    /// The table gives another root: entries of that day were changed, added or removed.
    Broken { anchored: String, now: String },
}

/// The anchor bucket.
#[derive(Debug, Clone)]
pub struct S3Anchors {
    client: aws_sdk_s3::Client,
    bucket: String,
    retain_days: i64,
}

fn key(day: NaiveDate) -> String {
    format!("anchors/{day}.json")
}

fn storage<E: std::error::Error + 'static>(e: E) -> AnchorError {
    AnchorError::Storage(format!("{}", DisplayErrorContext(e)))
}

impl S3Anchors {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Anchors {
        S3Anchors {
            client,
            bucket: bucket.into(),
            retain_days: DEFAULT_RETAIN_DAYS,
        }
    }

    /// Days each anchor stays locked.
    pub fn with_retain_days(mut self, days: i64) -> S3Anchors {
        self.retain_days = days.max(1);
        self
    }

    /// From [`ENV_ANCHOR_BUCKET`] (None when unset) and [`ENV_ANCHOR_RETAIN_DAYS`].
    pub fn from_env(client: aws_sdk_s3::Client) -> Option<S3Anchors> {
        let bucket = std::env::var(ENV_ANCHOR_BUCKET)
            .ok()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())?;
        let days = std::env::var(ENV_ANCHOR_RETAIN_DAYS)
            .ok()
            .and_then(|d| d.trim().parse::<i64>().ok())
            .unwrap_or(DEFAULT_RETAIN_DAYS);
        Some(S3Anchors::new(client, bucket).with_retain_days(days))
    }

    /// The anchor stored for `day`, if any.
    pub async fn get(&self, day: NaiveDate) -> Result<Option<Anchor>, AnchorError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key(day))
            .send()
            .await
        {
            Ok(o) => o,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                return Ok(None)
            }
            Err(e) => return Err(storage(e)),
        };
        let bytes = out.body.collect().await.map_err(storage)?.into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AnchorError::Storage(format!("anchor of {day} is not JSON: {e}")))
    }

    /// Writes `a`, locked in COMPLIANCE mode until `now` + the retention. Object Lock needs
    /// an integrity checksum on the request (SHA-256 here).
    pub async fn put(&self, a: &Anchor, now: DateTime<Utc>) -> Result<(), AnchorError> {
        let body = serde_json::to_vec(a)
            .map_err(|e| AnchorError::Storage(format!("anchor to JSON: {e}")))?;
        let until = now + Duration::days(self.retain_days);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key(a.day))
            .content_type("application/json")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(S3DateTime::from_secs(until.timestamp()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(storage)?;
        Ok(())
    }

    /// Anchors every finished UTC day up to yesterday that has no anchor yet, oldest first,
    /// looking back at most [`MAX_DAYS_PER_PASS`] days; one read when yesterday is anchored
    /// already. Returns the days written.
    pub async fn anchor_pending(&self, app: &App) -> Result<Vec<NaiveDate>, AnchorError> {
        let now = app.now();
        let today = now.date_naive();
        let mut missing = Vec::new();
        for back in 1..=MAX_DAYS_PER_PASS {
            let day = today - Duration::days(back);
            if self.get(day).await?.is_some() {
                break;
            }
            missing.push(day);
        }
        missing.reverse();
        for day in &missing {
            let a = app.anchor_day(*day).await?;
            self.put(&a, now).await?;
            info!(day = %a.day, root = %a.root, entries = a.entries, "audit anchor written to S3");
        }
        Ok(missing)
    }

    /// Recomputes `day` from the table and compares it with its anchor. A mismatch is logged
    /// as an error.
    pub async fn verify_day(&self, app: &App, day: NaiveDate) -> Result<DayCheck, AnchorError> {
        let Some(anchored) = self.get(day).await? else {
            return Ok(DayCheck::NotAnchored);
        };
        let now = app.anchor_day(day).await?;
        if now.root == anchored.root && now.entries == anchored.entries {
            return Ok(DayCheck::Matches);
        }
        error!(day = %day, anchored = %anchored.root, now = %now.root, "audit anchor does not match the table");
        Ok(DayCheck::Broken {
            anchored: anchored.root,
            now: now.root,
        })
    }
}
