//! A city's values, compiled once: the validated configuration (categories, units, wards,
//! messages, word lists) with its working calendar and time zone. Everything city-specific
//! reaches the domain through [`CityRules`]; nothing of it is written in code.
//!
//! The deadline arithmetic built on these values lives in [`crate::deadlines`].

use crate::calendar::WorkingCalendar;
use crate::config::{self, CityConfig, ConfigError, ConfigErrors, CITY_FILE};
use chrono::{DateTime, Utc};
use std::path::Path;

/// Everything the domain needs to apply a city's rules.
#[derive(Debug, Clone)]
pub struct CityRules {
    pub config: CityConfig,
    pub calendar: WorkingCalendar,
    pub tz: chrono_tz::Tz,
}

/// The shipped default config (Lai Châu, `config/laichau/`), embedded at build time.
const LAICHAU: [(&str, &str); 7] = [
    (
        config::CITY_FILE,
        include_str!("../../config/laichau/city.toml"),
    ),
    (
        config::CATEGORIES_FILE,
        include_str!("../../config/laichau/categories.toml"),
    ),
    (
        config::UNITS_FILE,
        include_str!("../../config/laichau/units.toml"),
    ),
    (
        config::WARDS_FILE,
        include_str!("../../config/laichau/wards.toml"),
    ),
    (
        config::CALENDAR_FILE,
        include_str!("../../config/laichau/calendar.toml"),
    ),
    (
        config::MESSAGES_FILE,
        include_str!("../../config/laichau/messages.toml"),
    ),
    (
        config::SCREENING_FILE,
        include_str!("../../config/laichau/screening.toml"),
    ),
];

impl CityRules {
    /// Validates `config` and compiles its calendar.
    pub fn from_config(config: CityConfig) -> Result<CityRules, ConfigErrors> {
        config::validate(&config)?;
        let calendar = WorkingCalendar::compile(&config.calendar).map_err(ConfigErrors)?;
        let tz = config
            .city
            .time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                ConfigErrors(vec![ConfigError::new(
                    CITY_FILE,
                    "time_zone",
                    format!("unknown time zone \"{}\"", config.city.time_zone),
                )])
            })?;
        Ok(CityRules {
            config,
            calendar,
            tz,
        })
    }

    /// Loads and validates a config folder.
    pub fn load_dir(dir: &Path) -> Result<CityRules, ConfigErrors> {
        CityRules::from_config(config::load_dir(dir)?)
    }

    /// The shipped Lai Châu config (`config/laichau/`).
    pub fn laichau_default() -> Result<CityRules, ConfigErrors> {
        CityRules::from_config(config::from_sources(&LAICHAU)?)
    }

    /// `t` in the city's time zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
        t.with_timezone(&self.tz)
    }

    /// The instant local day `d` starts (its first moment in the city's time zone), in UTC.
    pub fn local_day_start(&self, d: chrono::NaiveDate) -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        self.tz
            .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Local time as Vietnamese readers write it: "16:30 28/11/2026".
    pub fn format_local(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%H:%M %d/%m/%Y").to_string()
    }
}
