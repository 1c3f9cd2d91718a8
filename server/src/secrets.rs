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

/// The content of a private file, None when it does not exist. A file that others than its
/// owner may read or write is refused (the process does not start with a leaked key).
pub(crate) fn read_private(path: &Path) -> Result<Option<String>, BoxError> {
    let content = match std::fs::read_to_string(path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} has mode {mode:03o}: others than its owner may read it; \
                 run `chmod 600 {}` (and treat the key as leaked if it was read)",
                path.display(),
                path.display()
            )
            .into());
        }
    }
    Ok(Some(content))
}

/// Data keys of `len` bytes, hex, the current one first: from `env` (comma-separated) when
/// set, else one per line of `file` in the data directory, created with one new key (mode
/// 0600) on first start. Rotation: put a new key on the first line and keep the old ones
/// below it.
pub(crate) fn data_keys(
    data: &Path,
    env: &str,
    file: &str,
    len: usize,
) -> Result<Vec<Vec<u8>>, BoxError> {
    let parse = |text: &str, from: &str| -> Result<Vec<Vec<u8>>, BoxError> {
        let keys = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match hex::decode(l) {
                Ok(k) if k.len() == len => Ok(k),
                _ => Err(format!("{from}: each key must be {} hex digits", len * 2)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(format!("{from}: no key").into());
        }
        Ok(keys)
    };
    if let Ok(v) = std::env::var(env) {
        return parse(&v, env);
    }
    let path = data.join(file);
    if let Some(v) = read_private(&path)? {
        return parse(&v, &path.display().to_string());
    }
    let mut key = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut key);
    write_private(&path, &format!("{}\n", hex::encode(&key)))?;
    Ok(vec![key])
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
