//! `[rate_limits]` of `city.toml`: how many requests one client (its token or device, and its
//! address, each counted apart) may send per minute to the endpoints a flood would hurt, with
//! a burst allowance. Every key has a default, so a city file without the section is valid.

use super::{ConfigError, CITY_FILE};
use serde::{Deserialize, Serialize};

/// A token bucket: `per_minute` requests on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub per_minute: u32,
    pub burst: u32,
}

/// The limits per client, by kind of request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Off: no request is limited (a test bench; never in production).
    pub enabled: bool,
    /// A client address gets this many times each limit (many people share one address
    /// behind a mobile carrier's NAT; a token or device gets the limit itself).
    pub address_factor: u32,
    /// Report submissions (`POST /v1/reports`, Open311 `POST .../requests`).
    pub submissions: Limit,
    /// Upload slots (`POST /v1/uploads`).
    pub uploads: Limit,
    /// Password sign-in (API and console) and one-time code checks.
    pub sign_in: Limit,
    /// One-time code requests (each one is an SMS or e-mail).
    pub codes: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            address_factor: 10,
            submissions: Limit {
                per_minute: 20,
                burst: 30,
            },
            uploads: Limit {
                per_minute: 30,
                burst: 40,
            },
            sign_in: Limit {
                per_minute: 10,
                burst: 10,
            },
            codes: Limit {
                per_minute: 3,
                burst: 5,
            },
        }
    }
}

impl RateLimits {
    /// Every limit at least 1 per minute and a burst of at least 1.
    pub fn validate(&self, errs: &mut Vec<ConfigError>) {
        if self.address_factor == 0 {
            errs.push(ConfigError::new(
                CITY_FILE,
                "rate_limits.address_factor",
                "must be at least 1",
            ));
        }
        for (name, l) in [
            ("submissions", self.submissions),
            ("uploads", self.uploads),
            ("sign_in", self.sign_in),
            ("codes", self.codes),
        ] {
            if l.per_minute == 0 || l.burst == 0 {
                errs.push(ConfigError::new(
                    CITY_FILE,
                    format!("rate_limits.{name}"),
                    "per_minute and burst must be at least 1 (set enabled = false to turn limits off)",
                ));
            }
        }
    }
}
