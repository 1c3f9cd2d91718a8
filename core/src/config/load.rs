//! Loading a city config folder (validation is in `validate.rs`).
//!
//! Every problem names the file and the key it is about, e.g.
//! `categories.toml: category[3].routing.unit: unknown unit "phong_xyz"`, and validation
//! collects all problems at once so an operator can fix a config in one pass. These messages are
//! for operators (English); citizens never see them.

use super::{
    CalendarConfig, CategoryConfig, CityConfig, CitySection, Messages, ScreeningConfig, UnitConfig,
    WardConfig,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// File names of a config folder.
pub const CITY_FILE: &str = "city.toml";
pub const CATEGORIES_FILE: &str = "categories.toml";
pub const UNITS_FILE: &str = "units.toml";
pub const WARDS_FILE: &str = "wards.toml";
pub const CALENDAR_FILE: &str = "calendar.toml";
pub const MESSAGES_FILE: &str = "messages.toml";
pub const SCREENING_FILE: &str = "screening.toml";

/// All files a config folder must contain.
pub const CONFIG_FILES: [&str; 7] = [
    CITY_FILE,
    CATEGORIES_FILE,
    UNITS_FILE,
    WARDS_FILE,
    CALENDAR_FILE,
    MESSAGES_FILE,
    SCREENING_FILE,
];

/// Message keys every city must provide (notifications and out-of-scope guidance, Đ.6.3).
/// Each `notify.*` key exists with the suffixes `.sms`, `.email_subject` and `.email_body`.
pub const REQUIRED_GUIDANCE_KEYS: [&str; 3] = [
    "guidance.complaint",
    "guidance.denunciation",
    "guidance.legal_advice",
];

/// Suffixes of every notification kind.
pub const NOTIFICATION_CHANNELS: [&str; 3] = ["sms", "email_subject", "email_body"];

/// One problem in a city config, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(file: &str, key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// All problems found in a city config, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// True when some problem's text (`file: key: problem`) contains `needle`.
    pub fn mentions(&self, needle: &str) -> bool {
        self.0.iter().any(|e| e.to_string().contains(needle))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoriesFile {
    #[serde(default)]
    category: Vec<CategoryConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    #[serde(default)]
    unit: Vec<UnitConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WardsFile {
    #[serde(default)]
    ward: Vec<WardConfig>,
}

/// Reads the config files of `dir` and validates the result.
pub fn load_dir(dir: &Path) -> Result<CityConfig, ConfigErrors> {
    let mut contents: Vec<(&str, String)> = Vec::new();
    let mut errors = Vec::new();
    for name in CONFIG_FILES {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => contents.push((name, text)),
            Err(e) => errors.push(ConfigError::new(
                name,
                "-",
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let files: Vec<(&str, &str)> = contents.iter().map(|(n, t)| (*n, t.as_str())).collect();
    from_sources(&files)
}

/// Parses config files given as `(file name, content)` and validates the result. Every file of
/// [`CONFIG_FILES`] must be present exactly once; other names are refused.
pub fn from_sources(files: &[(&str, &str)]) -> Result<CityConfig, ConfigErrors> {
    let mut errors = Vec::new();
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, text) in files {
        if !CONFIG_FILES.contains(name) {
            errors.push(ConfigError::new(
                name,
                "-",
                format!(
                    "unexpected config file (expected one of: {})",
                    CONFIG_FILES.join(", ")
                ),
            ));
        } else if by_name.insert(name, text).is_some() {
            errors.push(ConfigError::new(name, "-", "given more than once"));
        }
    }
    for name in CONFIG_FILES {
        if !by_name.contains_key(name) {
            errors.push(ConfigError::new(name, "-", "missing config file"));
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let text = |name: &str| by_name.get(name).copied().unwrap_or_default();

    let city: Option<CitySection> = parse(CITY_FILE, text(CITY_FILE), &mut errors);
    let categories: Option<CategoriesFile> =
        parse(CATEGORIES_FILE, text(CATEGORIES_FILE), &mut errors);
    let units: Option<UnitsFile> = parse(UNITS_FILE, text(UNITS_FILE), &mut errors);
    let wards: Option<WardsFile> = parse(WARDS_FILE, text(WARDS_FILE), &mut errors);
    let calendar: Option<CalendarConfig> = parse(CALENDAR_FILE, text(CALENDAR_FILE), &mut errors);
    let messages = parse_messages(text(MESSAGES_FILE), &mut errors);
    let screening: Option<ScreeningConfig> =
        parse(SCREENING_FILE, text(SCREENING_FILE), &mut errors);

    match (
        city, categories, units, wards, calendar, messages, screening,
    ) {
        (
            Some(city),
            Some(categories),
            Some(units),
            Some(wards),
            Some(calendar),
            Some(messages),
            Some(screening),
        ) if errors.is_empty() => {
            let cfg = CityConfig {
                city,
                categories: categories.category,
                units: units.unit,
                wards: wards.ward,
                calendar,
                messages,
                screening,
            };
            super::validate(&cfg)?;
            Ok(cfg)
        }
        _ => Err(ConfigErrors(errors)),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, col)
}

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let key = match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            let src = text.lines().nth(line - 1).unwrap_or("").trim();
            if src.is_empty() {
                format!("line {line}, column {col}")
            } else {
                format!("line {line}, column {col} (`{src}`)")
            }
        }
        None => "-".to_string(),
    };
    ConfigError::new(file, key, e.message().trim().to_string())
}

fn parse<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(toml_error(file, text, &e));
            None
        }
    }
}

/// `messages.toml` is a table of texts; nested tables are flattened with dots, so
/// `[notify.assigned]` + `sms = "…"` and `"notify.assigned.sms" = "…"` are the same key.
fn parse_messages(text: &str, errors: &mut Vec<ConfigError>) -> Option<Messages> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            errors.push(toml_error(MESSAGES_FILE, text, &e));
            return None;
        }
    };
    let mut texts = BTreeMap::new();
    let before = errors.len();
    flatten_messages("", &table, &mut texts, errors);
    (errors.len() == before).then_some(Messages { texts })
}

fn flatten_messages(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
    errors: &mut Vec<ConfigError>,
) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                if out.insert(key.clone(), s.clone()).is_some() {
                    errors.push(ConfigError::new(
                        MESSAGES_FILE,
                        key,
                        "defined more than once",
                    ));
                }
            }
            toml::Value::Table(t) => flatten_messages(&key, t, out, errors),
            other => errors.push(ConfigError::new(
                MESSAGES_FILE,
                key,
                format!("expected a text, found a {}", other.type_str()),
            )),
        }
    }
}
