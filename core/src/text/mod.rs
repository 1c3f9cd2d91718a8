//! Vietnamese text normalisation and phrase matching.
//!
//! Citizens write Vietnamese with or without diacritics, in NFC (precomposed) or NFD (decomposed)
//! form, with teencode ("ko", "dc", "ntn") and with spacing tricks meant to slip past filters
//! ("k h i ế u  n ạ i", "đ.m", "đ-ị-t", "nguuu"). Everything here is insensitive to those, so
//! screening (Đ.6.3, Đ.3.1.c) and category suggestions see the same words however they were typed.
//!
//! Two spellings of each word are kept:
//! - `plain`: lowercase ASCII, diacritics stripped, `đ` → `d` (what [`normalize`] returns);
//! - `folded`: lowercase with the Vietnamese diacritics kept (NFC, marks in a canonical order),
//!   used when a word is only unambiguous with its diacritics ("cặc" vs "các", "lồn" vs "lớn").
//!
//! Matching is whole-word: "ngu" never matches inside "nguồn", "dm" never inside "admin".

use std::ops::Range;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Common teencode / abbreviations, keyed by their plain (ASCII) spelling, expanded to the words
/// they stand for (with diacritics). Keys are never Vietnamese syllables, so no real word is
/// rewritten; values never contain a key, so [`normalize`] is idempotent. Single letters ("k",
/// "j", "r") are deliberately absent: they are too ambiguous and are the raw material of spacing
/// tricks ("k h i ế u").
const TEENCODE: &[(&str, &str)] = &[
    ("ko", "không"),
    ("khg", "không"),
    ("hok", "không"),
    ("kh0", "không"),
    ("dc", "được"),
    ("ntn", "như thế nào"),
    ("vs", "với"),
    ("mn", "mọi người"),
    ("mng", "mọi người"),
    ("mk", "mình"),
    ("mik", "mình"),
    ("wa", "quá"),
    ("sdt", "số điện thoại"),
    ("tp", "thành phố"),
    ("ubnd", "ủy ban nhân dân"),
    ("csgt", "cảnh sát giao thông"),
    ("atgt", "an toàn giao thông"),
    ("tngt", "tai nạn giao thông"),
    ("attp", "an toàn thực phẩm"),
    ("vsattp", "vệ sinh an toàn thực phẩm"),
    ("oto", "ô tô"),
];

/// One word of a text, with where it came from in the original string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercase, diacritics kept, NFC with Vietnamese marks in canonical order.
    pub folded: String,
    /// Lowercase ASCII, diacritics stripped, `đ` → `d`.
    pub plain: String,
    /// Byte range in the original text (teencode expansions share their source's range).
    pub span: Range<usize>,
}

impl Token {
    /// Whether the word was written with a Vietnamese diacritic (or `đ`).
    pub fn is_accented(&self) -> bool {
        self.folded != self.plain
    }
}

/// How a vowel mark sorts among the marks of one letter: the vowel-shape marks (circumflex,
/// breve, horn) before tone marks, so "e + ◌́ + ◌̂" and "e + ◌̂ + ◌́" both compose to "ế".
fn mark_rank(m: char) -> u8 {
    match m {
        '\u{0302}' | '\u{0306}' | '\u{031B}' => 0,
        _ => 1,
    }
}

/// Letters (and digits) of one cluster: a base character and its combining marks.
#[derive(Default)]
struct Cluster {
    base: Vec<char>,
    marks: Vec<char>,
}

impl Cluster {
    fn push_folded(&mut self, out: &mut String) {
        if self.base.is_empty() {
            self.marks.clear();
            return;
        }
        if self.marks.is_empty() && self.base.len() == 1 {
            out.push(self.base[0]);
            self.base.clear();
            return;
        }
        self.marks.sort_by_key(|&m| (mark_rank(m), m));
        self.marks.dedup();
        let mut s = String::new();
        s.extend(self.base.iter());
        s.extend(self.marks.iter());
        out.extend(s.nfc());
        self.base.clear();
        self.marks.clear();
    }
}

/// Whether `c` (with its compatibility decomposition) is a letter or digit we keep in words.
fn word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    if c == 'đ' || c == 'Đ' {
        return true;
    }
    let mut any = false;
    decompose_compatible(c, |d| any |= d.is_ascii_alphanumeric());
    any
}

/// Folded (lowercase, marks kept) spelling of a raw word.
fn fold_word(raw: &str) -> String {
    if raw.is_ascii() {
        return raw.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(raw.len());
    let mut cl = Cluster::default();
    let take = |d: char, cl: &mut Cluster, out: &mut String| {
        if is_combining_mark(d) {
            cl.marks.push(d);
        } else if d == 'đ' || d.is_ascii_alphanumeric() {
            cl.push_folded(out);
            cl.base.push(d.to_ascii_lowercase());
        }
        // Other characters of a compatibility decomposition (e.g. the fraction slash) drop.
    };
    for c in raw.chars() {
        if c == 'Đ' || c == 'đ' {
            take('đ', &mut cl, &mut out);
        } else if c.is_ascii() {
            take(c, &mut cl, &mut out);
        } else {
            decompose_compatible(c, |d| take(d, &mut cl, &mut out));
        }
    }
    cl.push_folded(&mut out);
    out
}

/// Plain ASCII spelling of a folded word.
fn plain_of(folded: &str) -> String {
    if folded.is_ascii() {
        return folded.to_string();
    }
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c == 'đ' {
            out.push('d');
            continue;
        }
        decompose_compatible(c, |d| {
            if d.is_ascii_alphanumeric() {
                out.push(d.to_ascii_lowercase());
            }
        });
    }
    out
}

fn teencode(plain: &str) -> Option<&'static str> {
    TEENCODE.iter().find(|(k, _)| *k == plain).map(|(_, v)| *v)
}

/// Splits a text into words. Anything that is not a letter, digit or combining mark separates
/// words (spaces, punctuation, emoji, zero-width characters); teencode is expanded.
pub fn tokens(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0usize;
    let flush = |start: &mut Option<usize>, end: usize, out: &mut Vec<Token>| {
        if let Some(st) = start.take() {
            push_word(&s[st..end], st..end, out);
        }
    };
    for (i, c) in s.char_indices() {
        let next = i + c.len_utf8();
        if is_combining_mark(c) {
            if start.is_some() {
                end = next;
            }
            continue;
        }
        if word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
            end = next;
        } else {
            flush(&mut start, end, &mut out);
        }
    }
    flush(&mut start, end, &mut out);
    out
}

fn push_word(raw: &str, span: Range<usize>, out: &mut Vec<Token>) {
    let folded = fold_word(raw);
    if folded.is_empty() {
        return;
    }
    let plain = plain_of(&folded);
    if let Some(expansion) = teencode(&plain) {
        for w in expansion.split(' ') {
            out.push(Token {
                folded: w.to_string(),
                plain: plain_of(w),
                span: span.clone(),
            });
        }
        return;
    }
    out.push(Token {
        folded,
        plain,
        span,
    });
}

/// Whether a text is written with diacritics: at least a quarter of its words carry one.
/// Texts typed without diacritics make some words ambiguous ("cac" is both "các" and a vulgar
/// word), so screening treats such words differently there.
pub fn is_accented(tokens: &[Token]) -> bool {
    let words = tokens
        .iter()
        .filter(|t| t.plain.chars().any(|c| c.is_ascii_alphabetic()))
        .count();
    let accented = tokens.iter().filter(|t| t.is_accented()).count();
    words > 0 && accented * 4 >= words
}

/// Lowercase, diacritic-free ASCII words separated by single spaces, with teencode expanded and
/// punctuation dropped. Same result for NFC and NFD input and for marks in any order.
pub fn normalize(s: &str) -> String {
    let toks = tokens(s);
    let mut out = String::with_capacity(s.len());
    for t in &toks {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.plain);
    }
    out
}

/// Search spelling of a text: its words in lowercase ASCII (diacritics stripped, `đ` → `d`),
/// separated by single spaces, WITHOUT teencode expansion (a search term is often the start
/// of a word, and must be folded exactly like the indexed text). "Ổ gà Trần Phú" → "o ga tran phu".
pub fn fold_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last: Option<Range<usize>> = None;
    for t in tokens(s) {
        // A teencode expansion yields several tokens sharing the source word's span.
        if last.as_ref() == Some(&t.span) {
            continue;
        }
        let word = plain_of(&fold_word(&s[t.span.clone()]));
        last = Some(t.span);
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Removes Vietnamese diacritics (`đ` → `d`, `Đ` → `D`), keeping case, spacing and punctuation;
/// typographic quotes, dashes and ellipses become ASCII. For SMS sent as GSM-7.
pub fn strip_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\u{00A0}' | '\u{2007}' | '\u{202F}' => out.push(' '),
            _ => {
                let mut kept = String::new();
                let mut all_marks = true;
                decompose_compatible(c, |d| {
                    if !is_combining_mark(d) {
                        all_marks = false;
                        kept.push(d);
                    }
                });
                if !kept.is_empty() {
                    out.push_str(&kept);
                } else if !all_marks {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The characters of `s` with runs of the same character collapsed ("nguuu" → "ngu").
fn squeezed(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut last = None;
    s.chars().filter(move |&c| {
        let keep = Some(c) != last;
        last = Some(c);
        keep
    })
}

/// Word equality that forgives repeated letters in the text ("nguuu" = "ngu", "đmmm" = "đmm"),
/// but never a shorter word ("c" ≠ "cc").
pub fn word_eq(text_word: &str, term_word: &str) -> bool {
    if text_word == term_word {
        return true;
    }
    text_word.len() > term_word.len()
        && text_word.chars().count() > term_word.chars().count()
        && squeezed(text_word).eq(squeezed(term_word))
}

/// Finds whole-word occurrences of `term` in `text` (both as word lists), returning the ranges
/// of text word indices that match. `eq` compares one text word with one term word (or glued
/// words); it must only accept words that start with the same character, like [`word_eq`].
///
/// Besides word-for-word matches, a spacing trick is recognised: consecutive words including at
/// least one single letter whose concatenation spells the term ("k h i e u n a i", "d.m",
/// "đ-ị-t", "đơn k h i ế u"), and fewer text words spelling the term with words glued together
/// ("khieunai", "don khieunai"). For a multi-word term, the text words of several letters in
/// such a window must start and end where words of the term do ("o nao" never spells "on ao").
pub fn find_matches<S: AsRef<str>, T: AsRef<str>>(
    text: &[S],
    term: &[T],
    eq: impl Fn(&str, &str) -> bool,
) -> Vec<Range<usize>> {
    // Every match starts with a text word beginning like the term (repeats keep the first letter).
    let Some(first) = term.first().and_then(|w| w.as_ref().chars().next()) else {
        return Vec::new();
    };
    let starts = (0..text.len()).filter(|&i| text[i].as_ref().starts_with(first));
    find_matches_at(text, term, eq, starts)
}

/// A term's words glued together, plain and with repeated letters squeezed, and where its words
/// end in the squeezed spelling: what [`find_matches_glued`] compares spacing tricks with.
/// Built once per configured term, not once per text.
#[derive(Debug, Clone, Default)]
pub struct Glued {
    target: String,
    target_sq: String,
    /// Where the term's words end in `target_sq` (byte offsets), after the start (0).
    bounds: Vec<usize>,
}

impl Glued {
    pub fn new<T: AsRef<str>>(term: &[T]) -> Glued {
        let mut g = Glued {
            target: term.iter().map(|t| t.as_ref()).collect(),
            target_sq: String::new(),
            bounds: vec![0],
        };
        for w in term {
            for c in w.as_ref().chars() {
                if !g.target_sq.ends_with(c) {
                    g.target_sq.push(c);
                }
            }
            g.bounds.push(g.target_sq.len());
        }
        g
    }
}

/// [`find_matches`] trying only `starts`, the ascending positions of the text words that begin
/// with the term's first letter (a text screened against many terms indexes them once).
pub fn find_matches_at<S: AsRef<str>, T: AsRef<str>>(
    text: &[S],
    term: &[T],
    eq: impl Fn(&str, &str) -> bool,
    starts: impl IntoIterator<Item = usize>,
) -> Vec<Range<usize>> {
    let mut starts = starts.into_iter().peekable();
    if starts.peek().is_none() {
        return Vec::new();
    }
    find_matches_glued(text, term, &Glued::new(term), eq, starts)
}

/// [`find_matches_at`] with the term's [`Glued`] spelling built beforehand.
pub fn find_matches_glued<S: AsRef<str>, T: AsRef<str>>(
    text: &[S],
    term: &[T],
    glued: &Glued,
    eq: impl Fn(&str, &str) -> bool,
    starts: impl IntoIterator<Item = usize>,
) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let k = term.len();
    if k == 0 {
        return found;
    }
    let Glued {
        target,
        target_sq,
        bounds,
    } = glued;
    let n = text.len();
    // The next position a match may start at (matches do not overlap).
    let mut next = 0;
    for i in starts {
        if i < next || i >= n {
            continue;
        }
        if i + k <= n && (0..k).all(|m| eq(text[i + m].as_ref(), term[m].as_ref())) {
            found.push(i..i + k);
            next = i + k;
            continue;
        }
        // Spacing tricks: glue words while their squeezed spelling stays a prefix of the term's.
        // Most candidates fail at their first word: check that without building strings.
        if !squeezed_is_prefix(text[i].as_ref(), target_sq) {
            continue;
        }
        let mut acc = String::new();
        let mut acc_sq = String::new();
        let mut has_single = false;
        let mut aligned = true;
        let mut hit = None;
        for (j, w) in text.iter().enumerate().skip(i) {
            let w = w.as_ref();
            acc.push_str(w);
            let start = acc_sq.len();
            for c in w.chars() {
                if !acc_sq.ends_with(c) {
                    acc_sq.push(c);
                }
            }
            if !target_sq.starts_with(&acc_sq) {
                break;
            }
            let single = w.chars().count() == 1;
            has_single |= single;
            // In a multi-word term, a text word of several letters must cover whole words of
            // the term: "ở nào" does not spell "ồn ào".
            if k >= 2 && !single {
                aligned &= bounds.contains(&start) && bounds.contains(&acc_sq.len());
            }
            let width = j - i + 1;
            let trick = aligned && ((width >= 2 && has_single) || width < k);
            if trick && acc_sq.len() == target_sq.len() && eq(&acc, target) {
                hit = Some(i..j + 1);
                break;
            }
        }
        if let Some(r) = hit {
            next = r.end;
            found.push(r);
        }
    }
    found
}

/// Whether `word` with repeated letters squeezed ("ngooo" → "ngo") begins `target_sq` (a
/// squeezed spelling), without allocating.
fn squeezed_is_prefix(word: &str, target_sq: &str) -> bool {
    let mut target = target_sq.chars();
    let mut last = None;
    for c in word.chars() {
        if last == Some(c) {
            continue;
        }
        last = Some(c);
        if target.next() != Some(c) {
            return false;
        }
    }
    true
}

/// Whole-word match of an already [`normalize`]d phrase in an already normalized text,
/// forgiving spacing tricks and repeated letters (see [`find_matches`]).
pub fn contains_phrase(normalized_text: &str, normalized_phrase: &str) -> bool {
    let text: Vec<&str> = normalized_text.split_whitespace().collect();
    let phrase: Vec<&str> = normalized_phrase.split_whitespace().collect();
    !find_matches(&text, &phrase, word_eq).is_empty()
}

#[cfg(test)]
mod tests;
