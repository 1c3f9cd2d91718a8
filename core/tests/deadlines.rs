//! Deadlines of Đ.7.4 on the shipped Lai Châu config and on calendars built here.
//!
//! All times in the test names and comments are local Lai Châu time (UTC+7); the engine works in
//! UTC, so every instant is converted with `vn(...)`.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use phananh_core::calendar::WorkingCalendar;
use phananh_core::config::{CalendarConfig, Season, WeeklySchedule, YearCalendar};
use phananh_core::model::ClockKind;
use phananh_core::{CityRules, DeadlineRule};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Local Lai Châu time (UTC+7) as a UTC instant.
fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(7)
}

fn shared() -> &'static CityRules {
    static RULES: OnceLock<CityRules> = OnceLock::new();
    RULES.get_or_init(|| CityRules::laichau_default().expect("the shipped config is valid"))
}

fn rules() -> CityRules {
    shared().clone()
}

const WORKING_8H: DeadlineRule = DeadlineRule {
    clock: ClockKind::WorkingHours,
    minutes: 8 * 60,
};

fn office_days(periods: &[&str]) -> BTreeMap<String, Vec<String>> {
    ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| {
            (
                d.to_string(),
                periods.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect()
}

/// A rules bundle on the shipped config but with `calendar` as its working calendar.
fn rules_with_calendar(calendar: CalendarConfig) -> CityRules {
    let mut cfg = rules().config;
    cfg.calendar = calendar;
    CityRules::from_config(cfg).expect("test calendar is valid")
}

fn plain_calendar() -> CalendarConfig {
    CalendarConfig {
        time_zone: "Asia/Ho_Chi_Minh".into(),
        weekly: WeeklySchedule {
            days: office_days(&["07:30-11:30", "13:30-17:30"]),
            makeup_day: None,
        },
        seasons: vec![],
        years: BTreeMap::new(),
    }
}

/// Đ.7.4 a–k: every category's deadline rule, as the regulation states it.
#[test]
fn every_category_has_the_deadline_of_the_regulation() {
    let r = rules();
    let expected = [
        ("service_attitude", ClockKind::WorkingHours, 8 * 60), // Đ.7.4.a "08 giờ làm việc"
        ("traffic_security", ClockKind::ClockHours, 2 * 60),   // Đ.7.4.b "02 giờ"
        ("construction_order", ClockKind::ClockHours, 2 * 60), // Đ.7.4.c
        ("market_prices", ClockKind::ClockHours, 4 * 60),      // Đ.7.4.d
        ("culture_tourism", ClockKind::ClockHours, 4 * 60),    // Đ.7.4.e
        ("food_safety", ClockKind::ClockHours, 2 * 60),        // Đ.7.4.g
        ("forest_protection", ClockKind::ClockHours, 4 * 60),  // local policy (Đ.7.4 is silent)
        ("environment", ClockKind::ClockHours, 4 * 60),        // Đ.7.4.h
        ("urban_order", ClockKind::ClockHours, 2 * 60),        // Đ.7.4.i
        ("other", ClockKind::ClockHours, 4 * 60),              // Đ.7.4.k
    ];
    let codes: Vec<&str> = r
        .config
        .categories
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, expected.iter().map(|e| e.0).collect::<Vec<_>>());
    for (code, clock, minutes) in expected {
        assert_eq!(
            r.deadline(code),
            Some(DeadlineRule { clock, minutes }),
            "{code}"
        );
    }
    assert_eq!(r.deadline("no_such_category"), None);
}

/// Assigned on an ordinary Wednesday at 09:00: when each category falls due.
#[test]
fn due_instant_of_every_category_on_a_weekday() {
    let r = rules();
    let start = vn(2026, 11, 25, 9, 0); // Wednesday
    let expected = [
        ("service_attitude", vn(2026, 11, 26, 9, 0)), // 8 working hours: Thursday 09:00
        ("traffic_security", vn(2026, 11, 25, 11, 0)),
        ("construction_order", vn(2026, 11, 25, 11, 0)),
        ("market_prices", vn(2026, 11, 25, 13, 0)), // clock hours run through lunch
        ("culture_tourism", vn(2026, 11, 25, 13, 0)),
        ("food_safety", vn(2026, 11, 25, 11, 0)),
        ("forest_protection", vn(2026, 11, 25, 13, 0)),
        ("environment", vn(2026, 11, 25, 13, 0)),
        ("urban_order", vn(2026, 11, 25, 11, 0)),
        ("other", vn(2026, 11, 25, 13, 0)),
    ];
    for (code, due) in expected {
        let rule = r.deadline(code).unwrap();
        assert_eq!(r.due_at(rule, start), due, "{code}");
    }
}

/// DOMAIN example: 8 working hours from Friday 16:30 end on Monday 16:30; clock hours ignore
/// the weekend.
#[test]
fn across_a_weekend() {
    let r = rules();
    let friday = vn(2026, 11, 27, 16, 30);
    let service = r.deadline("service_attitude").unwrap();
    assert_eq!(r.due_at(service, friday), vn(2026, 11, 30, 16, 30));
    assert_eq!(
        r.format_local(r.due_at(service, friday)),
        "16:30 30/11/2026"
    );
    let market = r.deadline("market_prices").unwrap();
    assert_eq!(r.due_at(market, friday), vn(2026, 11, 27, 20, 30));
}

/// DOMAIN example: …or on Tuesday 16:30 when that Monday is a holiday. In 2026 Giỗ Tổ Hùng
/// Vương falls on Sunday 26/4, so Monday 27/4 is the compensatory holiday.
#[test]
fn across_a_monday_holiday() {
    let r = rules();
    let friday = vn(2026, 4, 24, 16, 30);
    assert_eq!(r.due_at(WORKING_8H, friday), vn(2026, 4, 28, 16, 30));
    // The nine-day Tết break (14/2–22/2/2026): from Friday 13/2 16:30 to Monday 23/2 16:30.
    assert_eq!(
        r.due_at(WORKING_8H, vn(2026, 2, 13, 16, 30)),
        vn(2026, 2, 23, 16, 30)
    );
    // A clock-hour deadline runs through the holiday: 30/4 23:00 + 2 h = 1/5 01:00.
    let traffic = r.deadline("traffic_security").unwrap();
    assert_eq!(
        r.due_at(traffic, vn(2026, 4, 30, 23, 0)),
        vn(2026, 5, 1, 1, 0)
    );
}

/// A make-up Saturday (ngày làm bù) is a working day. The shipped 2026 calendar has one:
/// Saturday 10/1/2026 (swapped with Friday 2/1).
#[test]
fn across_the_shipped_makeup_saturday() {
    let r = rules();
    assert_eq!(
        r.due_at(WORKING_8H, vn(2026, 1, 9, 16, 30)),
        vn(2026, 1, 10, 16, 30)
    );
    // And the New Year break itself (1/1–4/1) is not working time.
    assert_eq!(
        r.due_at(WORKING_8H, vn(2025, 12, 31, 16, 30)),
        vn(2026, 1, 5, 16, 30)
    );
}

/// A calendar built here: make-up Saturday 21/11/2026 with its own, shorter hours (08:00–12:00).
#[test]
fn across_a_makeup_saturday_with_its_own_hours() {
    let mut cal = plain_calendar();
    cal.weekly.makeup_day = Some(vec!["08:00-12:00".into()]);
    cal.years.insert(
        "2026".into(),
        YearCalendar {
            holidays: vec![],
            makeup_days: vec![NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()],
        },
    );
    let r = rules_with_calendar(cal);
    // Friday 16:30: 1 h on Friday, 4 h on Saturday 08:00–12:00, 3 h on Monday → Monday 10:30.
    assert_eq!(
        r.due_at(WORKING_8H, vn(2026, 11, 20, 16, 30)),
        vn(2026, 11, 23, 10, 30)
    );
    assert!(r.calendar.is_working_instant(vn(2026, 11, 21, 8, 0)));
    assert!(!r.calendar.is_working_instant(vn(2026, 11, 21, 13, 0)));
    // The next Saturday is an ordinary day off.
    assert!(!r.calendar.is_working_instant(vn(2026, 11, 28, 9, 0)));
}

/// Working hours skip the lunch break (11:30–13:30); clock hours do not.
#[test]
fn across_the_lunch_break() {
    let r = rules();
    let one_working_hour = DeadlineRule {
        clock: ClockKind::WorkingHours,
        minutes: 60,
    };
    let wednesday_11 = vn(2026, 11, 25, 11, 0);
    assert_eq!(
        r.due_at(one_working_hour, wednesday_11),
        vn(2026, 11, 25, 14, 0)
    );
    // Assigned during lunch: counting starts at 13:30.
    assert_eq!(
        r.due_at(one_working_hour, vn(2026, 11, 25, 12, 0)),
        vn(2026, 11, 25, 14, 30)
    );
    // Ending exactly at the end of the morning is 11:30, not 13:30.
    assert_eq!(
        r.due_at(one_working_hour, vn(2026, 11, 25, 10, 30)),
        vn(2026, 11, 25, 11, 30)
    );
    let traffic = r.deadline("traffic_security").unwrap();
    assert_eq!(r.due_at(traffic, wednesday_11), vn(2026, 11, 25, 13, 0));
}

/// Đ.7.4.b–i "02 giờ" run through the night: 23:00 → 01:00 the next day.
#[test]
fn two_clock_hours_across_midnight() {
    let r = rules();
    for code in [
        "traffic_security",
        "construction_order",
        "food_safety",
        "urban_order",
    ] {
        let rule = r.deadline(code).unwrap();
        assert_eq!(
            r.due_at(rule, vn(2026, 11, 25, 23, 0)),
            vn(2026, 11, 26, 1, 0),
            "{code}"
        );
        assert_eq!(r.format_local(vn(2026, 11, 26, 1, 0)), "01:00 26/11/2026");
    }
}

/// Seasonal hours (winter 08:00–12:00, 13:00–17:00 from 01/11 to 28/02, wrapping the year end).
#[test]
fn seasonal_schedule() {
    let mut cal = plain_calendar();
    cal.seasons.push(Season {
        name: "Giờ làm việc mùa đông".into(),
        from: "11-01".into(),
        to: "02-28".into(),
        weekly: WeeklySchedule {
            days: office_days(&["08:00-12:00", "13:00-17:00"]),
            makeup_day: None,
        },
    });
    let r = rules_with_calendar(cal);
    // Thursday 31/12/2026 16:00: 1 h to 17:00, then Friday 1/1/2027 (no holidays in this
    // calendar) 08:00–12:00 and 13:00–16:00.
    assert_eq!(
        r.due_at(WORKING_8H, vn(2026, 12, 31, 16, 0)),
        vn(2027, 1, 1, 16, 0)
    );
    // Friday 26/2/2027 16:00 (winter, 1 h left) into Monday 1/3/2027 (regular hours from 07:30):
    // 4 h in the morning, 3 h from 13:30 → 16:30.
    assert_eq!(
        r.due_at(WORKING_8H, vn(2027, 2, 26, 16, 0)),
        vn(2027, 3, 1, 16, 30)
    );
}

/// Escalation thresholds (city.toml: 0.75 → unit head, 1.0 → IOC, 1.5 → leadership) on the
/// DOMAIN example, and the remaining time as the office sees it.
#[test]
fn escalation_instants_and_remaining_time() {
    let r = rules();
    let friday = vn(2026, 11, 27, 16, 30);
    // 75 % = 6 working hours: 1 h Friday, 4 h Monday morning, 1 h after lunch → Monday 14:30.
    assert_eq!(
        r.instant_at_fraction(WORKING_8H, friday, 0.75),
        vn(2026, 11, 30, 14, 30)
    );
    assert_eq!(
        r.instant_at_fraction(WORKING_8H, friday, 1.0),
        vn(2026, 11, 30, 16, 30)
    );
    // 150 % = 12 working hours: Monday 17:30, then 3 h on Tuesday → 10:30.
    assert_eq!(
        r.instant_at_fraction(WORKING_8H, friday, 1.5),
        vn(2026, 12, 1, 10, 30)
    );

    // Over the weekend no working time passes.
    assert_eq!(
        r.elapsed_fraction(WORKING_8H, friday, vn(2026, 11, 29, 12, 0)),
        0.125
    );
    assert_eq!(
        r.remaining_minutes(WORKING_8H, friday, vn(2026, 11, 29, 12, 0)),
        7 * 60
    );
    assert_eq!(
        r.remaining_minutes(WORKING_8H, friday, vn(2026, 11, 30, 16, 30)),
        0
    );
    // After 17:30 on Monday the deadline has passed even though no working time elapsed since.
    assert_eq!(
        r.remaining_minutes(WORKING_8H, friday, vn(2026, 11, 30, 16, 31)),
        -1
    );
    assert_eq!(
        r.remaining_minutes(WORKING_8H, friday, vn(2026, 11, 30, 18, 0)),
        -60
    );
    assert_eq!(
        r.remaining_minutes(WORKING_8H, friday, vn(2026, 12, 1, 8, 30)),
        -120
    );
    assert_eq!(
        r.elapsed_fraction(WORKING_8H, friday, vn(2026, 12, 1, 10, 30)),
        1.5
    );

    let traffic = r.deadline("traffic_security").unwrap();
    let t0 = vn(2026, 11, 25, 23, 0);
    assert_eq!(
        r.elapsed_fraction(traffic, t0, vn(2026, 11, 26, 0, 30)),
        0.75
    );
    assert_eq!(
        r.remaining_minutes(traffic, t0, vn(2026, 11, 26, 0, 30)),
        30
    );
    assert_eq!(
        r.remaining_minutes(traffic, t0, vn(2026, 11, 26, 3, 0)),
        -120
    );
    assert_eq!(
        r.elapsed_fraction(traffic, t0, t0 - Duration::hours(1)),
        0.0
    );
}

/// Calendars without working time are refused, so deadline searches always end.
#[test]
fn a_calendar_without_working_days_is_refused() {
    let mut cal = plain_calendar();
    cal.weekly.days.clear();
    let mut cfg = rules().config;
    cfg.calendar = cal;
    let err = CityRules::from_config(cfg).unwrap_err().to_string();
    assert!(
        err.contains("calendar.toml: weekly.days: no working period in the whole week"),
        "{err}"
    );
}

/// Instants from 2025 to the end of 2027 (the years the shipped calendar covers).
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let from = vn(2025, 1, 1, 0, 0).timestamp();
    let to = vn(2027, 12, 31, 23, 59).timestamp();
    (from..to).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn in_working_time_or_at_period_end(cal: &WorkingCalendar, t: DateTime<Utc>) -> bool {
    cal.is_working_instant(t) || cal.is_working_instant(t - Duration::seconds(1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A working-hours deadline never falls outside working time (it is inside a period or
    /// exactly at its end), and exactly the deadline's working time lies between start and due.
    #[test]
    fn working_due_is_in_working_time(start in any_instant(), minutes in 1u32..5000) {
        let r = shared();
        let rule = DeadlineRule { clock: ClockKind::WorkingHours, minutes };
        let due = r.due_at(rule, start);
        prop_assert!(due > start);
        prop_assert!(in_working_time_or_at_period_end(&r.calendar, due), "due {due} from {start}");
        prop_assert_eq!(r.calendar.working_seconds_between(start, due), i64::from(minutes) * 60);
        prop_assert_eq!(r.elapsed_fraction(rule, start, due), 1.0);
        prop_assert_eq!(r.remaining_minutes(rule, start, due), 0);
    }

    /// A later assignment never gets an earlier deadline.
    #[test]
    fn working_due_is_monotone(a in any_instant(), gap in 0i64..(10 * 24 * 3600), minutes in 1u32..3000) {
        let r = shared();
        let rule = DeadlineRule { clock: ClockKind::WorkingHours, minutes };
        let b = a + Duration::seconds(gap);
        prop_assert!(r.due_at(rule, a) <= r.due_at(rule, b));
        // Escalation thresholds come in order.
        let t75 = r.instant_at_fraction(rule, a, 0.75);
        let t100 = r.instant_at_fraction(rule, a, 1.0);
        let t150 = r.instant_at_fraction(rule, a, 1.5);
        prop_assert!(a <= t75 && t75 <= t100 && t100 <= t150);
    }

    /// Clock hours are plain arithmetic: due = start + h, whatever the calendar says.
    #[test]
    fn clock_due_is_start_plus_hours(start in any_instant(), minutes in 1u32..10_000) {
        let r = shared();
        let rule = DeadlineRule { clock: ClockKind::ClockHours, minutes };
        prop_assert_eq!(r.due_at(rule, start), start + Duration::minutes(i64::from(minutes)));
        prop_assert_eq!(r.remaining_minutes(rule, start, start), i64::from(minutes));
    }
}
