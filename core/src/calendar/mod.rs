//! The working calendar: which instants are working time in a city.
//!
//! Compiled from [`CalendarConfig`](crate::config::CalendarConfig): weekly working periods per
//! weekday, seasonal schedules (month-day ranges that may wrap the year end), public holidays per
//! year (non-working) and make-up working days (ngày làm bù). Deadlines in working hours
//! (Đ.7.4.a: "08 giờ làm việc") count only these instants; clock-hour deadlines do not use the
//! calendar.
//!
//! Periods are local times of the configured time zone; instants in and out are UTC.
//! A period is half-open `[start, end)`: 11:30 is not working time when the morning ends at
//! 11:30, but a deadline may end exactly at 11:30 (see [`WorkingCalendar::add_working_seconds`]).
//!
//! This module holds the compiled [`WorkingCalendar`] type and its date queries, and re-exports
//! the rest: `compile` turns the configured calendar into it (seasons, holidays, make-up days,
//! validation errors), `arithmetic` counts working time (adding and measuring working seconds),
//! `tests` holds the unit tests.

mod arithmetic;
mod compile;
#[cfg(test)]
mod tests;

pub use arithmetic::{CalendarError, MAX_IDLE_DAYS, MAX_SCAN_DAYS};
pub use compile::{parse_month_day, Period, WEEKDAYS};

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

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

impl WorkingCalendar {
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
}
