//! `url_decode` of S3 event keys: every `%XX` escape decoded, including a trailing one, and
//! no input makes it panic.

use phananh_lambda::url_decode;

#[test]
fn a_trailing_escape_is_decoded() {
    assert_eq!(url_decode("a%20"), "a ");
    assert_eq!(url_decode("%41"), "A");
    assert_eq!(url_decode("reports/r1/%C3%A9"), "reports/r1/é");
    assert_eq!(
        url_decode("media/b%C3%A1o%20c%C3%A1o.jpg"),
        "media/báo cáo.jpg"
    );
}

#[test]
fn incomplete_or_invalid_escapes_are_kept_as_they_are() {
    assert_eq!(url_decode("100%"), "100%");
    assert_eq!(url_decode("a%2"), "a%2");
    assert_eq!(url_decode("%zz"), "%zz");
    assert_eq!(url_decode("%%41"), "%A");
    // `from_str_radix` takes a sign; an escape does not.
    assert_eq!(url_decode("%+1"), "%+1");
    assert_eq!(url_decode(""), "");
}

#[test]
fn non_ascii_after_a_percent_sign_does_not_panic() {
    assert_eq!(url_decode("%é"), "%é");
    assert_eq!(url_decode("a%éb"), "a%éb");
    assert_eq!(url_decode("%4é"), "%4é");
    assert_eq!(url_decode("%😀"), "%😀");
    assert_eq!(url_decode("ảnh%"), "ảnh%");
    assert_eq!(url_decode("%Ả%20"), "%Ả ");
}

/// Tiny deterministic generator (xorshift), so the sweep needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn arbitrary_strings_never_panic_and_decode_like_a_reference() {
    // Heavy on '%' and hex digits, with 2-, 3- and 4-byte characters around them.
    const ALPHABET: &[char] = &[
        '%', '%', '%', '0', '2', '9', 'a', 'F', 'g', 'z', '+', '/', ' ', 'é', 'ả', 'Đ', '😀', 'C',
        '3', 'A',
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..50_000 {
        let len = (rng.next() % 12) as usize;
        let s: String = (0..len)
            .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
            .collect();
        let got = std::panic::catch_unwind(|| url_decode(&s))
            .unwrap_or_else(|_| panic!("url_decode panicked on {s:?}"));
        assert_eq!(got, reference(&s), "{s:?}");
    }
}

#[test]
fn percent_encoded_strings_decode_back() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    const ALPHABET: &[char] = &[
        '%', 'a', 'Z', '0', ' ', '+', '/', 'é', 'ả', 'Đ', '😀', '\u{7f}',
    ];
    for _ in 0..20_000 {
        let len = (rng.next() % 10) as usize;
        let s: String = (0..len)
            .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
            .collect();
        // '%' is always escaped; any other character only sometimes (all of its UTF-8
        // bytes), in upper or lower case hex.
        let mut encoded = String::new();
        for c in s.chars() {
            let mut buf = [0u8; 4];
            match (c == '%', rng.next() % 3) {
                (false, 0) => encoded.push(c),
                (_, 1) => c
                    .encode_utf8(&mut buf)
                    .bytes()
                    .for_each(|b| encoded.push_str(&format!("%{b:02x}"))),
                _ => c
                    .encode_utf8(&mut buf)
                    .bytes()
                    .for_each(|b| encoded.push_str(&format!("%{b:02X}"))),
            }
        }
        assert_eq!(url_decode(&encoded), s, "{encoded:?}");
    }
}

/// What decoding means: `%` and two hex digits become that byte, everything else is kept.
fn reference(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
