//! The demo accounts of a fresh system: on the first `serve` of an empty data directory, one
//! staff account per role with a random password, so the system can be tried at once. The
//! passwords are shown once and kept in `demo-accounts.txt` (mode 0600).

use crate::accounts::{operator, refusal};
use crate::secrets::write_private;
use crate::BoxError;
use phananh_core::app::{App, NewAccount};
use phananh_core::model::Role;
use rand::RngCore;
use std::path::Path;

/// The file in the data directory that keeps the demo accounts and their passwords.
pub(crate) const DEMO_FILE: &str = "demo-accounts.txt";

/// The demo accounts of a fresh system: one per role (units: the market-prices department,
/// a ward and the city police), with random passwords written to `demo-accounts.txt`.
const DEMO: &[(&str, &str, Role, Option<&str>)] = &[
    (
        "ioc.operator",
        "Cán bộ trực IOC",
        Role::IocOperator,
        Some("ioc"),
    ),
    (
        "ioc.head",
        "Trưởng bộ phận điều hành IOC",
        Role::IocHead,
        Some("ioc"),
    ),
    (
        "leader",
        "Lãnh đạo UBND thành phố",
        Role::Leader,
        Some("lanh_dao_ubnd"),
    ),
    (
        "office",
        "Văn phòng HĐND và UBND",
        Role::OfficeAdmin,
        Some("van_phong"),
    ),
    (
        "kinhte.staff",
        "Cán bộ Phòng Kinh tế",
        Role::UnitStaff,
        Some("phong_kinh_te"),
    ),
    (
        "kinhte.head",
        "Trưởng phòng Kinh tế",
        Role::UnitHead,
        Some("phong_kinh_te"),
    ),
    (
        "vhtt.staff",
        "Cán bộ Phòng Văn hóa và Thông tin",
        Role::UnitStaff,
        Some("phong_vhtt"),
    ),
    (
        "tanphong.staff",
        "Cán bộ UBND phường Tân Phong",
        Role::UnitStaff,
        Some("ubnd_tan_phong"),
    ),
    (
        "congan.staff",
        "Cán bộ Công an thành phố",
        Role::UnitStaff,
        Some("cong_an_tp"),
    ),
];

/// Creates the demo accounts when the system has no account yet, and returns their table
/// (`username role unit password` lines after a header); `None` when accounts already exist.
pub(crate) async fn create_demo_accounts(
    app: &App,
    data: &Path,
) -> Result<Option<String>, BoxError> {
    if app.has_accounts().await.map_err(refusal)? {
        return Ok(None);
    }
    let mut table = String::from("# username role unit password\n");
    // The demo names Lai Châu's units; with another city's config, the IOC, leadership and
    // office accounts use that city's units and a unit account goes to its first unit, so a
    // first start works on any valid configuration.
    let cfg = &app.rules().config;
    let city = &cfg.city;
    let first_unit = cfg.units.iter().map(|u| u.id.as_str()).find(|u| {
        ![&city.ioc_unit, &city.leadership_unit, &city.office_unit].contains(&&u.to_string())
    });
    let mut accounts: Vec<(&str, &str, Role, Option<&str>)> = Vec::new();
    for (username, name, role, unit) in DEMO {
        let unit = match role {
            Role::IocOperator | Role::IocHead => Some(city.ioc_unit.as_str()),
            Role::Leader => Some(city.leadership_unit.as_str()),
            Role::OfficeAdmin => Some(city.office_unit.as_str()),
            _ => *unit,
        };
        if unit.is_none_or(|u| cfg.unit(u).is_some()) {
            accounts.push((username, name, *role, unit));
        }
    }
    if !accounts.iter().any(|a| a.2.is_unit_role()) {
        if let Some(u) = first_unit {
            accounts.push(("unit.staff", "Cán bộ đơn vị", Role::UnitStaff, Some(u)));
        }
    }
    for (username, name, role, unit) in accounts {
        let mut pw = [0u8; 9];
        rand::thread_rng().fill_bytes(&mut pw);
        let password = format!("demo-{}", hex::encode(pw));
        app.create_account(
            &operator(),
            NewAccount {
                username: username.to_string(),
                display_name: name.to_string(),
                role,
                unit: unit.map(str::to_string),
                password: password.clone(),
            },
        )
        .await
        .map_err(refusal)?;
        table.push_str(&format!(
            "{username} {} {} {password}\n",
            role.as_str(),
            unit.unwrap_or("-")
        ));
    }
    write_private(&data.join(DEMO_FILE), &table)?;
    Ok(Some(table))
}
