//! The Cognito adapter of the accounts port (feature `cognito`); see the parent module.

use super::{ATTR_LOGIN, ATTR_NAME, ATTR_UNIT, STAFF_ROLES, UNIT_SCHEMA_NAME};
use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
use aws_sdk_cognitoidentityprovider::Client;
use chrono::{DateTime, Utc};
use phananh_core::model::Role;
use phananh_core::ports::{AccountStore, PasswordCustody, StaffAccount, StoreError};

/// Bound on the pages read for one group's list (60 users a page).
const MAX_PAGES: usize = 100;

/// The staff accounts of one Cognito user pool.
#[derive(Debug, Clone)]
pub struct CognitoAccounts {
    client: Client,
    pool: String,
}

fn backend<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

fn attr(name: &str, value: &str) -> Result<AttributeType, StoreError> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))
}

fn attr_of<'a>(attrs: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

fn created(d: Option<&aws_sdk_cognitoidentityprovider::primitives::DateTime>) -> DateTime<Utc> {
    d.and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos()))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// What Cognito holds of a user, before its group is known.
struct User {
    id: String,
    attrs: Vec<AttributeType>,
    enabled: bool,
    created_at: DateTime<Utc>,
}

impl User {
    fn account(self, role: Role) -> StaffAccount {
        StaffAccount {
            username: attr_of(&self.attrs, ATTR_LOGIN)
                .unwrap_or_default()
                .to_string(),
            display_name: attr_of(&self.attrs, ATTR_NAME)
                .unwrap_or_default()
                .to_string(),
            unit: attr_of(&self.attrs, ATTR_UNIT)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            id: self.id,
            role,
            password_hash: String::new(),
            disabled: !self.enabled,
            // Revoking sessions is Cognito's global sign-out (AdminUserGlobalSignOut).
            sessions_valid_from: None,
            totp: None,
            created_at: self.created_at,
        }
    }
}

impl CognitoAccounts {
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        CognitoAccounts {
            client,
            pool: user_pool_id.into(),
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    pub(super) fn pool(&self) -> &str {
        &self.pool
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        match self
            .client
            .admin_get_user()
            .user_pool_id(&self.pool)
            .username(id)
            .send()
            .await
        {
            Ok(u) => Ok(Some(User {
                id: u.username().to_string(),
                attrs: u.user_attributes().to_vec(),
                enabled: u.enabled(),
                created_at: created(u.user_create_date()),
            })),
            Err(e) if code(&e) == Some("UserNotFoundException") => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    /// The staff role among the user's groups (several: the first staff role found).
    async fn role(&self, id: &str) -> Result<Option<Role>, StoreError> {
        let out = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.pool)
            .username(id)
            .send()
            .await
            .map_err(backend)?;
        Ok(out
            .groups()
            .iter()
            .filter_map(|g| g.group_name().and_then(Role::parse))
            .find(|r| STAFF_ROLES.contains(r)))
    }

    async fn with_role(&self, user: Option<User>) -> Result<Option<StaffAccount>, StoreError> {
        let Some(user) = user else { return Ok(None) };
        // A pool user without a staff group (made by hand) is no staff account.
        Ok(self.role(&user.id).await?.map(|role| user.account(role)))
    }

    /// The id of the user whose login name is `login`, if any.
    async fn id_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        if login.contains(['"', '\\']) {
            return Ok(None);
        }
        let out = self
            .client
            .list_users()
            .user_pool_id(&self.pool)
            .filter(format!("{ATTR_LOGIN} = \"{login}\""))
            .limit(2)
            .send()
            .await
            .map_err(backend)?;
        Ok(out
            .users()
            .iter()
            .find(|u| attr_of(u.attributes(), ATTR_LOGIN) == Some(login))
            .map(|u| User {
                id: u.username().unwrap_or_default().to_string(),
                attrs: u.attributes().to_vec(),
                enabled: u.enabled(),
                created_at: created(u.user_create_date()),
            }))
    }

    async fn set_group(&self, id: &str, role: Role, add: bool) -> Result<(), StoreError> {
        if add {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.pool)
                .username(id)
                .group_name(role.as_str())
                .send()
                .await
                .map_err(backend)?;
        } else {
            self.client
                .admin_remove_user_from_group()
                .user_pool_id(&self.pool)
                .username(id)
                .group_name(role.as_str())
                .send()
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Ends every session of the user (refresh tokens revoked; issued ID tokens run out).
    async fn sign_out(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(&self.pool)
            .username(id)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl AccountStore for CognitoAccounts {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        if self.id_by_login(&account.username).await?.is_some() {
            return Err(StoreError::AlreadyExists);
        }
        let mut attrs = vec![
            attr(ATTR_LOGIN, &account.username)?,
            attr(ATTR_NAME, &account.display_name)?,
        ];
        if let Some(u) = &account.unit {
            attrs.push(attr(ATTR_UNIT, u)?);
        }
        // No invitation message: the office hands the temporary password over itself.
        match self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(&account.id)
            .set_user_attributes(Some(attrs))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if matches!(
                    code(&e),
                    Some("UsernameExistsException" | "AliasExistsException")
                ) =>
            {
                return Err(StoreError::AlreadyExists)
            }
            Err(e) => return Err(backend(e)),
        }
        self.set_group(&account.id, account.role, true).await?;
        if account.disabled {
            self.client
                .admin_disable_user()
                .user_pool_id(&self.pool)
                .username(&account.id)
                .send()
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let user = self.id_by_login(username).await?;
        self.with_role(user).await
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        let user = self.user(id).await?;
        self.with_role(user).await
    }

    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let Some(old) = self.account_by_id(&account.id).await? else {
            return Err(StoreError::NotFound);
        };
        if old.username != account.username {
            if let Some(other) = self.id_by_login(&account.username).await? {
                if other.id != account.id {
                    return Err(StoreError::AlreadyExists);
                }
            }
        }
        let mut changed = Vec::new();
        if old.username != account.username {
            changed.push(attr(ATTR_LOGIN, &account.username)?);
        }
        if old.display_name != account.display_name {
            changed.push(attr(ATTR_NAME, &account.display_name)?);
        }
        if old.unit != account.unit {
            changed.push(attr(
                ATTR_UNIT,
                account.unit.as_deref().unwrap_or_default(),
            )?);
        }
        if !changed.is_empty() {
            self.client
                .admin_update_user_attributes()
                .user_pool_id(&self.pool)
                .username(&account.id)
                .set_user_attributes(Some(changed))
                .send()
                .await
                .map_err(backend)?;
        }
        if old.role != account.role {
            self.set_group(&account.id, account.role, true).await?;
            self.set_group(&account.id, old.role, false).await?;
        }
        match (old.disabled, account.disabled) {
            (false, true) => {
                self.client
                    .admin_disable_user()
                    .user_pool_id(&self.pool)
                    .username(&account.id)
                    .send()
                    .await
                    .map_err(backend)?;
                self.sign_out(&account.id).await?;
            }
            (true, false) => {
                self.client
                    .admin_enable_user()
                    .user_pool_id(&self.pool)
                    .username(&account.id)
                    .send()
                    .await
                    .map_err(backend)?;
            }
            _ => {}
        }
        // A changed role or unit takes effect at the next sign-in: end the open sessions.
        if !old.disabled
            && !account.disabled
            && (old.role != account.role || old.unit != account.unit)
        {
            self.sign_out(&account.id).await?;
        }
        Ok(())
    }

    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let mut out: Vec<StaffAccount> = Vec::new();
        for role in STAFF_ROLES {
            let mut token: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let page = self
                    .client
                    .list_users_in_group()
                    .user_pool_id(&self.pool)
                    .group_name(role.as_str())
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(backend)?;
                for u in page.users() {
                    let id = u.username().unwrap_or_default().to_string();
                    if out.iter().any(|a| a.id == id) {
                        continue;
                    }
                    out.push(
                        User {
                            id,
                            attrs: u.attributes().to_vec(),
                            enabled: u.enabled(),
                            created_at: created(u.user_create_date()),
                        }
                        .account(role),
                    );
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    fn identity_mfa(&self) -> Option<&dyn phananh_core::idp_mfa::IdentityMfa> {
        Some(self)
    }

    fn password_custody(&self) -> PasswordCustody {
        PasswordCustody::IdentityProvider
    }

    async fn set_temporary_password(&self, id: &str, password: &str) -> Result<(), StoreError> {
        match self
            .client
            .admin_set_user_password()
            .user_pool_id(&self.pool)
            .username(id)
            .password(password)
            .permanent(false)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if code(&e) == Some("UserNotFoundException") => {
                return Err(StoreError::NotFound)
            }
            Err(e) => return Err(backend(e)),
        }
        self.sign_out(id).await
    }
}

/// Creates a staff pool as `template.yaml`'s `UserPool` declares it (for emulator tests; the
/// template test checks the two agree): administrators create users, the login name is the
/// `preferred_username` alias, `unit` is a custom attribute, one group per staff role.
/// Returns the pool id.
pub async fn create_staff_pool(client: &Client, name: &str) -> Result<String, StoreError> {
    use aws_sdk_cognitoidentityprovider::types::{
        AdminCreateUserConfigType, AliasAttributeType, AttributeDataType, SchemaAttributeType,
        UsernameConfigurationType,
    };
    let pool = client
        .create_user_pool()
        .pool_name(name)
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(true)
                .build(),
        )
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::Optional)
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        )
        .schema(
            SchemaAttributeType::builder()
                .name(UNIT_SCHEMA_NAME)
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .map_err(backend)?;
    let id = pool
        .user_pool()
        .and_then(|p| p.id())
        .ok_or_else(|| StoreError::Backend("pool without id".into()))?
        .to_string();
    for role in STAFF_ROLES {
        client
            .create_group()
            .user_pool_id(&id)
            .group_name(role.as_str())
            .send()
            .await
            .map_err(backend)?;
    }
    Ok(id)
}
