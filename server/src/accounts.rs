//! `phananh accounts`: staff accounts managed from the command line (create, disable, reset a
//! password, list), since staff are issued accounts by the organisation and never register
//! themselves (Đ.4.1). This module is also the binary's one door to the account policy.

use crate::cli::AccountCmd;
use crate::config::load_rules;
use crate::system::{build_app, open_embedded};
use crate::BoxError;
use phananh_core::model::Role;
use phananh_core::ports::AccountStore;
use std::path::Path;

// The account policy (validation, hashing, uniqueness) lives in `phananh_http` today; when it
// moves to core, only this line changes.
pub(crate) use phananh_http::{create_staff_account, NewAccount};

/// Runs one `accounts` action against the data directory, closing the store afterwards.
pub(crate) async fn run(
    data: &Path,
    config: Option<&Path>,
    action: AccountCmd,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?);
    let store = emb.store.clone();
    let result: Result<(), BoxError> = async {
        match action {
            AccountCmd::Create {
                username,
                name,
                role,
                unit,
                password,
            } => {
                let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
                let acc = create_staff_account(
                    &app,
                    NewAccount {
                        username,
                        display_name: name,
                        role,
                        unit,
                        password,
                    },
                )
                .await
                .map_err(|p| format!("{} ({})", p.detail, p.code))?;
                println!("Đã tạo tài khoản {} ({}).", acc.username, acc.role.as_str());
            }
            AccountCmd::Disable { username } => {
                let mut acc = store
                    .account_by_username(&username)
                    .await?
                    .ok_or_else(|| format!("no account {username:?}"))?;
                acc.disabled = true;
                store.save_account(&acc).await?;
                println!("Đã khóa tài khoản {username}.");
            }
            AccountCmd::Reset { username, password } => {
                if password.chars().count() < 10 {
                    return Err("password must have at least 10 characters".into());
                }
                let mut acc = store
                    .account_by_username(&username)
                    .await?
                    .ok_or_else(|| format!("no account {username:?}"))?;
                acc.password_hash =
                    phananh_http::auth::hash_password(&password).map_err(|p| p.detail.clone())?;
                store.save_account(&acc).await?;
                println!("Đã đặt lại mật khẩu cho {username}.");
            }
            AccountCmd::List => {
                for a in store.list_accounts().await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        a.username,
                        a.role.as_str(),
                        a.unit.as_deref().unwrap_or("-"),
                        if a.disabled {
                            "khóa"
                        } else {
                            "hoạt động"
                        },
                        a.display_name
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    emb.store.close();
    result
}
