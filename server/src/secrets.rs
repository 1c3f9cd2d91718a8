//! Secrets of the embedded runtime (token and media-URL signing keys): taken from the
//! environment when set, else generated once and kept in the data directory in files only the
//! owner can read. `write_private` is also how other private files (the demo passwords) are
//! written.

use crate::BoxError;
use rand::RngCore;
use std::io::Write;
use std::path::Path;

/// A secret from the environment, else one generated on first start and kept (mode 0600)
/// in the data directory.
pub(crate) fn secret(data: &Path, env: &str, file: &str) -> Result<Vec<u8>, BoxError> {
    if let Ok(v) = std::env::var(env) {
        if v.len() < 32 {
            return Err(format!("{env} must be at least 32 characters").into());
        }
        return Ok(v.into_bytes());
    }
    let path = data.join(file);
    if let Ok(v) = std::fs::read_to_string(&path) {
        let v = v.trim().to_string();
        if v.len() >= 32 {
            return Ok(v.into_bytes());
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let v = hex::encode(bytes);
    write_private(&path, &v)?;
    Ok(v.into_bytes())
}

/// Writes `content` to `path`, created (on Unix) with mode 0600, and syncs it to disk.
pub(crate) fn write_private(path: &Path, content: &str) -> Result<(), BoxError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
