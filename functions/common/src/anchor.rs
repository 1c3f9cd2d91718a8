//! The daily audit anchor on AWS (issue 12, Đ.6.2), from the escalate function's schedule:
//! when `PHANANH_ANCHOR_BUCKET` is set, each finished UTC day's Merkle root is written once to
//! the Object Lock bucket (`phananh_aws::anchors`). A warm container remembers the last day it
//! saw anchored, so the bucket is read once a day, not every minute.

use crate::Runtime;
use phananh_aws::anchors::{S3Anchors, ENV_ANCHOR_BUCKET};
use phananh_aws::AwsClients;
use std::sync::Mutex;
use tokio::sync::OnceCell;
use tracing::{error, info};

static ANCHORS: OnceCell<Option<S3Anchors>> = OnceCell::const_new();
static DONE_FOR: Mutex<Option<String>> = Mutex::new(None);

/// Writes the anchors of finished days not anchored yet; a failure is logged, never fatal
/// to the escalation pass (the next minute tries again).
pub(crate) async fn daily(rt: &Runtime) {
    match std::env::var(ENV_ANCHOR_BUCKET) {
        Ok(b) if !b.trim().is_empty() => {}
        _ => return,
    }
    let today = rt.app.now().date_naive().to_string();
    if DONE_FOR
        .lock()
        .map(|d| d.as_deref() == Some(today.as_str()))
        .unwrap_or(false)
    {
        return;
    }
    let anchors = ANCHORS
        .get_or_init(|| async {
            let clients = AwsClients::from_env(&rt.settings).await;
            S3Anchors::from_env(clients.s3)
        })
        .await;
    let Some(anchors) = anchors else { return };
    match anchors.anchor_pending(&rt.app).await {
        Ok(days) => {
            if !days.is_empty() {
                info!(days = days.len(), "audit anchors written");
            }
            if let Ok(mut d) = DONE_FOR.lock() {
                *d = Some(today);
            }
        }
        Err(e) => error!(error = %e, "audit anchor not written"),
    }
}
