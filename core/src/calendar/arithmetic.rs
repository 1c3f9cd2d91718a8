//! Working-time arithmetic on a [`WorkingCalendar`]: whether an instant is working time, the
//! next working instant, adding working seconds to an instant and measuring working time between
//! two instants, all bounded by [`MAX_IDLE_DAYS`] and [`MAX_SCAN_DAYS`].

use super::WorkingCalendar;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};

/// How many consecutive days without any working time a search may cross before it gives up.
pub const MAX_IDLE_DAYS: u32 = 400;
/// How many days any single computation may scan in total (about 270 years).
pub const MAX_SCAN_DAYS: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The search crossed too many days without working time (a broken calendar).
    #[error("no working time within {days} days after {from}")]
    NoWorkingTime { from: NaiveDate, days: u32 },
}

impl WorkingCalendar {
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

    pub(super) fn midnight_utc(&self, date: NaiveDate) -> DateTime<Utc> {
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
