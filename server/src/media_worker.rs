//! The embedded media worker (issue 11): checks each upload as soon as the media route has
//! stored it (type by magic bytes, images decoded within limits into public copies; refused
//! files deleted), and sweeps unconfirmed uploads once they expire. On AWS the same use case
//! runs in the media function on the bucket's `ObjectCreated` events, and a lifecycle rule
//! expires the upload area.

use crate::LOG_TARGET;
use phananh_core::app::App;
use phananh_core::media::UploadCheck;
use phananh_embedded::FileMediaStore;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// How often the sweep looks for expired uploads.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Sets the free-disk floor, then runs the worker until `stop` changes.
pub(crate) fn spawn(
    media: Arc<FileMediaStore>,
    app: App,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let cfg = app.rules().config.city.media.clone();
    media.set_min_free_bytes(cfg.min_free_disk_mb.saturating_mul(1024 * 1024));
    let expiry = Duration::from_secs(u64::from(cfg.upload_expiry_hours) * 3600);
    let (tx, mut uploads) = tokio::sync::mpsc::unbounded_channel::<String>();
    media.on_upload(tx);
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                Some(key) = uploads.recv() => match app.check_upload(&key).await {
                    Ok(UploadCheck::Rejected { reason }) => {
                        warn!(target: LOG_TARGET, key = %key, reason = %reason, "upload refused")
                    }
                    Ok(_) => {}
                    // The slot stays pending: attaching it checks again.
                    Err(e) => error!(target: LOG_TARGET, key = %key, error = %e, "upload check failed"),
                },
                _ = sweep.tick() => match media.sweep(expiry).await {
                    Ok(0) => {}
                    Ok(n) => info!(target: LOG_TARGET, count = n, "expired uploads removed"),
                    Err(e) => error!(target: LOG_TARGET, error = %e, "upload sweep failed"),
                },
                _ = stop.changed() => break,
            }
        }
    })
}
