//! Staff accounts (Đ.4.1: issued by the organisation, never self-registered; Đ.9.2: managed by
//! the Office of the People's Council and Committee) and staff sign-in. The account policy is
//! written here once: who may manage accounts, which roles exist for staff, the username and
//! password rules. The API and the `phananh accounts` command both come through it.

use super::App;
use crate::error::DomainError;
use crate::model::{Action, Actor, Role};
pub use crate::ports::PasswordHasher;
use crate::ports::{PasswordCustody, StaffAccount, StoreError};
use serde::Deserialize;
use tracing::{info, warn};

/// The fewest characters a staff password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A staff account to create, as the office (or the command line) gives it.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<String>,
    pub password: String,
}

/// Đ.4.1, Đ.9.2: who may manage staff accounts (the policy table in `lifecycle`).
pub fn may_manage_accounts(actor: &Actor) -> bool {
    crate::lifecycle::allowed_roles(Action::ManageAccounts).contains(&actor.role)
}

fn require_manager(actor: &Actor) -> Result<(), DomainError> {
    if may_manage_accounts(actor) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            role: actor.role,
            action: Action::ManageAccounts,
        })
    }
}

fn check_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự"),
        ));
    }
    Ok(())
}

fn accounts_err(e: StoreError) -> DomainError {
    match e {
        StoreError::AlreadyExists => DomainError::AlreadyExists {
            field: "username".into(),
        },
        other => super::storage(other),
    }
}

impl App {
    /// Validates and creates a staff account.
    pub async fn create_account(
        &self,
        by: &Actor,
        new: NewAccount,
    ) -> Result<StaffAccount, DomainError> {
        require_manager(by)?;
        let username = new.username.trim().to_lowercase();
        if username.len() < 3
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(DomainError::invalid(
                "username",
                "tên đăng nhập 3–64 ký tự: chữ, số, . _ -",
            ));
        }
        if !new.role.is_staff() {
            return Err(DomainError::invalid(
                "role",
                "vai trò phải là vai trò cán bộ",
            ));
        }
        let known = |u: &str| self.rules.config.unit(u).is_some();
        match (new.role.is_unit_role(), new.unit.as_deref()) {
            (true, Some(u)) if known(u) => {}
            (true, _) => {
                return Err(DomainError::invalid(
                    "unit",
                    "cán bộ đơn vị cần một mã đơn vị hợp lệ",
                ))
            }
            (false, Some(u)) if !known(u) => {
                return Err(DomainError::invalid("unit", "mã đơn vị không tồn tại"))
            }
            _ => {}
        }
        check_password(&new.password)?;
        let display_name = new.display_name.trim().to_string();
        if display_name.is_empty()
            || display_name.chars().count() > 200
            || display_name.chars().any(char::is_control)
        {
            return Err(DomainError::invalid("display_name", "họ tên không hợp lệ"));
        }
        let custody = self.accounts.password_custody();
        let password_hash = match custody {
            PasswordCustody::Hashes => self
                .passwords
                .hash(&new.password)
                .await
                .map_err(super::storage)?,
            // An identity provider keeps the password itself (temporary, changed at first sign-in).
            PasswordCustody::IdentityProvider => String::new(),
        };
        let acc = StaffAccount {
            id: format!("acc-{}", self.ids.new_id()),
            username,
            display_name,
            role: new.role,
            unit: new.unit,
            password_hash,
            disabled: false,
            created_at: self.now(),
            sessions_valid_from: None,
            totp: None,
        };
        self.accounts
            .create_account(&acc)
            .await
            .map_err(accounts_err)?;
        if custody == PasswordCustody::IdentityProvider {
            self.accounts
                .set_temporary_password(&acc.id, &new.password)
                .await
                .map_err(accounts_err)?;
        }
        info!(account = %acc.id, by = %by.id, role = acc.role.as_str(), "staff account created");
        Ok(acc)
    }

    /// Every staff account (for the office).
    pub async fn list_accounts(&self, by: &Actor) -> Result<Vec<StaffAccount>, DomainError> {
        require_manager(by)?;
        self.accounts.list_accounts().await.map_err(accounts_err)
    }

    /// Whether any account exists yet (a fresh system gets demo accounts).
    pub async fn has_accounts(&self) -> Result<bool, DomainError> {
        Ok(!self
            .accounts
            .list_accounts()
            .await
            .map_err(accounts_err)?
            .is_empty())
    }

    /// Finds an account by id or username (for the command line).
    pub async fn find_account(
        &self,
        by: &Actor,
        id_or_username: &str,
    ) -> Result<StaffAccount, DomainError> {
        require_manager(by)?;
        if let Some(a) = self
            .accounts
            .account_by_id(id_or_username)
            .await
            .map_err(accounts_err)?
        {
            return Ok(a);
        }
        self.accounts
            .account_by_username(&id_or_username.trim().to_lowercase())
            .await
            .map_err(accounts_err)?
            .ok_or(DomainError::NotFound)
    }

    async fn update_account(
        &self,
        by: &Actor,
        id: &str,
        change: impl FnOnce(&mut StaffAccount),
    ) -> Result<StaffAccount, DomainError> {
        let mut acc = self.find_account(by, id).await?;
        change(&mut acc);
        self.accounts
            .save_account(&acc)
            .await
            .map_err(accounts_err)?;
        // The very next request with this account's token sees the change.
        self.session_cache.forget(&acc.id);
        info!(account = %acc.id, by = %by.id, "staff account updated");
        Ok(acc)
    }

    /// Disables or re-enables an account. Nobody disables their own account.
    pub async fn set_account_disabled(
        &self,
        by: &Actor,
        id: &str,
        disabled: bool,
    ) -> Result<StaffAccount, DomainError> {
        // The role first: someone who may not manage accounts is told so (403), also about
        // their own account, before any rule about what a manager may do (found by the API fuzz).
        require_manager(by)?;
        if disabled && id == by.id {
            return Err(DomainError::invalid(
                "id",
                "không thể tự khóa tài khoản của mình",
            ));
        }
        self.update_account(by, id, |a| a.disabled = disabled).await
    }

    /// Sets a new password.
    pub async fn reset_password(
        &self,
        by: &Actor,
        id: &str,
        password: &str,
    ) -> Result<StaffAccount, DomainError> {
        require_manager(by)?;
        check_password(password)?;
        if self.accounts.password_custody() == PasswordCustody::IdentityProvider {
            let acc = self.find_account(by, id).await?;
            self.accounts
                .set_temporary_password(&acc.id, password)
                .await
                .map_err(accounts_err)?;
            info!(account = %acc.id, by = %by.id, "staff password reset (temporary)");
            return Ok(acc);
        }
        let hash = self
            .passwords
            .hash(password)
            .await
            .map_err(super::storage)?;
        self.update_account(by, id, move |a| a.password_hash = hash)
            .await
    }

    /// The display name of a signed-in staff member (for the console's header).
    pub async fn display_name(&self, actor: &Actor) -> Option<String> {
        match self.accounts.account_by_id(&actor.id).await {
            Ok(Some(a)) => Some(a.display_name),
            _ => None,
        }
    }

    /// Staff sign-in. An unknown username, a wrong password and a disabled account are refused
    /// alike, after the same password work (timing does not tell which usernames exist).
    pub async fn login(&self, username: &str, password: &str) -> Result<Actor, DomainError> {
        let acc = self
            .accounts
            .account_by_username(&username.trim().to_lowercase())
            .await
            .map_err(accounts_err)?;
        let ok = self
            .passwords
            .verify(password, acc.as_ref().map(|a| a.password_hash.as_str()))
            .await;
        match acc {
            Some(a) if ok && !a.disabled => Ok(Actor::new(a.id, a.role, a.unit.as_deref())),
            _ => {
                // Not the username itself: people type their name or e-mail there.
                warn!(
                    username_len = username.trim().chars().count(),
                    "failed staff login"
                );
                Err(DomainError::InvalidCredentials)
            }
        }
    }
}
