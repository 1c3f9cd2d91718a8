//! Validating a city config: every reference, range and required text is checked, and all
//! problems are collected at once so an operator can fix a config in one pass.

use super::{
    ConfigError, ConfigErrors, CALENDAR_FILE, CATEGORIES_FILE, CITY_FILE, MESSAGES_FILE,
    NOTIFICATION_CHANNELS, REQUIRED_GUIDANCE_KEYS, SCREENING_FILE, UNITS_FILE, WARDS_FILE,
};
use crate::config::{CityConfig, Routing, UnitKind};
use std::collections::BTreeSet;

/// Checks a whole city config and returns every problem found.
pub fn validate(cfg: &CityConfig) -> Result<(), ConfigErrors> {
    let mut errs = Vec::new();
    let unit_ids: BTreeSet<&str> = cfg.units.iter().map(|u| u.id.as_str()).collect();
    let ward_ids: BTreeSet<&str> = cfg.wards.iter().map(|w| w.id.as_str()).collect();

    validate_city(cfg, &mut errs);
    cfg.city.rate_limits.validate(&mut errs);
    validate_units(cfg, &ward_ids, &mut errs);
    validate_categories(cfg, &unit_ids, &mut errs);
    validate_wards(cfg, &unit_ids, &mut errs);
    if let Err(mut cal) = crate::calendar::WorkingCalendar::compile(&cfg.calendar) {
        errs.append(&mut cal);
    }
    if cfg.calendar.time_zone != cfg.city.time_zone {
        errs.push(ConfigError::new(
            CALENDAR_FILE,
            "time_zone",
            format!(
                "\"{}\" differs from city.toml time_zone \"{}\"",
                cfg.calendar.time_zone, cfg.city.time_zone
            ),
        ));
    }
    validate_messages(cfg, &mut errs);
    validate_screening(cfg, &mut errs);
    super::media::validate_media(&cfg.city.media, &mut errs);

    if errs.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(errs))
    }
}

fn check_unit_ref(
    units: &BTreeSet<&str>,
    file: &str,
    key: String,
    id: &str,
    errs: &mut Vec<ConfigError>,
) {
    if !units.contains(id) {
        errs.push(ConfigError::new(
            file,
            key,
            format!("unknown unit \"{id}\""),
        ));
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn validate_city(cfg: &CityConfig, errs: &mut Vec<ConfigError>) {
    let c = &cfg.city;
    let f = CITY_FILE;
    if c.name.trim().is_empty() {
        errs.push(ConfigError::new(f, "name", "must not be empty"));
    }
    let tiles = &c.map_tile_url;
    if !tiles.starts_with("https://") || !["{z}", "{x}", "{y}"].iter().all(|p| tiles.contains(p)) {
        errs.push(ConfigError::new(
            f,
            "map_tile_url",
            "must be an https URL template with {z}, {x} and {y}",
        ));
    }
    if c.time_zone.parse::<chrono_tz::Tz>().is_err() {
        errs.push(ConfigError::new(
            f,
            "time_zone",
            format!("unknown time zone \"{}\"", c.time_zone),
        ));
    }
    for (key, id, kind) in [
        ("office_unit", &c.office_unit, UnitKind::Office),
        ("ioc_unit", &c.ioc_unit, UnitKind::Ioc),
        ("leadership_unit", &c.leadership_unit, UnitKind::Leadership),
    ] {
        match cfg.unit(id) {
            None => errs.push(ConfigError::new(f, key, format!("unknown unit \"{id}\""))),
            Some(u) if u.kind != kind => errs.push(ConfigError::new(
                f,
                key,
                format!("unit \"{id}\" is of kind {:?}, expected {kind:?}", u.kind),
            )),
            Some(_) => {}
        }
    }
    for (field, minutes) in [
        ("waiting.triage_minutes", c.waiting.triage_minutes),
        ("waiting.referral_minutes", c.waiting.referral_minutes),
        ("waiting.returned_minutes", c.waiting.returned_minutes),
        ("waiting.publication_minutes", c.waiting.publication_minutes),
    ] {
        if minutes > super::MAX_WAIT_MINUTES {
            errs.push(ConfigError::new(
                f,
                field,
                format!(
                    "at most {} minutes (0 turns the timer off)",
                    super::MAX_WAIT_MINUTES
                ),
            ));
        }
    }
    if c.escalation.is_empty() {
        errs.push(ConfigError::new(
            f,
            "escalation",
            "at least one escalation threshold is needed",
        ));
    }
    let mut prev: Option<f64> = None;
    for (i, t) in c.escalation.iter().enumerate() {
        let key = format!("escalation[{i}].fraction");
        if !t.fraction.is_finite() || t.fraction <= 0.0 {
            errs.push(ConfigError::new(
                f,
                key,
                format!("fraction must be > 0, got {}", t.fraction),
            ));
        } else if let Some(p) = prev {
            if t.fraction <= p {
                errs.push(ConfigError::new(
                    f,
                    key,
                    format!(
                        "fractions must be strictly increasing: {} after {}",
                        t.fraction, p
                    ),
                ));
            }
        }
        if t.fraction.is_finite() {
            prev = Some(prev.map_or(t.fraction, |p| p.max(t.fraction)));
        }
    }
    if !c.duplicate_radius_m.is_finite() || c.duplicate_radius_m <= 0.0 {
        errs.push(ConfigError::new(
            f,
            "duplicate_radius_m",
            format!("must be > 0, got {}", c.duplicate_radius_m),
        ));
    }
    if c.duplicate_window_hours == 0 {
        errs.push(ConfigError::new(f, "duplicate_window_hours", "must be > 0"));
    }
    if !(1..=3650).contains(&c.reopen_window_days) {
        errs.push(ConfigError::new(
            f,
            "reopen_window_days",
            format!("must be from 1 to 3650, got {}", c.reopen_window_days),
        ));
    }
    if !(0.0..=1.0).contains(&c.auto_assign_min_confidence) {
        errs.push(ConfigError::new(
            f,
            "auto_assign_min_confidence",
            format!(
                "must be between 0 and 1 (0 disables auto-assign), got {}",
                c.auto_assign_min_confidence
            ),
        ));
    }
}

fn validate_units(cfg: &CityConfig, wards: &BTreeSet<&str>, errs: &mut Vec<ConfigError>) {
    let f = UNITS_FILE;
    let mut seen = BTreeSet::new();
    for (i, u) in cfg.units.iter().enumerate() {
        if !is_code(&u.id) {
            errs.push(ConfigError::new(
                f,
                format!("unit[{i}].id"),
                format!("\"{}\" must be lower-case letters, digits or _", u.id),
            ));
        }
        if !seen.insert(u.id.as_str()) {
            errs.push(ConfigError::new(
                f,
                format!("unit[{i}].id"),
                format!("duplicate unit id \"{}\"", u.id),
            ));
        }
        if u.name.trim().is_empty() {
            errs.push(ConfigError::new(
                f,
                format!("unit[{i}].name"),
                "must not be empty",
            ));
        }
        match (&u.ward, u.kind) {
            (Some(w), _) if !wards.contains(w.as_str()) => errs.push(ConfigError::new(
                f,
                format!("unit[{i}].ward"),
                format!("unknown ward \"{w}\""),
            )),
            (None, UnitKind::Ward) => errs.push(ConfigError::new(
                f,
                format!("unit[{i}].ward"),
                format!("ward unit \"{}\" must name its ward", u.id),
            )),
            _ => {}
        }
        let c = &u.contacts;
        for (field, list) in [("sms", &c.sms), ("head_sms", &c.head_sms)] {
            for (j, n) in list.iter().enumerate() {
                if crate::contact::phone_e164(n).is_err() {
                    errs.push(ConfigError::new(
                        f,
                        format!("unit[{i}].contacts.{field}[{j}]"),
                        format!("\"{n}\" is not a phone number (digits, optional leading +)"),
                    ));
                }
            }
        }
        for (field, list) in [("email", &c.email), ("head_email", &c.head_email)] {
            for (j, e) in list.iter().enumerate() {
                if crate::contact::email(e).is_err() {
                    errs.push(ConfigError::new(
                        f,
                        format!("unit[{i}].contacts.{field}[{j}]"),
                        format!("\"{e}\" is not an e-mail address"),
                    ));
                }
            }
        }
    }
}

fn validate_categories(cfg: &CityConfig, units: &BTreeSet<&str>, errs: &mut Vec<ConfigError>) {
    let f = CATEGORIES_FILE;
    if cfg.categories.is_empty() {
        errs.push(ConfigError::new(f, "category", "no category configured"));
    }
    let mut seen = BTreeSet::new();
    for (i, c) in cfg.categories.iter().enumerate() {
        let k = |s: &str| format!("category[{i}].{s}");
        if !is_code(&c.code) {
            errs.push(ConfigError::new(
                f,
                k("code"),
                format!("\"{}\" must be lower-case letters, digits or _", c.code),
            ));
        }
        if !seen.insert(c.code.as_str()) {
            errs.push(ConfigError::new(
                f,
                k("code"),
                format!("duplicate category code \"{}\"", c.code),
            ));
        }
        if c.name.trim().is_empty() {
            errs.push(ConfigError::new(f, k("name"), "must not be empty"));
        }
        if let Routing::Unit { unit } = &c.routing {
            check_unit_ref(units, f, k("routing.unit"), unit, errs);
        }
        for (j, u) in c.coordinating_units.iter().enumerate() {
            check_unit_ref(units, f, k(&format!("coordinating_units[{j}]")), u, errs);
        }
        if cfg.wards.is_empty() {
            if c.routing == Routing::Ward {
                errs.push(ConfigError::new(
                    f,
                    k("routing"),
                    "ward routing needs wards, but wards.toml configures none",
                ));
            }
            if c.coordinate_with_ward {
                errs.push(ConfigError::new(
                    f,
                    k("coordinate_with_ward"),
                    "needs wards, but wards.toml configures none",
                ));
            }
        }
        if let Some(p) = &c.policy {
            if p.note.trim().is_empty() {
                errs.push(ConfigError::new(
                    f,
                    k("policy.note"),
                    "a local policy must explain itself",
                ));
            }
        }
        match (c.deadline_hours, c.clock) {
            (None, None) if c.policy.is_none() => errs.push(ConfigError::new(
                f,
                k("deadline_hours"),
                format!(
                    "category \"{}\" has no deadline (deadline_hours + clock) and no documented policy",
                    c.code
                ),
            )),
            (None, None) => {}
            (Some(_), None) => errs.push(ConfigError::new(
                f,
                k("clock"),
                "deadline_hours needs a clock (\"clock_hours\" or \"working_hours\")",
            )),
            (None, Some(_)) => errs.push(ConfigError::new(
                f,
                k("deadline_hours"),
                "clock is set but deadline_hours is missing",
            )),
            (Some(h), Some(_)) => {
                if !h.is_finite() || h <= 0.0 {
                    errs.push(ConfigError::new(
                        f,
                        k("deadline_hours"),
                        format!("deadline must be > 0 hours, got {h}"),
                    ));
                } else if h > MAX_DEADLINE_HOURS {
                    errs.push(ConfigError::new(
                        f,
                        k("deadline_hours"),
                        format!("deadline must be at most {MAX_DEADLINE_HOURS} hours, got {h}"),
                    ));
                } else if ((h * 60.0).round() - h * 60.0).abs() > 1e-6 {
                    errs.push(ConfigError::new(
                        f,
                        k("deadline_hours"),
                        format!("deadline must be a whole number of minutes, got {h} hours"),
                    ));
                }
            }
        }
    }
}

/// Longest deadline a category may have (one year of hours).
pub const MAX_DEADLINE_HOURS: f64 = 24.0 * 366.0;

fn validate_wards(cfg: &CityConfig, units: &BTreeSet<&str>, errs: &mut Vec<ConfigError>) {
    let f = WARDS_FILE;
    let mut seen = BTreeSet::new();
    for (i, w) in cfg.wards.iter().enumerate() {
        let k = |s: &str| format!("ward[{i}].{s}");
        if !is_code(&w.id) {
            errs.push(ConfigError::new(
                f,
                k("id"),
                format!("\"{}\" must be lower-case letters, digits or _", w.id),
            ));
        }
        if !seen.insert(w.id.as_str()) {
            errs.push(ConfigError::new(
                f,
                k("id"),
                format!("duplicate ward id \"{}\"", w.id),
            ));
        }
        if w.kind != "phuong" && w.kind != "xa" {
            errs.push(ConfigError::new(
                f,
                k("kind"),
                format!("\"{}\" must be \"phuong\" or \"xa\"", w.kind),
            ));
        }
        check_unit_ref(units, f, k("unit"), &w.unit, errs);
        let mut distinct: Vec<[f64; 2]> = Vec::new();
        for (j, p) in w.boundary.iter().enumerate() {
            let [lon, lat] = *p;
            if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                errs.push(ConfigError::new(
                    f,
                    k(&format!("boundary[{j}]")),
                    format!("longitude {lon} out of range -180..180 (pairs are [lon, lat])"),
                ));
            }
            if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
                errs.push(ConfigError::new(
                    f,
                    k(&format!("boundary[{j}]")),
                    format!("latitude {lat} out of range -90..90 (pairs are [lon, lat])"),
                ));
            }
            if !distinct.contains(p) {
                distinct.push(*p);
            }
        }
        if distinct.len() < 3 {
            errs.push(ConfigError::new(
                f,
                k("boundary"),
                format!(
                    "a boundary needs at least 3 distinct points, got {}",
                    distinct.len()
                ),
            ));
        }
    }
}

fn validate_messages(cfg: &CityConfig, errs: &mut Vec<ConfigError>) {
    let texts = &cfg.messages.texts;
    let mut required: Vec<String> = REQUIRED_GUIDANCE_KEYS
        .iter()
        .map(|s| s.to_string())
        .collect();
    // The citizen's sign-in code (issue 13: texts in config, not in code).
    for ch in NOTIFICATION_CHANNELS {
        required.push(format!("sign_in.code.{ch}"));
    }
    for kind in crate::model::NotificationKind::ALL.map(|k| k.key()) {
        for ch in NOTIFICATION_CHANNELS {
            required.push(format!("{kind}.{ch}"));
        }
    }
    for key in required {
        match texts.get(&key) {
            None => errs.push(ConfigError::new(MESSAGES_FILE, key, "missing message")),
            Some(t) if t.trim().is_empty() => {
                errs.push(ConfigError::new(MESSAGES_FILE, key, "empty message"))
            }
            Some(_) => {}
        }
    }
    // Đ.8.2: the alert that a report may be secret never carries its title.
    let flagged = crate::model::NotificationKind::SecretFlagged.key();
    for ch in NOTIFICATION_CHANNELS {
        let key = format!("{flagged}.{ch}");
        if texts.get(&key).is_some_and(|t| t.contains("{title}")) {
            errs.push(ConfigError::new(
                MESSAGES_FILE,
                key,
                "no {title}: the report may be secret (Đ.8.2)",
            ));
        }
    }
    // Đ.8.2: the neutral text standing for a secret report's title (optional, with a default)
    // may not be empty nor carry a placeholder: it must not give the title away.
    let secret = crate::app::notifications::SECRET_TITLE_KEY;
    if let Some(t) = texts.get(secret) {
        if t.trim().is_empty() {
            errs.push(ConfigError::new(MESSAGES_FILE, secret, "empty message"));
        } else if t.contains('{') {
            errs.push(ConfigError::new(
                MESSAGES_FILE,
                secret,
                "no placeholder allowed: it stands for a secret report's title",
            ));
        }
    }
    for (key, t) in texts {
        if let Err(problem) = check_placeholders(t) {
            errs.push(ConfigError::new(MESSAGES_FILE, key.clone(), problem));
        }
    }
}

/// Placeholders the notification code fills in message templates.
pub const MESSAGE_PLACEHOLDERS: [&str; 9] = [
    "report_id",
    "title",
    "category",
    "due",
    "expected_date",
    "target_date",
    "reason",
    "code",
    "minutes",
];

/// Every `{name}` of a template must be a known placeholder (a typo would reach citizens).
fn check_placeholders(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("unbalanced \"}\"".into());
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("unbalanced \"{\"".into());
        };
        let name = &after[..close];
        if !MESSAGE_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} (known: {})",
                MESSAGE_PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn validate_screening(cfg: &CityConfig, errs: &mut Vec<ConfigError>) {
    let f = SCREENING_FILE;
    let s = &cfg.screening;
    let mut seen = BTreeSet::new();
    for (i, r) in s.out_of_scope.iter().enumerate() {
        if !seen.insert(r.code.as_str()) {
            errs.push(ConfigError::new(
                f,
                format!("out_of_scope[{i}].code"),
                format!("duplicate out-of-scope code \"{}\"", r.code),
            ));
        }
        if r.phrases.iter().all(|p| p.trim().is_empty()) {
            errs.push(ConfigError::new(
                f,
                format!("out_of_scope[{i}].phrases"),
                "needs at least one phrase",
            ));
        }
        if !cfg.messages.texts.contains_key(&r.guidance_key) {
            errs.push(ConfigError::new(
                f,
                format!("out_of_scope[{i}].guidance_key"),
                format!(
                    "message \"{}\" is missing from messages.toml",
                    r.guidance_key
                ),
            ));
        }
    }
    for code in s.category_keywords.keys() {
        if cfg.category(code).is_none() {
            errs.push(ConfigError::new(
                f,
                format!("category_keywords.{code}"),
                format!("unknown category \"{code}\""),
            ));
        }
    }
}
