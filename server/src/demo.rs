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
    for (username, name, role, unit) in DEMO {
        let mut pw = [0u8; 9];
        rand::thread_rng().fill_bytes(&mut pw);
        let password = format!("demo-{}", hex::encode(pw));
        app.create_account(
            &operator(),
            NewAccount {
                username: username.to_string(),
                display_name: name.to_string(),
                role: *role,
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
