//! `phananh accounts`: staff accounts managed from the command line (create, disable, reset a
//! password, list), since staff are issued accounts by the organisation and never register
//! themselves (Đ.4.1). The policy itself is core's; this module also says who the command line
//! acts as ([`operator`]) and how core's refusals read ([`refusal`]), for `demo` and `export` too.

use crate::cli::AccountCmd;
use crate::config::load_rules;
use crate::system::{build_app, open_embedded};
use crate::BoxError;
use phananh_core::app::{App, NewAccount};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::StaffAccount;
use phananh_core::DomainError;
use std::path::Path;

/// The operator at the machine: the account policy of core applies to them as to the office.
pub(crate) fn operator() -> Actor {
    Actor::system()
}

/// A refusal as the operator reads it: the Vietnamese message and its stable code.
pub(crate) fn refusal(e: DomainError) -> BoxError {
    format!("{} ({})", e.message_vi(), e.code()).into()
}

/// The account named `username`; when there is none, says so by name (core's generic
/// `not_found` message speaks of a report).
async fn find(app: &App, by: &Actor, username: &str) -> Result<StaffAccount, BoxError> {
    match app.find_account(by, username).await {
        Ok(acc) => Ok(acc),
        Err(DomainError::NotFound) => Err(format!("no account {username:?}").into()),
        Err(e) => Err(refusal(e)),
    }
}

/// Runs one `accounts` action against the data directory, closing the store afterwards.
pub(crate) async fn run(
    data: &Path,
    config: Option<&Path>,
    action: AccountCmd,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?)?;
    let by = operator();
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
                let new = NewAccount {
                    username,
                    display_name: name,
                    role,
                    unit,
                    password,
                };
                let acc = app.create_account(&by, new).await.map_err(refusal)?;
                println!("Đã tạo tài khoản {} ({}).", acc.username, acc.role.as_str());
            }
            AccountCmd::Disable { username } => {
                let acc = find(&app, &by, &username).await?;
                app.set_account_disabled(&by, &acc.id, true)
                    .await
                    .map_err(refusal)?;
                println!("Đã khóa tài khoản {username}.");
            }
            AccountCmd::Reset { username, password } => {
                let acc = find(&app, &by, &username).await?;
                app.reset_password(&by, &acc.id, &password)
                    .await
                    .map_err(refusal)?;
                println!("Đã đặt lại mật khẩu cho {username}.");
            }
            AccountCmd::List => {
                for a in app.list_accounts(&by).await.map_err(refusal)? {
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
