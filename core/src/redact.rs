//! The redaction layer of the logs (Đ.4.2: the reporter's personal data stays protected): every
//! log line both runtimes write goes through [`RedactingWriter`], which replaces phone numbers
//! and e-mail addresses with `[phone]` and `[email]` before the line leaves the process. Names
//! cannot be recognised by their shape: no use case logs one (the property test
//! `core/tests/redaction.rs` checks lines of every flow for generated names too).

use std::borrow::Cow;
use std::io::Write;

fn is_email_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn is_email_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".-".contains(c)
}

/// Whether a run of `digits` (with a leading `+` when `plus`) looks like a phone number:
/// international (`+` and 8–15 digits), Vietnamese national (`0` and 9–10 more digits), or
/// `84` and 9–10 more digits.
fn is_phone(digits: &str, plus: bool) -> bool {
    let n = digits.len();
    if plus {
        return (8..=15).contains(&n);
    }
    (digits.starts_with('0') && (10..=11).contains(&n))
        || (digits.starts_with("84") && (11..=12).contains(&n))
}

/// `s` with phone numbers and e-mail addresses replaced (borrowed when there is none).
pub fn redact(s: &str) -> Cow<'_, str> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = String::new();
    let mut copied = 0; // byte offset up to which `s` is in `out`
    let mut i = 0;
    let mut changed = false;
    while i < chars.len() {
        let (at, c) = chars[i];
        // E-mail: local@domain.tld around an '@'.
        if c == '@' {
            let mut l = i;
            while l > 0 && is_email_local(chars[l - 1].1) {
                l -= 1;
            }
            let mut r = i + 1;
            while r < chars.len() && is_email_domain(chars[r].1) {
                r += 1;
            }
            let domain: String = chars[i + 1..r].iter().map(|(_, c)| *c).collect();
            let domain = domain.trim_end_matches('.');
            if l < i && domain.contains('.') && !domain.starts_with('.') {
                let start = chars[l].0;
                let end = chars
                    .get(i + 1 + domain.chars().count())
                    .map_or(s.len(), |(b, _)| *b);
                if start >= copied {
                    out.push_str(&s[copied..start]);
                    out.push_str("[email]");
                    copied = end;
                    changed = true;
                }
                i = i + 1 + domain.chars().count();
                continue;
            }
        }
        // Phone: a run of digits (spaces, dots and dashes between groups allowed), not part of
        // a longer word or hex string.
        let plus = c == '+' && chars.get(i + 1).is_some_and(|(_, d)| d.is_ascii_digit());
        if (c.is_ascii_digit() || plus) && (i == 0 || !chars[i - 1].1.is_ascii_alphanumeric()) {
            let mut j = if plus { i + 1 } else { i };
            let mut digits = String::new();
            let mut last_digit = j;
            while j < chars.len() {
                let d = chars[j].1;
                if d.is_ascii_digit() {
                    digits.push(d);
                    last_digit = j;
                } else if !(" .-".contains(d)
                    && chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit()))
                {
                    break;
                }
                j += 1;
            }
            let after = chars.get(last_digit + 1).map(|(_, c)| *c);
            let boundary = after.is_none_or(|a| !a.is_ascii_alphanumeric());
            if boundary && is_phone(&digits, plus) {
                let end = chars.get(last_digit + 1).map_or(s.len(), |(b, _)| *b);
                out.push_str(&s[copied..at]);
                out.push_str("[phone]");
                copied = end;
                changed = true;
                i = last_digit + 1;
                continue;
            }
            i = last_digit.max(i) + 1;
            continue;
        }
        i += 1;
    }
    if !changed {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// A writer that redacts what is written to it, line by line (a log formatter writes a whole
/// line per call). Use as the writer of the tracing subscriber:
/// `.with_writer(|| RedactingWriter::new(std::io::stderr()))`.
pub struct RedactingWriter<W: Write> {
    inner: W,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter { inner }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn phones_and_emails_are_replaced_and_the_rest_kept() {
        assert_eq!(
            redact("sent to +84912345678 and 0912 345 678, mail an.nguyen@example.vn."),
            "sent to [phone] and [phone], mail [email]."
        );
        assert_eq!(redact("otp:0912345678:123"), "otp:[phone]:123");
        // Ids, hashes, times and counts stay.
        for keep in [
            "report_id=0190f5c2-7a1b-7c3d-9e4f-5a6b7c8d9e0f",
            "hash=a1234567890123b",
            "at=2025-03-03T02:00:00Z seq=12 count=123456789",
            "user@localhost",
        ] {
            assert_eq!(redact(keep), keep);
        }
    }
}

/// A provider's error text as the delivery log may store it (issue 12 item 5: stored error
/// texts never hold a phone number, an e-mail address or a name): the recipient `to` removed
/// in every form a provider may quote it (as given, without `+`, without the country code, in
/// any case), then every other phone number and e-mail address (as [`redact`]). Names: no
/// provider is given one (a message carries an address, and no template names a person), so
/// none can be quoted back.
pub fn delivery_error(error: &str, to: &str) -> String {
    let mut out = error.to_string();
    let to = to.trim();
    if to.contains('@') {
        out = replace_ignoring_case(&out, to, "[email]");
    } else if !to.is_empty() {
        let digits: String = to.chars().filter(char::is_ascii_digit).collect();
        out = out.replace(to, "[phone]");
        if digits.len() >= 8 {
            out = out.replace(&digits, "[phone]");
        }
        if digits.len() >= 10 {
            // The national number (without the country code), as a provider may print it.
            let national = &digits[digits.len() - 9..];
            out = out.replace(national, "[phone]");
        }
    }
    redact(&out).into_owned()
}

fn replace_ignoring_case(s: &str, needle: &str, with: &str) -> String {
    let lower = s.to_lowercase();
    let needle = needle.to_lowercase();
    // Lowercasing keeps byte offsets only for ASCII; otherwise fall back to the exact case.
    if needle.is_empty() || lower.len() != s.len() {
        return s.replace(&needle, with);
    }
    let mut out = String::with_capacity(s.len());
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        out.push_str(&s[from..from + i]);
        out.push_str(with);
        from += i + needle.len();
    }
    out.push_str(&s[from..]);
    out
}

impl crate::delivery::Attempt {
    /// A failed attempt, its error text redacted for the delivery log ([`delivery_error`]):
    /// how every adapter records a provider's refusal, so no log stores an address.
    pub fn failed(
        provider: impl Into<String>,
        error: &str,
        n: &crate::ports::Notification,
    ) -> crate::delivery::Attempt {
        crate::delivery::Attempt::Failed {
            provider: provider.into(),
            error: delivery_error(error, &n.to),
        }
    }
}

#[cfg(test)]
mod delivery_error_tests {
    use super::delivery_error;

    #[test]
    fn a_provider_error_quoting_the_recipient_is_stored_without_it() {
        let smtp = "550 5.1.1 <Pao.Vang@Example.VN>: Recipient address rejected; also cc minh@x.vn";
        let e = delivery_error(smtp, "pao.vang@example.vn");
        assert_eq!(
            e,
            "550 5.1.1 <[email]>: Recipient address rejected; also cc [email]"
        );
        for quoted in [
            "invalid destination +84966555444",
            "invalid destination 84966555444",
            "invalid destination 0966555444",
            "number 966555444 is not reachable",
        ] {
            let e = delivery_error(quoted, "+84966555444");
            assert!(!e.contains("966555444"), "{e}");
            assert!(e.contains("[phone]"), "{e}");
        }
        assert_eq!(delivery_error("timed out", "+84966555444"), "timed out");
    }
}
