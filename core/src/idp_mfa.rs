//! The second factor kept by an identity provider (issue 12 item 3 on AWS): when the accounts
//! port is a sign-in service that checks passwords itself ([`PasswordCustody::IdentityProvider`],
//! the Cognito staff pool), it also keeps the TOTP factor and asks for the code at sign-in.
//! Core still decides who may enrol and who may switch a factor off (`app/totp.rs`); the
//! provider only does what it is told.
//!
//! [`PasswordCustody::IdentityProvider`]: crate::ports::PasswordCustody::IdentityProvider

use async_trait::async_trait;

/// Why the provider refused.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// The user's own access token is missing, expired or revoked.
    #[error("the identity provider refused the access token")]
    InvalidToken,
    /// The first code does not match the new secret.
    #[error("the code does not match")]
    WrongCode,
    #[error("identity provider: {0}")]
    Backend(String),
}

/// A provider's software-token (TOTP) factor. Enrolment acts with the user's own access token
/// (the provider has no administrator call for it); switching on or off is an administrator
/// call on the account.
#[async_trait]
pub trait IdentityMfa: Send + Sync {
    /// The account id the access token was issued to.
    async fn token_owner(&self, access_token: &str) -> Result<String, MfaError>;
    /// A new secret for the token's user (base32 text), not yet in force.
    async fn associate(&self, access_token: &str) -> Result<String, MfaError>;
    /// Checks a first code against the associated secret.
    async fn verify(&self, access_token: &str, code: &str) -> Result<(), MfaError>;
    /// Switches account `id`'s software-token factor on (and preferred) or off.
    async fn set_enabled(&self, id: &str, enabled: bool) -> Result<(), MfaError>;
    /// Whether account `id` signs in with the software-token factor.
    async fn enabled(&self, id: &str) -> Result<bool, MfaError>;
}
