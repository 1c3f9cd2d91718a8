//! The working calendar: which instants are working time in a city.
//!
//! Compiled from [`CalendarConfig`]: weekly working periods per weekday, seasonal schedules
//! (month-day ranges that may wrap the year end), public holidays per year (non-working) and
//! make-up working days (ngày làm bù). Deadlines in working hours (Đ.7.4.a: "08 giờ làm việc")
//! count only these instants; clock-hour deadlines do not use the calendar.
//!
//! Periods are local times of the configured time zone; instants in and out are UTC.
//! A period is half-open `[start, end)`: 11:30 is not working time when the morning ends at
//! 11:30, but a deadline may end exactly at 11:30 (see [`WorkingCalendar::add_working_seconds`]).

use crate::config::{CalendarConfig, ConfigError, WeeklySchedule, CALENDAR_FILE};
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// How many consecutive days without any working time a search may cross before it gives up.
pub const MAX_IDLE_DAYS: u32 = 400;
/// How many days any single computation may scan in total (about 270 years).
pub const MAX_SCAN_DAYS: u32 = 100_000;

/// Weekday keys of `weekly.days`, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The search crossed too many days without working time (a broken calendar).
    #[error("no working time within {days} days after {from}")]
    NoWorkingTime { from: NaiveDate, days: u32 },
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
struct Schedule {
    /// Periods per weekday, Monday = 0; sorted, non-overlapping.
    days: [Vec<Period>; 7],
    /// Periods of a make-up working day.
    makeup: Vec<Period>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CompiledSeason {
    name: String,
    from: (u32, u32),
    to: (u32, u32),
    schedule: Schedule,
}

impl CompiledSeason {
    fn contains(&self, md: (u32, u32)) -> bool {
        if self.from <= self.to {
            self.from <= md && md <= self.to
        } else {
            // Wraps the year end, e.g. 11-01..02-28.
            md >= self.from || md <= self.to
        }
    }
}

/// A compiled working calendar. Build it with [`WorkingCalendar::compile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    tz: Tz,
    weekly: Schedule,
    seasons: Vec<CompiledSeason>,
    /// Non-working dates with the holiday's name.
    holidays: BTreeMap<NaiveDate, String>,
    makeup_days: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
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

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Years that have a holiday table; dates outside them only follow the weekly schedule.
    pub fn configured_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The holiday name when `date` (local) is a public holiday.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    pub fn is_makeup_day(&self, date: NaiveDate) -> bool {
        self.makeup_days.contains(&date)
    }

    /// The name of the season in force on `date`, if any.
    pub fn season(&self, date: NaiveDate) -> Option<&str> {
        let md = (date.month(), date.day());
        self.seasons
            .iter()
            .find(|s| s.contains(md))
            .map(|s| s.name.as_str())
    }

    fn schedule_of(&self, date: NaiveDate) -> &Schedule {
        let md = (date.month(), date.day());
        self.seasons
            .iter()
            .find(|s| s.contains(md))
            .map(|s| &s.schedule)
            .unwrap_or(&self.weekly)
    }

    /// Working periods of a local date (empty on holidays and days off).
    pub fn periods_on(&self, date: NaiveDate) -> &[Period] {
        if self.holidays.contains_key(&date) {
            return &[];
        }
        let s = self.schedule_of(date);
        if self.makeup_days.contains(&date) {
            return &s.makeup;
        }
        &s.days[date.weekday().num_days_from_monday() as usize]
    }

    /// UTC instant of local `date` at `minute` after midnight (1440 = next midnight).
    fn at_minute(&self, date: NaiveDate, minute: u32) -> DateTime<Utc> {
        let (date, minute) = if minute >= 24 * 60 {
            (date.succ_opt().unwrap_or(date), minute - 24 * 60)
        } else {
            (date, minute)
        };
        let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN);
        let naive = date.and_time(time);
        // Without DST (the Vietnamese case) the local time is always unique. In a zone with DST
        // take the earlier of an ambiguous time, and step over a gap.
        for shift in 0..4i64 {
            match self
                .tz
                .from_local_datetime(&(naive + Duration::minutes(30 * shift)))
            {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc)
                }
                LocalResult::None => continue,
            }
        }
        Utc.from_utc_datetime(&naive)
    }

    fn midnight_utc(&self, date: NaiveDate) -> DateTime<Utc> {
        self.at_minute(date, 0)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Working periods of `date` as UTC intervals.
    fn intervals_on(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        self.periods_on(date)
            .iter()
            .map(move |p| (self.at_minute(date, p.start), self.at_minute(date, p.end)))
    }

    /// True when `t` lies inside a working period (start inclusive, end exclusive).
    pub fn is_working_instant(&self, t: DateTime<Utc>) -> bool {
        let date = self.local_date(t);
        // A period of the previous day cannot reach into this one (end ≤ 24:00), so one day suffices.
        self.intervals_on(date).any(|(a, b)| a <= t && t < b)
    }

    /// `t` itself when it is working time, otherwise the start of the next working period.
    pub fn next_working_instant(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let from = self.local_date(t);
        let mut date = from;
        for _ in 0..=MAX_IDLE_DAYS {
            for (a, b) in self.intervals_on(date) {
                if t < b {
                    return Ok(a.max(t));
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Err(CalendarError::NoWorkingTime {
            from,
            days: MAX_IDLE_DAYS,
        })
    }

    /// The instant after `seconds` of working time counted from `start`. Counting begins at the
    /// next working instant when `start` is outside working time. A count that is used up exactly
    /// at the end of a period ends there (e.g. 17:30), not at the next morning. Zero seconds
    /// return `start` itself.
    pub fn add_working_seconds(
        &self,
        start: DateTime<Utc>,
        seconds: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if seconds <= 0 {
            return Ok(start);
        }
        let mut remaining = seconds;
        let mut date = self.local_date(start);
        let mut idle_from = date;
        let mut idle = 0u32;
        for _ in 0..MAX_SCAN_DAYS {
            let mut worked = false;
            for (a, b) in self.intervals_on(date) {
                if b <= start {
                    continue;
                }
                let seg_start = a.max(start);
                let available = (b - seg_start).num_seconds();
                if available <= 0 {
                    continue;
                }
                worked = true;
                if remaining <= available {
                    return Ok(seg_start + Duration::seconds(remaining));
                }
                remaining -= available;
            }
            if worked {
                idle = 0;
            } else {
                if idle == 0 {
                    idle_from = date;
                }
                idle += 1;
                if idle > MAX_IDLE_DAYS {
                    return Err(CalendarError::NoWorkingTime {
                        from: idle_from,
                        days: MAX_IDLE_DAYS,
                    });
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Err(CalendarError::NoWorkingTime {
            from: date,
            days: MAX_SCAN_DAYS,
        })
    }

    /// [`add_working_seconds`](Self::add_working_seconds) in whole minutes.
    pub fn add_working_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: u32,
    ) -> Result<DateTime<Utc>, CalendarError> {
        self.add_working_seconds(start, i64::from(minutes) * 60)
    }

    /// Working seconds in `[a, b)`; negative when `b` is before `a`. Scans at most
    /// [`MAX_SCAN_DAYS`] days (a longer span counts only its first days).
    pub fn working_seconds_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b < a {
            return -self.working_seconds_between(b, a);
        }
        let mut total = 0i64;
        let mut date = self.local_date(a);
        let last = self.local_date(b);
        for _ in 0..MAX_SCAN_DAYS {
            for (s, e) in self.intervals_on(date) {
                let lo = s.max(a);
                let hi = e.min(b);
                if hi > lo {
                    total += (hi - lo).num_seconds();
                }
            }
            if date >= last {
                break;
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// Whole working minutes in `[a, b)` (rounded toward zero); negative when `b` < `a`.
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        self.working_seconds_between(a, b) / 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Holiday, Season, YearCalendar};

    fn weekly(days: &[(&str, &[&str])]) -> WeeklySchedule {
        WeeklySchedule {
            days: days
                .iter()
                .map(|(d, p)| (d.to_string(), p.iter().map(|s| s.to_string()).collect()))
                .collect(),
            makeup_day: None,
        }
    }

    fn office_week() -> WeeklySchedule {
        let p: &[&str] = &["07:30-11:30", "13:30-17:30"];
        weekly(&[("mon", p), ("tue", p), ("wed", p), ("thu", p), ("fri", p)])
    }

    fn cfg() -> CalendarConfig {
        CalendarConfig {
            time_zone: "Asia/Ho_Chi_Minh".into(),
            weekly: office_week(),
            seasons: vec![],
            years: BTreeMap::new(),
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Local Vietnamese time (UTC+7) as UTC.
    fn vn(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap() - Duration::hours(7)
    }

    fn keys(errs: &[ConfigError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn periods_parse_and_refuse_nonsense() {
        assert_eq!(
            Period::parse("07:30-11:30"),
            Ok(Period {
                start: 450,
                end: 690
            })
        );
        assert_eq!(Period::parse("22:00-24:00").map(|p| p.end), Ok(1440));
        for bad in [
            "7h30-11h30",
            "11:30-07:30",
            "07:30-07:30",
            "07:60-08:00",
            "0730-1130",
            "24:00-24:00",
            "25:00-26:00",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn month_day_parse() {
        assert_eq!(parse_month_day("02-29"), Some((2, 29)));
        assert_eq!(parse_month_day("12-31"), Some((12, 31)));
        assert_eq!(parse_month_day("02-30"), None);
        assert_eq!(parse_month_day("2-3"), None);
        assert_eq!(parse_month_day("13-01"), None);
    }

    #[test]
    fn working_instants_follow_the_week_and_lunch() {
        let cal = WorkingCalendar::compile(&cfg()).unwrap();
        // 2026-11-27 is a Friday.
        assert!(cal.is_working_instant(vn(2026, 11, 27, 7, 30)));
        assert!(cal.is_working_instant(vn(2026, 11, 27, 11, 29)));
        assert!(!cal.is_working_instant(vn(2026, 11, 27, 11, 30)));
        assert!(!cal.is_working_instant(vn(2026, 11, 27, 12, 0)));
        assert!(cal.is_working_instant(vn(2026, 11, 27, 13, 30)));
        assert!(!cal.is_working_instant(vn(2026, 11, 27, 17, 30)));
        assert!(!cal.is_working_instant(vn(2026, 11, 28, 9, 0)));
    }

    #[test]
    fn adding_ends_at_period_end_not_next_morning() {
        let cal = WorkingCalendar::compile(&cfg()).unwrap();
        // Friday 16:30 + 60 working minutes = Friday 17:30 exactly.
        assert_eq!(
            cal.add_working_minutes(vn(2026, 11, 27, 16, 30), 60),
            Ok(vn(2026, 11, 27, 17, 30))
        );
        // One more minute runs to Monday 07:31.
        assert_eq!(
            cal.add_working_minutes(vn(2026, 11, 27, 16, 30), 61),
            Ok(vn(2026, 11, 30, 7, 31))
        );
        // Starting outside working time counts from the next period.
        assert_eq!(
            cal.add_working_minutes(vn(2026, 11, 27, 12, 0), 30),
            Ok(vn(2026, 11, 27, 14, 0))
        );
        assert_eq!(
            cal.add_working_minutes(vn(2026, 11, 28, 20, 0), 240),
            Ok(vn(2026, 11, 30, 11, 30))
        );
    }

    #[test]
    fn between_counts_only_working_time_and_is_signed() {
        let cal = WorkingCalendar::compile(&cfg()).unwrap();
        let a = vn(2026, 11, 27, 16, 30);
        let b = vn(2026, 11, 30, 8, 30);
        assert_eq!(cal.working_minutes_between(a, b), 120);
        assert_eq!(cal.working_minutes_between(b, a), -120);
        assert_eq!(cal.working_minutes_between(a, a), 0);
    }

    #[test]
    fn seasons_wrap_the_year_end() {
        let mut c = cfg();
        let winter: &[&str] = &["08:00-12:00", "13:00-17:00"];
        c.seasons.push(Season {
            name: "winter".into(),
            from: "11-01".into(),
            to: "02-28".into(),
            weekly: weekly(&[
                ("mon", winter),
                ("tue", winter),
                ("wed", winter),
                ("thu", winter),
                ("fri", winter),
            ]),
        });
        let cal = WorkingCalendar::compile(&c).unwrap();
        assert_eq!(cal.season(d(2026, 12, 31)), Some("winter"));
        assert_eq!(cal.season(d(2027, 1, 15)), Some("winter"));
        assert_eq!(cal.season(d(2027, 3, 1)), None);
        // 2027-01-04 is a Monday: work starts at 08:00 in winter.
        assert!(!cal.is_working_instant(vn(2027, 1, 4, 7, 45)));
        assert!(cal.is_working_instant(vn(2027, 1, 4, 8, 0)));
        // 2027-03-01 (Monday): the regular 07:30 start.
        assert!(cal.is_working_instant(vn(2027, 3, 1, 7, 45)));
    }

    #[test]
    fn calendar_errors_name_their_keys() {
        let mut c = cfg();
        c.weekly.days.insert(
            "tue".into(),
            vec!["07:30-11:30".into(), "11:00-12:00".into()],
        );
        c.weekly
            .days
            .insert("fry".into(), vec!["07:30-11:30".into()]);
        c.time_zone = "Asia/Lai_Chau".into();
        c.seasons.push(Season {
            name: "a".into(),
            from: "06-01".into(),
            to: "08-31".into(),
            weekly: office_week(),
        });
        c.seasons.push(Season {
            name: "b".into(),
            from: "08-15".into(),
            to: "13-01".into(),
            weekly: office_week(),
        });
        c.seasons.push(Season {
            name: "c".into(),
            from: "08-15".into(),
            to: "09-01".into(),
            weekly: office_week(),
        });
        let mut y = YearCalendar::default();
        y.holidays.push(Holiday {
            name: "Tết".into(),
            from: d(2026, 2, 14),
            to: d(2026, 2, 22),
        });
        y.holidays.push(Holiday {
            name: "Nhầm".into(),
            from: d(2026, 2, 22),
            to: d(2026, 2, 23),
        });
        y.holidays.push(Holiday {
            name: "Năm sau".into(),
            from: d(2027, 1, 1),
            to: d(2027, 1, 1),
        });
        y.makeup_days.push(d(2026, 2, 21));
        y.makeup_days.push(d(2026, 3, 2));
        c.years.insert("2026".into(), y);
        c.years.insert("20x6".into(), YearCalendar::default());
        let errs = keys(&WorkingCalendar::compile(&c).unwrap_err());
        let expect = [
            "calendar.toml: time_zone: unknown time zone \"Asia/Lai_Chau\"",
            "calendar.toml: weekly.days.tue: periods \"07:30-11:30\" and \"11:00-12:00\" overlap",
            "calendar.toml: weekly.days.fry: unknown weekday",
            "calendar.toml: seasons[1].to: bad month-day \"13-01\"",
            "calendar.toml: seasons[2]: season \"c\" overlaps season \"a\" (seasons[0])",
            "calendar.toml: years.2026.holidays[1]: holiday \"Nhầm\" (2026-02-22..2026-02-23) overlaps holiday \"Tết\" (years.2026.holidays[0])",
            "calendar.toml: years.2026.holidays[2]: holiday \"Năm sau\" (2027-01-01..2027-01-01) is not within 2026",
            "calendar.toml: years.2026.makeup_days[0]: make-up day 2026-02-21 falls on holiday \"Tết\"",
            "calendar.toml: years.20x6: not a year",
        ];
        for e in expect {
            assert!(
                errs.iter().any(|x| x.starts_with(e)),
                "missing {e:?} in {errs:#?}"
            );
        }
    }

    #[test]
    fn makeup_on_a_working_weekday_and_empty_week_are_refused() {
        let mut c = cfg();
        let mut y = YearCalendar::default();
        y.makeup_days.push(d(2026, 3, 2)); // a Monday
        c.years.insert("2026".into(), y);
        let errs = keys(&WorkingCalendar::compile(&c).unwrap_err());
        assert_eq!(
            errs,
            vec!["calendar.toml: years.2026.makeup_days[0]: make-up day 2026-03-02 (mon) is already a regular working day"]
        );

        let mut c = cfg();
        c.weekly.days.clear();
        let errs = keys(&WorkingCalendar::compile(&c).unwrap_err());
        assert!(
            errs.contains(
                &"calendar.toml: weekly.days: no working period in the whole week".to_string()
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn a_year_of_holidays_is_refused_and_search_is_bounded() {
        let mut c = cfg();
        let mut y = YearCalendar::default();
        y.holidays.push(Holiday {
            name: "all".into(),
            from: d(2026, 1, 1),
            to: d(2026, 12, 31),
        });
        c.years.insert("2026".into(), y.clone());
        let mut y27 = YearCalendar::default();
        y27.holidays.push(Holiday {
            name: "all".into(),
            from: d(2027, 1, 1),
            to: d(2027, 12, 31),
        });
        c.years.insert("2027".into(), y27);
        let errs = keys(&WorkingCalendar::compile(&c).unwrap_err());
        assert!(
            errs.iter().any(|e| e.starts_with(
                "calendar.toml: years.2026: no working time within 400 days after 2026-01-01"
            )),
            "{errs:?}"
        );
    }
}
