//! The staff pool's software-token (TOTP) factor behind core's second-factor policy
//! (`phananh_core::idp_mfa`, issue 12 item 3). Calls: the token's owner = `GetUser`;
//! enrolment = `AssociateSoftwareToken` + `VerifySoftwareToken` (the user's own access token:
//! Cognito has no administrator variant); on/off = `AdminSetUserMFAPreference` (IAM: the
//! staff functions); state = `AdminGetUser`'s `UserMFASettingList`. With the pool's
//! `MfaConfiguration: OPTIONAL`, a user whose factor is on gets the `SOFTWARE_TOKEN_MFA`
//! challenge at sign-in (the managed login pages answer it).

use super::accounts::CognitoAccounts;
use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    SoftwareTokenMfaSettingsType, VerifySoftwareTokenResponseType,
};
use phananh_core::idp_mfa::{IdentityMfa, MfaError};

const SOFTWARE_TOKEN_MFA: &str = "SOFTWARE_TOKEN_MFA";

fn mfa_error<E, R>(e: SdkError<E, R>) -> MfaError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let code = match &e {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    };
    match code {
        Some("NotAuthorizedException") | Some("UserNotFoundException") => MfaError::InvalidToken,
        Some("CodeMismatchException") | Some("EnableSoftwareTokenMFAException") => {
            MfaError::WrongCode
        }
        _ => MfaError::Backend(DisplayErrorContext(&e).to_string()),
    }
}

#[async_trait]
impl IdentityMfa for CognitoAccounts {
    async fn token_owner(&self, access_token: &str) -> Result<String, MfaError> {
        let out = self
            .client()
            .get_user()
            .access_token(access_token)
            .send()
            .await
            .map_err(mfa_error)?;
        Ok(out.username().to_string())
    }

    async fn associate(&self, access_token: &str) -> Result<String, MfaError> {
        let out = self
            .client()
            .associate_software_token()
            .access_token(access_token)
            .send()
            .await
            .map_err(mfa_error)?;
        out.secret_code()
            .map(str::to_string)
            .ok_or_else(|| MfaError::Backend("AssociateSoftwareToken gave no secret".into()))
    }

    async fn verify(&self, access_token: &str, code: &str) -> Result<(), MfaError> {
        let out = self
            .client()
            .verify_software_token()
            .access_token(access_token)
            .user_code(code)
            .friendly_device_name("phananh")
            .send()
            .await
            .map_err(mfa_error)?;
        match out.status() {
            Some(VerifySoftwareTokenResponseType::Success) => Ok(()),
            _ => Err(MfaError::WrongCode),
        }
    }

    async fn set_enabled(&self, id: &str, enabled: bool) -> Result<(), MfaError> {
        self.client()
            .admin_set_user_mfa_preference()
            .user_pool_id(self.pool())
            .username(id)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(mfa_error)?;
        Ok(())
    }

    async fn enabled(&self, id: &str) -> Result<bool, MfaError> {
        let out = self
            .client()
            .admin_get_user()
            .user_pool_id(self.pool())
            .username(id)
            .send()
            .await
            .map_err(mfa_error)?;
        Ok(out
            .user_mfa_setting_list()
            .iter()
            .any(|m| m == SOFTWARE_TOKEN_MFA))
    }
}
