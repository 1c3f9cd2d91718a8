//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 6 digits, 30-second
//! steps), the optional second factor of the staff who decide (issue 12 item 3): leaders, the
//! IOC head and the office. Pure functions; the account keeps the secret sealed and the last
//! step used, so a code is accepted once.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Length of a step in seconds (RFC 6238's default, what authenticator apps use).
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now (clock drift of the phone).
pub const WINDOW: i64 = 1;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// A staff account's second factor as stored: the secret sealed under a key kept outside the
/// database (never returned after enrolment), whether the person confirmed it with a first
/// code, and the last step a code was accepted for (a code is not accepted twice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// Hex of nonce (16 bytes) ‖ secret XOR HMAC-SHA256(key, "totp" ‖ account ‖ nonce).
    pub sealed: String,
    #[serde(default)]
    pub confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<i64>,
}

/// RFC 4226 HOTP value of `counter`, `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret) else {
        return 0; // HMAC takes a key of any length: never reached.
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = ((u32::from(h[off]) & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// The step of unix time `unix`.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// The code of `step`, zero-padded.
pub fn code_of_step(secret: &[u8], step: i64) -> String {
    let v = hotp(secret, step.max(0) as u64, DIGITS);
    format!("{v:0width$}", width = DIGITS as usize)
}

/// The step `code` is valid for at `unix` (within ±[`WINDOW`] steps) and after `last_used`,
/// compared in constant time; None when it is wrong, too old or already used.
pub fn verify(secret: &[u8], code: &str, unix: i64, last_used: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix);
    let mut found = None;
    // Every candidate is computed and compared, so timing does not tell which matched.
    for step in (now - WINDOW)..=(now + WINDOW) {
        let ok: bool = code_of_step(secret, step)
            .as_bytes()
            .ct_eq(code.as_bytes())
            .into();
        if ok && last_used.is_none_or(|l| step > l) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what `otpauth://` URIs and authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The bytes of RFC 4648 base32 text (padding, spaces and case ignored); None if not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32
            .iter()
            .position(|b| *b as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

/// The `otpauth://totp/` URI an authenticator app reads (as a QR code or pasted).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = percent_encode;
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A new random secret of [`SECRET_BYTES`] from the operating system's generator (two UUID v4,
/// 244 random bits, through SHA-256).
pub fn new_secret() -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(uuid::Uuid::new_v4().as_bytes());
    h.update(uuid::Uuid::new_v4().as_bytes());
    h.finalize()[..SECRET_BYTES].to_vec()
}

/// A fresh nonce for [`seal`].
pub fn new_nonce() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

fn pad(key: &[u8], account: &str, nonce: &[u8]) -> Vec<u8> {
    let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return vec![0; 32], // never reached: HMAC takes any key length
    };
    mac.update(b"totp\0");
    mac.update(account.as_bytes());
    mac.update(b"\0");
    mac.update(nonce);
    mac.finalize().into_bytes().to_vec()
}

/// Seals `secret` (at most 32 bytes) for `account` under `key` with a fresh `nonce`.
pub fn seal(key: &[u8], account: &str, nonce: &[u8; 16], secret: &[u8]) -> String {
    let p = pad(key, account, nonce);
    let body: Vec<u8> = secret.iter().zip(p.iter()).map(|(s, k)| s ^ k).collect();
    format!("{}{}", hex::encode(nonce), hex::encode(body))
}

/// The secret sealed by [`seal`]; None when it is not one.
pub fn open(key: &[u8], account: &str, sealed: &str) -> Option<Vec<u8>> {
    let raw = hex::decode(sealed).ok()?;
    if raw.len() < 17 || raw.len() > 48 {
        return None;
    }
    let (nonce, body) = raw.split_at(16);
    let p = pad(key, account, nonce);
    Some(body.iter().zip(p.iter()).map(|(s, k)| s ^ k).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits), and RFC 4226 appendix D (6 digits).
    #[test]
    fn rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(secret, (t / 30) as u64, 8), want, "T = {t}");
        }
        let hotp6 = [
            755224u32, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (c, want) in hotp6.iter().enumerate() {
            assert_eq!(hotp(secret, c as u64, 6), *want, "count {c}");
        }
        assert_eq!(code_of_step(secret, 1), "287082");
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_once() {
        let secret = b"12345678901234567890";
        let t = 1_111_111_111;
        let code = code_of_step(secret, step_of(t));
        let s = step_of(t);
        assert_eq!(verify(secret, &code, t, None), Some(s));
        assert_eq!(
            verify(secret, &code, t + 30, None),
            Some(s),
            "one step late"
        );
        assert_eq!(
            verify(secret, &code, t - 30, None),
            Some(s),
            "one step early"
        );
        assert_eq!(verify(secret, &code, t + 60, None), None, "two steps late");
        assert_eq!(verify(secret, &code, t, Some(s)), None, "replayed");
        assert_eq!(verify(secret, "12345", t, None), None);
        assert_eq!(verify(secret, "abcdef", t, None), None);
    }

    #[test]
    fn base32_and_uri() {
        // RFC 4648 section 10.
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"f"), "MY");
        for b in [&b"foobar"[..], b"f", b"12345678901234567890"] {
            assert_eq!(base32_decode(&base32(b)).as_deref(), Some(b));
        }
        assert_eq!(base32_decode("MZXW6===").as_deref(), Some(&b"foo"[..]));
        assert_eq!(base32_decode("M1"), None);
        let uri = otpauth_uri("Phản ánh Lai Châu", "lanhdao", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/Ph%E1%BA%A3n"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"),
            "{uri}"
        );
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_account() {
        let secret = b"12345678901234567890";
        let sealed = seal(b"key", "acc-1", &[7; 16], secret);
        assert!(!sealed.contains(&hex::encode(secret)));
        assert_eq!(open(b"key", "acc-1", &sealed).as_deref(), Some(&secret[..]));
        assert_ne!(
            open(b"other", "acc-1", &sealed).as_deref(),
            Some(&secret[..])
        );
        assert_ne!(open(b"key", "acc-2", &sealed).as_deref(), Some(&secret[..]));
        assert_eq!(open(b"key", "acc-1", "zz"), None);
    }
}
