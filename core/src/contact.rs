//! Contact details people give us (a reporter's phone and e-mail, a unit's notification
//! addresses), parsed once into a normal form: phone numbers in E.164, e-mail addresses
//! checked for syntax. Nothing that fails here is stored or sent to.
//!
//! Vietnamese numbers: the national significant number after the country code 84 is a mobile
//! number of 9 digits starting with 3, 5, 7, 8 or 9, or a landline of 10 digits starting with
//! 2 (two- or three-digit area code included). Written with a leading 0, with +84, 0084 or 84.
//! A visitor's foreign number is accepted in international form only (`+` and country code).

/// A phone number in E.164 (`+84912345678`), or a Vietnamese message saying what is wrong.
pub fn phone_e164(raw: &str) -> Result<String, &'static str> {
    const WRONG: &str = "số điện thoại không hợp lệ (di động 10 số, cố định 11 số, \
                         hoặc số quốc tế bắt đầu bằng +)";
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 32 {
        return Err(WRONG);
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')' | '+'))
    {
        return Err(WRONG);
    }
    let compact: String = raw
        .chars()
        .filter(|c| *c == '+' || c.is_ascii_digit())
        .collect();
    if compact.rfind('+').is_some_and(|i| i > 0) {
        return Err(WRONG);
    }
    let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = compact.strip_prefix("00") {
        (true, rest)
    } else {
        (false, compact.as_str())
    };
    let national = if international {
        match digits.strip_prefix("84") {
            Some(n) => n,
            // A foreign number: E.164 allows at most 15 digits, country code included.
            None if (8..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                return Ok(format!("+{digits}"))
            }
            None => return Err(WRONG),
        }
    } else if let Some(n) = digits.strip_prefix('0') {
        n
    } else if let Some(n) = digits.strip_prefix("84").filter(|n| n.len() >= 9) {
        n
    } else {
        return Err(WRONG);
    };
    let mobile =
        national.len() == 9 && matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9');
    let landline = national.len() == 10 && national.starts_with('2');
    if mobile || landline {
        Ok(format!("+84{national}"))
    } else {
        Err(WRONG)
    }
}

/// A number as Vietnamese readers write it: `+84912345678` → `0912345678`; a foreign number
/// stays in international form.
pub fn phone_national(e164: &str) -> String {
    match e164.strip_prefix("+84") {
        Some(n) => format!("0{n}"),
        None => e164.to_string(),
    }
}

/// An e-mail address, trimmed and with its domain in lower case, or a Vietnamese message.
pub fn email(raw: &str) -> Result<String, &'static str> {
    const WRONG: &str = "địa chỉ thư điện tử không hợp lệ";
    let raw = raw.trim();
    if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(WRONG);
    }
    let Some((local, domain)) = raw.rsplit_once('@') else {
        return Err(WRONG);
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
    } else {
        Err(WRONG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_mobile_and_landline_numbers_become_e164() {
        for (raw, want) in [
            ("0912 345 678", "+84912345678"),
            ("0912.345.678", "+84912345678"),
            ("+84 912 345 678", "+84912345678"),
            ("0084912345678", "+84912345678"),
            ("84912345678", "+84912345678"),
            ("0387654321", "+84387654321"),
            ("(0213) 3876 543", "+842133876543"),
            ("+1 415 555 0100", "+14155550100"),
        ] {
            assert_eq!(phone_e164(raw).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn vietnamese_numbers_read_in_national_form() {
        assert_eq!(phone_national("+84912345678"), "0912345678");
        assert_eq!(phone_national("+14155550100"), "+14155550100");
    }

    #[test]
    fn anything_else_is_not_a_phone_number() {
        for bad in [
            "",
            "abc",
            "0912345678\r\nBcc: x",
            "091234567",
            "09123456789",
            "0112345678",
            "+0912345678",
            "12+34",
            "ubnd@laichau.gov.vn",
            "0912３45678",
        ] {
            assert!(phone_e164(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn e_mail_addresses_are_checked_for_syntax() {
        assert_eq!(
            email(" hoa.nguyen@Example.VN ").as_deref(),
            Ok("hoa.nguyen@example.vn")
        );
        for bad in [
            "",
            "hoa",
            "hoa@",
            "@example.vn",
            "hoa@example",
            "hoa@@example.vn",
            "hoa@example.vn\r\nBcc: x@y.z",
            "ho a@example.vn",
            ".hoa@example.vn",
            "hoa@-example.vn",
            "hoà@example.vn",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }
}
