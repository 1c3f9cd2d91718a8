//! Unit tests of the working calendar: parsing, compiling and validating the configured
//! calendar, and working-time arithmetic.

use super::*;
use crate::config::{CalendarConfig, ConfigError, Holiday, Season, WeeklySchedule, YearCalendar};
use chrono::{DateTime, Duration, TimeZone, Utc};

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
