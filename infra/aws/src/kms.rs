//! The personal-data keys on AWS (issue 12 item 5): envelope encryption with KMS. The data
//! key that seals the reporter's name, phone and e-mail (core's [`Keyring`], AES-256-GCM) is
//! kept only wrapped by a KMS key: the functions get the wrapped blob(s) from the environment
//! (`PHANANH_PII_WRAPPED_KEYS`, base64, comma-separated, the current key first) and unwrap
//! them with `kms:Decrypt` once per cold start. The plaintext key lives in the function's
//! memory only; a copy of the table is unreadable without the KMS key.
//!
//! A new wrapped key is made with `GenerateDataKeyWithoutPlaintext` ([`generate_wrapped_key`],
//! or `aws kms generate-data-key-without-plaintext --key-spec AES_256`), never seen in
//! plaintext by whoever configures it.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use phananh_core::pii::{Keyring, PiiError, KEY_LEN};

/// The variable holding the wrapped data keys (base64 KMS ciphertext blobs, comma-separated,
/// the current one first).
pub const ENV_PII_WRAPPED_KEYS: &str = "PHANANH_PII_WRAPPED_KEYS";

#[derive(Debug, thiserror::Error)]
pub enum KmsKeyError {
    #[error("{ENV_PII_WRAPPED_KEYS}: entry {0} is not base64")]
    NotBase64(usize),
    #[error("{ENV_PII_WRAPPED_KEYS}: no wrapped key")]
    Empty,
    #[error("KMS refused to unwrap the personal-data key {index}: {message}")]
    Kms { index: usize, message: String },
    #[error("KMS: {0}")]
    Generate(String),
    #[error(transparent)]
    Key(#[from] PiiError),
}

/// A new AES-256 data key under the KMS key `kms_key_id`, wrapped (base64): the value of
/// [`ENV_PII_WRAPPED_KEYS`].
pub async fn generate_wrapped_key(
    kms: &aws_sdk_kms::Client,
    kms_key_id: &str,
) -> Result<String, KmsKeyError> {
    let out = kms
        .generate_data_key_without_plaintext()
        .key_id(kms_key_id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .map_err(|e| {
            KmsKeyError::Generate(aws_sdk_kms::error::DisplayErrorContext(e).to_string())
        })?;
    let blob = out
        .ciphertext_blob
        .ok_or_else(|| KmsKeyError::Generate("no ciphertext blob".into()))?;
    Ok(STANDARD.encode(blob.into_inner()))
}

/// The keyring of the wrapped keys in `wrapped` (base64, comma-separated, the current first),
/// each unwrapped by KMS.
pub async fn unwrap_keyring(
    kms: &aws_sdk_kms::Client,
    wrapped: &str,
) -> Result<Keyring, KmsKeyError> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for (index, w) in wrapped
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let blob = STANDARD
            .decode(w)
            .map_err(|_| KmsKeyError::NotBase64(index))?;
        let out = kms
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .send()
            .await
            .map_err(|e| KmsKeyError::Kms {
                index,
                message: aws_sdk_kms::error::DisplayErrorContext(e).to_string(),
            })?;
        let key = out.plaintext.map(Blob::into_inner).unwrap_or_default();
        if key.len() != KEY_LEN {
            return Err(KmsKeyError::Kms {
                index,
                message: format!("{} bytes unwrapped, {KEY_LEN} expected", key.len()),
            });
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(KmsKeyError::Empty);
    }
    Ok(Keyring::new(&keys)?)
}
