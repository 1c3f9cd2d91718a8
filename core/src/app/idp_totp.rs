//! The second factor where an identity provider keeps passwords (the Cognito staff pool on
//! AWS, issue 12 item 3): the same policy as embedded (`TOTP_ROLES` may enrol, from their own
//! session; the account managers switch a factor off, Đ.9.2), carried out by the provider
//! ([`IdentityMfa`]): a new secret for the user's own access token, a first correct code,
//! then the factor switched on for the account, so the provider's sign-in asks for the code.

use super::totp::{not_for_role, TotpEnrolment, TOTP_ROLES};
use super::App;
use crate::error::DomainError;
use crate::idp_mfa::{IdentityMfa, MfaError};
use crate::model::Actor;
use crate::totp;
use tracing::{info, warn};

fn provider_error(e: MfaError) -> DomainError {
    match e {
        // The user's own provider session ended: sign in again.
        MfaError::InvalidToken => DomainError::SessionEnded,
        MfaError::WrongCode => DomainError::InvalidCode,
        MfaError::Backend(m) => DomainError::Storage(m),
    }
}

fn token_needed() -> DomainError {
    DomainError::invalid(
        "access_token",
        "cần mã truy cập (access token) của phiên đăng nhập Cognito",
    )
}

impl App {
    /// The provider's factor, for an actor allowed to enrol, with the provider access token
    /// checked to be the actor's own.
    async fn provider_for<'a>(
        &'a self,
        mfa: &'a dyn IdentityMfa,
        actor: &Actor,
        access_token: Option<&str>,
    ) -> Result<(&'a dyn IdentityMfa, String), DomainError> {
        if !TOTP_ROLES.contains(&actor.role) {
            return Err(not_for_role());
        }
        let token = access_token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(token_needed)?;
        let owner = mfa.token_owner(token).await.map_err(provider_error)?;
        if owner != actor.id {
            warn!(account = %actor.id, "second factor: an access token of another user");
            return Err(DomainError::NotOwner);
        }
        Ok((mfa, token.to_string()))
    }

    /// Starts enrolment: at the identity provider when it keeps the factor (the user's own
    /// `access_token` needed), else as [`App::totp_enrol`].
    pub async fn totp_enrol_for(
        &self,
        actor: &Actor,
        access_token: Option<&str>,
    ) -> Result<TotpEnrolment, DomainError> {
        let Some(mfa) = self.accounts.identity_mfa() else {
            return self.totp_enrol(actor).await;
        };
        let (mfa, token) = self.provider_for(mfa, actor, access_token).await?;
        if mfa.enabled(&actor.id).await.map_err(provider_error)? {
            return Err(DomainError::invalid(
                "totp",
                "xác thực hai lớp đã được bật; muốn đổi thiết bị, đề nghị Văn phòng tắt trước",
            ));
        }
        let secret = mfa.associate(&token).await.map_err(provider_error)?;
        let bytes = totp::base32_decode(&secret)
            .ok_or_else(|| DomainError::Storage("provider secret is not base32".into()))?;
        let login = self
            .accounts
            .account_by_id(&actor.id)
            .await
            .map_err(|e| DomainError::Storage(e.to_string()))?
            .map(|a| a.username)
            .unwrap_or_else(|| actor.id.clone());
        info!(account = %actor.id, "second factor enrolment started at the identity provider");
        Ok(TotpEnrolment {
            uri: totp::otpauth_uri(&self.rules.config.city.name, &login, &bytes),
            secret,
        })
    }

    /// Switches the enrolled factor on with a first correct `code`: at the identity provider
    /// when it keeps the factor, else as [`App::totp_confirm`].
    pub async fn totp_confirm_for(
        &self,
        actor: &Actor,
        access_token: Option<&str>,
        code: &str,
    ) -> Result<(), DomainError> {
        let Some(mfa) = self.accounts.identity_mfa() else {
            return self.totp_confirm(actor, code).await;
        };
        let (mfa, token) = self.provider_for(mfa, actor, access_token).await?;
        if let Err(e) = mfa.verify(&token, code.trim()).await {
            warn!(account = %actor.id, "wrong code confirming the second factor");
            return Err(provider_error(e));
        }
        mfa.set_enabled(&actor.id, true)
            .await
            .map_err(provider_error)?;
        info!(account = %actor.id, "second factor switched on at the identity provider");
        Ok(())
    }

    /// [`App::totp_reset`]'s provider half: switches account `id`'s factor off there.
    pub(super) async fn totp_reset_at_provider(
        &self,
        mfa: &dyn IdentityMfa,
        id: &str,
    ) -> Result<(), DomainError> {
        mfa.set_enabled(id, false).await.map_err(provider_error)
    }
}
