//! The optional second factor of the staff who decide (issue 12 item 3): leaders (Đ.4.4
//! approvals, Đ.6.2 directives, Đ.8.2 secrets), the IOC head (Đ.7.2, Đ.8.1) and the office
//! (Đ.9.2, accounts). A person enrols from their own session: the secret is shown once (an
//! `otpauth://` URI and its base32 text), sealed under a key kept outside the database, and
//! switched on only by a first correct code. From then on sign-in needs the current code after
//! the password; a code is accepted once. On AWS the Cognito user pool keeps passwords and
//! its own MFA (docs/trust.md), so enrolment here is refused there.

use super::App;
use crate::error::DomainError;
use crate::model::{Actor, Role};
use crate::ports::{PasswordCustody, StaffAccount, StoreError};
use crate::totp::{self, TotpFactor};
use serde::Serialize;
use tracing::{info, warn};

/// The roles that may enrol a second factor.
pub const TOTP_ROLES: [Role; 3] = [Role::Leader, Role::IocHead, Role::OfficeAdmin];

/// What enrolment shows, once: the secret as base32 text and as an `otpauth://` URI.
#[derive(Debug, Clone, Serialize)]
pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
}

fn storage(e: StoreError) -> DomainError {
    DomainError::Storage(e.to_string())
}

/// The refusal of a second factor to a role outside [`TOTP_ROLES`] (both runtimes).
pub(super) fn not_for_role() -> DomainError {
    DomainError::invalid(
        "totp",
        "xác thực hai lớp dành cho Lãnh đạo, Trưởng bộ phận IOC và Văn phòng",
    )
}

impl App {
    async fn own_account(&self, actor: &Actor) -> Result<StaffAccount, DomainError> {
        if !TOTP_ROLES.contains(&actor.role) {
            return Err(not_for_role());
        }
        if self.accounts.password_custody() == PasswordCustody::IdentityProvider {
            return Err(DomainError::invalid(
                "totp",
                "xác thực hai lớp do dịch vụ đăng nhập (Cognito) quản lý",
            ));
        }
        self.accounts
            .account_by_id(&actor.id)
            .await
            .map_err(storage)?
            .ok_or(DomainError::NotFound)
    }

    /// Whether `actor`'s account signs in with a second factor.
    pub async fn totp_enabled(&self, actor: &Actor) -> Result<bool, DomainError> {
        let acc = self.own_account(actor).await?;
        Ok(acc.totp.is_some_and(|f| f.confirmed))
    }

    /// Starts enrolment for the signed-in `actor`: a new secret, shown this once. Refused when
    /// a confirmed factor exists (the office switches it off first, [`App::totp_reset`]).
    pub async fn totp_enrol(&self, actor: &Actor) -> Result<TotpEnrolment, DomainError> {
        let mut acc = self.own_account(actor).await?;
        if acc.totp.as_ref().is_some_and(|f| f.confirmed) {
            return Err(DomainError::invalid(
                "totp",
                "xác thực hai lớp đã được bật; muốn đổi thiết bị, đề nghị Văn phòng tắt trước",
            ));
        }
        let secret = totp::new_secret();
        acc.totp = Some(TotpFactor {
            sealed: totp::seal(&self.keys.guard, &acc.id, &totp::new_nonce(), &secret),
            confirmed: false,
            last_step: None,
        });
        self.accounts.save_account(&acc).await.map_err(storage)?;
        info!(account = %acc.id, "second factor enrolment started");
        Ok(TotpEnrolment {
            secret: totp::base32(&secret),
            uri: totp::otpauth_uri(&self.rules.config.city.name, &acc.username, &secret),
        })
    }

    /// Switches the enrolled factor on with a first correct `code`.
    pub async fn totp_confirm(&self, actor: &Actor, code: &str) -> Result<(), DomainError> {
        let mut acc = self.own_account(actor).await?;
        let Some(f) = acc.totp.clone().filter(|f| !f.confirmed) else {
            return Err(DomainError::invalid(
                "totp",
                "chưa bắt đầu đăng ký xác thực hai lớp",
            ));
        };
        let secret = totp::open(&self.keys.guard, &acc.id, &f.sealed).ok_or_else(|| {
            DomainError::Storage("second factor secret does not open with this key".into())
        })?;
        let Some(step) = totp::verify(&secret, code, self.now().timestamp(), f.last_step) else {
            warn!(account = %acc.id, "wrong code confirming the second factor");
            return Err(DomainError::InvalidCode);
        };
        acc.totp = Some(TotpFactor {
            confirmed: true,
            last_step: Some(step),
            ..f
        });
        self.accounts.save_account(&acc).await.map_err(storage)?;
        info!(account = %acc.id, "second factor switched on");
        Ok(())
    }

    /// Switches off account `id`'s second factor (a lost phone): the account managers (Đ.9.2).
    pub async fn totp_reset(&self, by: &Actor, id: &str) -> Result<(), DomainError> {
        if !super::accounts::may_manage_accounts(by) {
            return Err(DomainError::Forbidden {
                role: by.role,
                action: crate::model::Action::ManageAccounts,
            });
        }
        let mut acc = self
            .accounts
            .account_by_id(id)
            .await
            .map_err(storage)?
            .ok_or(DomainError::NotFound)?;
        if let Some(mfa) = self.accounts.identity_mfa() {
            self.totp_reset_at_provider(mfa, id).await?;
            info!(account = %id, by = %by.id, "second factor switched off");
            return Ok(());
        }
        acc.totp = None;
        self.accounts.save_account(&acc).await.map_err(storage)?;
        info!(account = %id, by = %by.id, "second factor switched off");
        Ok(())
    }

    /// After a correct password: the account's second factor, if it has one. The step of an
    /// accepted code is stored, so the same code (or an older one) is refused afterwards.
    pub(super) async fn second_factor(
        &self,
        actor: &Actor,
        code: Option<&str>,
    ) -> Result<(), DomainError> {
        let Some(mut acc) = self
            .accounts
            .account_by_id(&actor.id)
            .await
            .map_err(storage)?
        else {
            return Ok(());
        };
        let Some(f) = acc.totp.clone().filter(|f| f.confirmed) else {
            return Ok(());
        };
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(DomainError::SecondFactorRequired);
        };
        let secret = totp::open(&self.keys.guard, &acc.id, &f.sealed).ok_or_else(|| {
            DomainError::Storage("second factor secret does not open with this key".into())
        })?;
        let Some(step) = totp::verify(&secret, code, self.now().timestamp(), f.last_step) else {
            warn!(account = %acc.id, "wrong or replayed second-factor code");
            return Err(DomainError::InvalidCode);
        };
        acc.totp = Some(TotpFactor {
            last_step: Some(step),
            ..f
        });
        self.accounts.save_account(&acc).await.map_err(storage)?;
        Ok(())
    }
}
