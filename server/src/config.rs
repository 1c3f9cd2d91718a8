//! The city configuration as the binary sees it: loading the rules every subcommand needs
//! (a configuration folder, or the bundled Lai Châu one) and `phananh config check`, which
//! only loads them and says what it found.

use crate::BoxError;
use phananh_core::CityRules;
use std::path::Path;

/// The rules of `dir`, or the bundled Lai Châu configuration when no folder is given.
pub(crate) fn load_rules(dir: Option<&Path>) -> Result<CityRules, BoxError> {
    Ok(match dir {
        Some(d) => CityRules::load_dir(d)?,
        None => CityRules::laichau_default()?,
    })
}

/// `phananh config check`: loads and validates a configuration folder, then prints a summary.
pub(crate) fn check(dir: Option<&Path>) -> Result<(), BoxError> {
    let rules = load_rules(dir)?;
    println!(
        "Cấu hình hợp lệ: {} — {} lĩnh vực, {} đơn vị, {} xã/phường.",
        rules.config.city.name,
        rules.config.categories.len(),
        rules.config.units.len(),
        rules.config.wards.len()
    );
    Ok(())
}
