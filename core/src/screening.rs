//! Automatic screening of a report's text: out of scope (Đ.6.3), abusive language (Đ.3.1.c)
//! and a category suggestion (Đ.5). All word lists are configuration (`screening.toml`); the
//! matching rules are described there and in [`crate::text`].
//!
//! Term syntax: a term is matched whole-word and insensitive to case, Unicode form, spacing
//! tricks, repeated letters and teencode. Written with diacritics it also matches the word typed
//! with fewer or none. A leading `=` demands the exact diacritics ("=cặc" never matches "các"):
//! such terms only match texts written with diacritics.

use crate::config::ScreeningConfig;
use crate::model::CategorySuggestion;
use crate::text::{self, Glued, Token};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::Arc;

/// Đ.6.3: the text is a complaint, a denunciation or a legal-advice request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutOfScopeMatch {
    /// The rule's code: "complaint", "denunciation", "legal_advice".
    pub code: String,
    /// Message key telling the citizen where to go instead.
    pub guidance_key: String,
    /// The configured phrase that matched (without the `=` marker).
    pub matched: String,
}

/// Đ.3.1.c: result of the abusive-language check.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AbuseCheck {
    pub abusive: bool,
    /// The configured terms found (without the `=` marker), in configuration order.
    pub terms: Vec<String>,
}

/// A configured term, split into words once.
#[derive(Debug, Clone)]
struct Term {
    /// As shown to people: without the `=` marker.
    display: String,
    /// `=` marker: exact diacritics, texts with diacritics only.
    exact: bool,
    folded: Vec<String>,
    plain: Vec<String>,
    folded_glued: Glued,
    plain_glued: Glued,
}

impl Term {
    fn new(raw: &str) -> Option<Term> {
        let t = raw.trim();
        let (exact, body) = match t.strip_prefix('=') {
            Some(rest) => (true, rest.trim()),
            None => (false, t),
        };
        let toks = text::tokens(body);
        if toks.is_empty() {
            return None;
        }
        let folded: Vec<String> = toks.iter().map(|t| t.folded.clone()).collect();
        let plain: Vec<String> = toks.into_iter().map(|t| t.plain).collect();
        Some(Term {
            display: body.to_string(),
            exact,
            folded_glued: Glued::new(&folded),
            plain_glued: Glued::new(&plain),
            folded,
            plain,
        })
    }

    /// Weight in a category score: its number of words (syllables).
    fn weight(&self) -> usize {
        self.plain.len()
    }
}

fn terms(list: &[String]) -> Vec<Term> {
    list.iter().filter_map(|t| Term::new(t)).collect()
}

/// A [`ScreeningConfig`] with every term split into words, ready to screen many texts.
/// The free functions of this module keep one for the last configuration they saw.
#[derive(Debug, Clone)]
pub struct Screener {
    out_of_scope: Vec<(String, String, Vec<Term>)>,
    abusive: Vec<Term>,
    keywords: Vec<(String, Vec<Term>)>,
}

/// A text split into words, ready for matching.
struct Prepared<'a> {
    tokens: &'a [Token],
    folded: Vec<&'a str>,
    plain: Vec<&'a str>,
    accented: bool,
    /// Positions of the words by their first letter, folded and plain: a term is tried only
    /// where a word begins like it (a text is screened against hundreds of terms).
    folded_starts: Starts,
    plain_starts: Starts,
}

/// Word positions by first letter, sorted by letter (a text has a few dozen distinct ones).
struct Starts(Vec<(char, Vec<usize>)>);

impl Starts {
    fn new(words: &[&str]) -> Starts {
        let mut m: Vec<(char, Vec<usize>)> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if let Some(c) = w.chars().next() {
                match m.binary_search_by_key(&c, |(k, _)| *k) {
                    Ok(at) => m[at].1.push(i),
                    Err(at) => m.insert(at, (c, vec![i])),
                }
            }
        }
        Starts(m)
    }

    fn get(&self, c: &char) -> Option<&Vec<usize>> {
        let at = self.0.binary_search_by_key(c, |(k, _)| *k).ok()?;
        self.0.get(at).map(|(_, v)| v)
    }
}

impl<'a> Prepared<'a> {
    /// `tokens` are [`text::tokens`] of the text.
    fn new(tokens: &'a [Token]) -> Self {
        let folded: Vec<&str> = tokens.iter().map(|t| t.folded.as_str()).collect();
        let plain: Vec<&str> = tokens.iter().map(|t| t.plain.as_str()).collect();
        let accented = text::is_accented(tokens);
        Prepared {
            folded_starts: Starts::new(&folded),
            plain_starts: Starts::new(&plain),
            tokens,
            folded,
            plain,
            accented,
        }
    }

    /// Word-index ranges where `term` occurs.
    fn find(&self, term: &Term) -> Vec<Range<usize>> {
        let (words, starts, term_words, glued) = if term.exact {
            if !self.accented {
                return Vec::new();
            }
            (
                &self.folded,
                &self.folded_starts,
                &term.folded,
                &term.folded_glued,
            )
        } else {
            (
                &self.plain,
                &self.plain_starts,
                &term.plain,
                &term.plain_glued,
            )
        };
        let Some(first) = term_words.first().and_then(|w| w.chars().next()) else {
            return Vec::new();
        };
        match starts.get(&first) {
            Some(at) => text::find_matches_glued(
                words,
                term_words,
                glued,
                text::word_eq,
                at.iter().copied(),
            ),
            None => Vec::new(),
        }
    }

    /// Byte range in the original text covered by words `r`.
    fn span(&self, r: &Range<usize>) -> Option<Range<usize>> {
        let first = self.tokens.get(r.start)?;
        let last = self.tokens.get(r.end.checked_sub(1)?)?;
        Some(first.span.start..last.span.end)
    }

    /// Abusive matches of `term`, leaving out those right after a number ("50 cc", "3 dm").
    fn find_abusive(&self, term: &Term) -> Vec<Range<usize>> {
        self.find(term)
            .into_iter()
            .filter(|r| {
                r.start == 0 || !self.plain[r.start - 1].chars().all(|c| c.is_ascii_digit())
            })
            .collect()
    }
}

impl Screener {
    pub fn new(cfg: &ScreeningConfig) -> Screener {
        Screener {
            out_of_scope: cfg
                .out_of_scope
                .iter()
                .map(|r| (r.code.clone(), r.guidance_key.clone(), terms(&r.phrases)))
                .collect(),
            abusive: terms(&cfg.abusive_terms),
            keywords: cfg
                .category_keywords
                .iter()
                .map(|(code, list)| (code.clone(), terms(list)))
                .collect(),
        }
    }

    /// See [`out_of_scope`].
    pub fn out_of_scope(&self, text: &str) -> Option<OutOfScopeMatch> {
        self.out_of_scope_in(&Prepared::new(&text::tokens(text)))
    }

    /// See [`assess`].
    pub fn assess(&self, text: &str) -> Assessment {
        let tokens = text::tokens(text);
        let p = Prepared::new(&tokens);
        Assessment {
            abuse: self.check_abusive_in(&p),
            suggestion: self.suggest_category_in(&p),
        }
    }

    fn out_of_scope_in(&self, p: &Prepared) -> Option<OutOfScopeMatch> {
        for (code, guidance_key, phrases) in &self.out_of_scope {
            if let Some(phrase) = phrases.iter().find(|ph| !p.find(ph).is_empty()) {
                return Some(OutOfScopeMatch {
                    code: code.clone(),
                    guidance_key: guidance_key.clone(),
                    matched: phrase.display.clone(),
                });
            }
        }
        None
    }

    /// See [`check_abusive`].
    pub fn check_abusive(&self, text: &str) -> AbuseCheck {
        self.check_abusive_in(&Prepared::new(&text::tokens(text)))
    }

    fn check_abusive_in(&self, p: &Prepared) -> AbuseCheck {
        let mut terms: Vec<String> = Vec::new();
        for term in &self.abusive {
            if !p.find_abusive(term).is_empty() && !terms.contains(&term.display) {
                terms.push(term.display.clone());
            }
        }
        AbuseCheck {
            abusive: !terms.is_empty(),
            terms,
        }
    }

    /// See [`mask_abusive`].
    pub fn mask_abusive(&self, text: &str) -> String {
        let tokens = text::tokens(text);
        let p = Prepared::new(&tokens);
        let mut spans: Vec<Range<usize>> = self
            .abusive
            .iter()
            .flat_map(|term| p.find_abusive(term))
            .filter_map(|r| p.span(&r))
            .collect();
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for r in spans {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for r in merged {
            out.push_str(&text[pos..r.start]);
            out.push_str("***");
            pos = r.end;
        }
        out.push_str(&text[pos..]);
        out
    }

    /// See [`suggest_category`].
    pub fn suggest_category(&self, text: &str) -> Option<CategorySuggestion> {
        self.suggest_category_in(&Prepared::new(&text::tokens(text)))
    }

    fn suggest_category_in(&self, p: &Prepared) -> Option<CategorySuggestion> {
        let mut scores: Vec<(&str, f64, Vec<String>)> = Vec::new();
        for (code, terms) in &self.keywords {
            // (term, word range)
            let hits: Vec<(&Term, Range<usize>)> = terms
                .iter()
                .flat_map(|t| p.find(t).into_iter().map(move |r| (t, r)))
                .collect();
            // A term found only inside a longer matched term of this category counts once.
            let kept: Vec<&(&Term, Range<usize>)> = hits
                .iter()
                .filter(|(t, r)| {
                    !hits.iter().any(|(t2, r2)| {
                        t2.weight() > t.weight() && r2.start <= r.start && r.end <= r2.end
                    })
                })
                .collect();
            if kept.is_empty() {
                continue;
            }
            let score: f64 = kept.iter().map(|(t, _)| t.weight() as f64).sum();
            let mut names: Vec<String> = Vec::new();
            for (t, _) in kept {
                if !names.contains(&t.display) {
                    names.push(t.display.clone());
                }
            }
            scores.push((code, score, names));
        }
        // Highest score first; equal scores keep the configuration (alphabetical) order.
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (code, best, names) = scores.first()?;
        let runner_up = scores.get(1).map_or(0.0, |s| s.1);
        let strength = 1.0 - (-best / 2.5).exp();
        let margin = (best - runner_up) / best;
        let confidence = (strength * (0.5 + 0.5 * margin)).clamp(0.0, 1.0);
        Some(CategorySuggestion {
            category: (*code).to_string(),
            confidence: (confidence * 100.0).round() / 100.0,
            matched_terms: names.clone(),
        })
    }
}

/// The compiled [`Screener`] of a configuration, built on first use and kept with it.
fn screener(cfg: &ScreeningConfig) -> Arc<Screener> {
    cfg.screener()
}

/// Đ.6.3: whether the text is a complaint/denunciation letter or a legal-advice request.
/// CityRules are tried in configuration order, phrases in order; the first match wins.
pub fn out_of_scope(cfg: &ScreeningConfig, text: &str) -> Option<OutOfScopeMatch> {
    screener(cfg).out_of_scope(text)
}

/// What screening finds in a submitted text once it is accepted: abusive words (Đ.3.1.c) and
/// a category suggestion (Đ.5), from one pass over the text's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub abuse: AbuseCheck,
    pub suggestion: Option<CategorySuggestion>,
}

/// [`check_abusive`] and [`suggest_category`] of one text, splitting it into words once.
pub fn assess(cfg: &ScreeningConfig, text: &str) -> Assessment {
    screener(cfg).assess(text)
}

/// Đ.3.1.c: rude, vulgar or insulting words in the text.
pub fn check_abusive(cfg: &ScreeningConfig, text: &str) -> AbuseCheck {
    screener(cfg).check_abusive(text)
}

/// The original text with every abusive word (including spacing tricks such as "đ.m") replaced
/// by "***", for public output. Text without abusive words comes back unchanged.
pub fn mask_abusive(cfg: &ScreeningConfig, text: &str) -> String {
    screener(cfg).mask_abusive(text)
}

/// Đ.5: suggests a category from the configured keywords. Each matched term weighs its number of
/// words (syllables), so "lấn chiếm vỉa hè" (4) outweighs "rác" (1); a term found only inside a
/// longer matched term of the same category is not counted again. The confidence grows with the
/// winning score (1 − e^(−score/2.5)) and is scaled by how far ahead of the runner-up it is
/// (halved on a tie), rounded to two decimals. None when no keyword matches.
pub fn suggest_category(cfg: &ScreeningConfig, text: &str) -> Option<CategorySuggestion> {
    screener(cfg).suggest_category(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutOfScopeRule;

    fn cfg() -> ScreeningConfig {
        ScreeningConfig {
            out_of_scope: vec![OutOfScopeRule {
                code: "complaint".into(),
                phrases: vec!["đơn khiếu nại".into()],
                guidance_key: "guidance.complaint".into(),
            }],
            abusive_terms: vec!["đm".into(), "dm".into(), "=cặc".into(), "=ngu".into()],
            category_keywords: [
                (
                    "urban_order".to_string(),
                    vec!["vỉa hè".to_string(), "rác".to_string()],
                ),
                ("environment".to_string(), vec!["rác thải".to_string()]),
            ]
            .into_iter()
            .collect(),
            ..ScreeningConfig::default()
        }
    }

    #[test]
    fn exact_terms_need_diacritics() {
        let c = cfg();
        assert!(check_abusive(&c, "Mấy đứa này cặc thật").abusive);
        assert!(!check_abusive(&c, "Các hộ dân bán hàng").abusive);
        assert!(!check_abusive(&c, "cac ho dan ban hang").abusive);
        assert!(check_abusive(&c, "Cán bộ phường ngu quá").abusive);
        assert!(!check_abusive(&c, "Tôi không ngủ được").abusive);
        assert!(!check_abusive(&c, "toi khong ngu duoc").abusive);
    }

    #[test]
    fn masking_keeps_the_rest() {
        let c = cfg();
        assert_eq!(
            mask_abusive(&c, "Đ.m, xe đỗ kín vỉa hè"),
            "***, xe đỗ kín vỉa hè"
        );
        assert_eq!(mask_abusive(&c, "xe 3 dm"), "xe 3 dm");
    }

    #[test]
    fn contained_terms_do_not_count_twice() {
        let s = suggest_category(&cfg(), "Rác thải đổ đầy vỉa hè").unwrap();
        // urban_order: "vỉa hè" (2) + "rác" (1) vs environment "rác thải" (2).
        assert_eq!(s.category, "urban_order");
        assert!(s.matched_terms.contains(&"vỉa hè".to_string()));
    }

    #[test]
    fn assessment_is_the_two_checks_at_once() {
        let c = cfg();
        for text in [
            "Đ.m, rác thải đổ đầy vỉa hè",
            "xe đỗ kín vỉa hè",
            "trời đẹp",
        ] {
            let a = assess(&c, text);
            assert_eq!(a.abuse, check_abusive(&c, text));
            assert_eq!(a.suggestion, suggest_category(&c, text));
        }
    }

    #[test]
    fn a_term_added_after_first_use_is_matched() {
        let mut c = cfg();
        assert!(!check_abusive(&c, "đồ khốn").abusive);
        c.abusive_terms.push("khốn".into());
        assert!(check_abusive(&c, "đồ khốn").abusive);
    }
}
