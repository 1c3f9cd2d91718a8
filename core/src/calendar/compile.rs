//! Compiling a configured calendar ([`CalendarConfig`], `calendar.toml`) into a
//! [`WorkingCalendar`]: parsing periods and month-days, weekly and seasonal schedules, holidays
//! and make-up days per year, and every validation error (each names its key).

use super::{CompiledSeason, Schedule, WorkingCalendar};
use crate::config::{CalendarConfig, ConfigError, WeeklySchedule, CALENDAR_FILE};
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// Weekday keys of `weekly.days`, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A working period of a day, in minutes after local midnight: `[start, end)`; `end` ≤ 1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub start: u32,
    pub end: u32,
}

impl Period {
    /// Parses "HH:MM-HH:MM" (end may be "24:00").
    pub fn parse(s: &str) -> Result<Period, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("bad period \"{s}\": expected \"HH:MM-HH:MM\""))?;
        let start = parse_hhmm(a.trim())
            .ok_or_else(|| format!("bad period \"{s}\": bad start time \"{}\"", a.trim()))?;
        let end = parse_hhmm(b.trim())
            .ok_or_else(|| format!("bad period \"{s}\": bad end time \"{}\"", b.trim()))?;
        if start >= 24 * 60 {
            return Err(format!("bad period \"{s}\": start must be before 24:00"));
        }
        if end <= start {
            return Err(format!("bad period \"{s}\": end must be after start"));
        }
        Ok(Period { start, end })
    }

    pub fn minutes(&self) -> u32 {
        self.end - self.start
    }
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Parses "MM-DD" (02-29 allowed) into (month, day).
pub fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let m: u32 = m.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    // A leap year accepts every valid month-day.
    NaiveDate::from_ymd_opt(2000, m, d).map(|_| (m, d))
}

fn compile_schedule(
    w: &WeeklySchedule,
    key: &str,
    errs: &mut Vec<ConfigError>,
) -> Option<Schedule> {
    let before = errs.len();
    let mut days: [Vec<Period>; 7] = Default::default();
    for (name, periods) in &w.days {
        let Some(idx) = WEEKDAYS.iter().position(|d| d == name) else {
            errs.push(ConfigError::new(
                CALENDAR_FILE,
                format!("{key}.days.{name}"),
                format!("unknown weekday (use {})", WEEKDAYS.join(", ")),
            ));
            continue;
        };
        if let Some(p) = compile_periods(periods, &format!("{key}.days.{name}"), errs) {
            days[idx] = p;
        }
    }
    let makeup = match &w.makeup_day {
        Some(p) => compile_periods(p, &format!("{key}.makeup_day"), errs).unwrap_or_default(),
        None => days[0].clone(),
    };
    if days.iter().all(|d| d.is_empty()) {
        errs.push(ConfigError::new(
            CALENDAR_FILE,
            format!("{key}.days"),
            "no working period in the whole week",
        ));
    }
    if makeup.is_empty() && errs.len() == before {
        errs.push(ConfigError::new(
            CALENDAR_FILE,
            format!("{key}.makeup_day"),
            "make-up days need working periods (set makeup_day or Monday's periods)",
        ));
    }
    (errs.len() == before).then_some(Schedule { days, makeup })
}

fn compile_periods(list: &[String], key: &str, errs: &mut Vec<ConfigError>) -> Option<Vec<Period>> {
    let before = errs.len();
    let mut out: Vec<(Period, &str)> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        match Period::parse(s) {
            Ok(p) => out.push((p, s)),
            Err(e) => errs.push(ConfigError::new(CALENDAR_FILE, format!("{key}[{i}]"), e)),
        }
    }
    out.sort();
    for w in out.windows(2) {
        if w[1].0.start < w[0].0.end {
            errs.push(ConfigError::new(
                CALENDAR_FILE,
                key.to_string(),
                format!("periods \"{}\" and \"{}\" overlap", w[0].1, w[1].1),
            ));
        }
    }
    (errs.len() == before).then(|| out.into_iter().map(|(p, _)| p).collect())
}

/// Days of a leap year (2000) covered by a month-day range, for overlap checks.
fn season_days(from: (u32, u32), to: (u32, u32)) -> BTreeSet<u32> {
    let ord = |(m, d): (u32, u32)| {
        NaiveDate::from_ymd_opt(2000, m, d)
            .map(|x| x.ordinal())
            .unwrap_or(1)
    };
    let (a, b) = (ord(from), ord(to));
    if a <= b {
        (a..=b).collect()
    } else {
        (a..=366).chain(1..=b).collect()
    }
}

impl WorkingCalendar {
    /// Compiles and checks a calendar config; every problem names its key in `calendar.toml`.
    pub fn compile(cfg: &CalendarConfig) -> Result<WorkingCalendar, Vec<ConfigError>> {
        let mut errs = Vec::new();
        let tz = match cfg.time_zone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    "time_zone",
                    format!("unknown time zone \"{}\"", cfg.time_zone),
                ));
                None
            }
        };
        let weekly = compile_schedule(&cfg.weekly, "weekly", &mut errs);

        let mut seasons = Vec::new();
        let mut season_cover: Vec<(usize, BTreeSet<u32>)> = Vec::new();
        for (i, s) in cfg.seasons.iter().enumerate() {
            let key = format!("seasons[{i}]");
            let from = parse_month_day(&s.from);
            let to = parse_month_day(&s.to);
            if from.is_none() {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    format!("{key}.from"),
                    format!("bad month-day \"{}\": expected \"MM-DD\"", s.from),
                ));
            }
            if to.is_none() {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    format!("{key}.to"),
                    format!("bad month-day \"{}\": expected \"MM-DD\"", s.to),
                ));
            }
            let schedule = compile_schedule(&s.weekly, &format!("{key}.weekly"), &mut errs);
            if let (Some(from), Some(to)) = (from, to) {
                let days = season_days(from, to);
                for (j, other) in &season_cover {
                    if !days.is_disjoint(other) {
                        errs.push(ConfigError::new(
                            CALENDAR_FILE,
                            key.clone(),
                            format!(
                                "season \"{}\" overlaps season \"{}\" (seasons[{j}])",
                                s.name, cfg.seasons[*j].name
                            ),
                        ));
                    }
                }
                season_cover.push((i, days));
                if let Some(schedule) = schedule {
                    seasons.push(CompiledSeason {
                        name: s.name.clone(),
                        from,
                        to,
                        schedule,
                    });
                }
            }
        }

        let mut holidays: BTreeMap<NaiveDate, String> = BTreeMap::new();
        // date → (key, name) of the holiday that claimed it, for overlap messages.
        let mut claimed: BTreeMap<NaiveDate, (String, String)> = BTreeMap::new();
        let mut makeup_days = BTreeSet::new();
        let mut years = BTreeSet::new();
        let mut makeups: Vec<(String, NaiveDate)> = Vec::new();
        for (ykey, yc) in &cfg.years {
            let year: Option<i32> = (ykey.len() == 4)
                .then(|| ykey.parse().ok())
                .flatten()
                .filter(|y| (1970..=9999).contains(y));
            let Some(year) = year else {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    format!("years.{ykey}"),
                    "not a year (expected e.g. \"2026\")",
                ));
                continue;
            };
            years.insert(year);
            for (i, h) in yc.holidays.iter().enumerate() {
                let key = format!("years.{ykey}.holidays[{i}]");
                if h.to < h.from {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        key,
                        format!(
                            "holiday \"{}\" ends ({}) before it starts ({})",
                            h.name, h.to, h.from
                        ),
                    ));
                    continue;
                }
                if h.from.year() != year || h.to.year() != year {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        key,
                        format!(
                            "holiday \"{}\" ({}..{}) is not within {year} (split holidays that span the new year)",
                            h.name, h.from, h.to
                        ),
                    ));
                    continue;
                }
                let mut overlapped: BTreeSet<(String, String)> = BTreeSet::new();
                let mut d = h.from;
                while d <= h.to {
                    if let Some(prev) = claimed.get(&d) {
                        overlapped.insert(prev.clone());
                    } else {
                        claimed.insert(d, (key.clone(), h.name.clone()));
                        holidays.insert(d, h.name.clone());
                    }
                    match d.succ_opt() {
                        Some(n) => d = n,
                        None => break,
                    }
                }
                for (okey, oname) in overlapped {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        key.clone(),
                        format!(
                            "holiday \"{}\" ({}..{}) overlaps holiday \"{oname}\" ({okey})",
                            h.name, h.from, h.to
                        ),
                    ));
                }
            }
            for (i, d) in yc.makeup_days.iter().enumerate() {
                let key = format!("years.{ykey}.makeup_days[{i}]");
                if d.year() != year {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        key,
                        format!("make-up day {d} is not in {year}"),
                    ));
                    continue;
                }
                if !makeup_days.insert(*d) {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        key,
                        format!("make-up day {d} is listed twice"),
                    ));
                    continue;
                }
                makeups.push((key, *d));
            }
        }
        for (key, d) in &makeups {
            if let Some(name) = holidays.get(d) {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    key.clone(),
                    format!("make-up day {d} falls on holiday \"{name}\""),
                ));
            }
        }

        let (Some(tz), Some(weekly)) = (tz, weekly) else {
            return Err(errs);
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        let cal = WorkingCalendar {
            tz,
            weekly,
            seasons,
            holidays,
            makeup_days,
            years,
        };
        for (key, d) in &makeups {
            if !cal.schedule_of(*d).days[d.weekday().num_days_from_monday() as usize].is_empty() {
                errs.push(ConfigError::new(
                    CALENDAR_FILE,
                    key.clone(),
                    format!(
                        "make-up day {d} ({}) is already a regular working day",
                        WEEKDAYS[d.weekday().num_days_from_monday() as usize]
                    ),
                ));
            }
        }
        // Every configured year must have working time reachable (holidays cannot swallow it).
        for y in &cal.years {
            if let Some(jan1) = NaiveDate::from_ymd_opt(*y, 1, 1) {
                if let Err(e) = cal.next_working_instant(cal.midnight_utc(jan1)) {
                    errs.push(ConfigError::new(
                        CALENDAR_FILE,
                        format!("years.{y}"),
                        e.to_string(),
                    ));
                }
            }
        }
        if errs.is_empty() {
            Ok(cal)
        } else {
            Err(errs)
        }
    }
}
