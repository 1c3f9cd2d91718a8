//! `AccountStore` on the Cognito staff user pool: on AWS, staff sign in at Cognito, so the
//! accounts the office manages must be Cognito users, or a disabled officer could still sign in.
//!
//! Mapping (docs/aws.md, "Staff accounts"): Cognito username = the account id (`acc-…`, what
//! the ID token's `cognito:username` carries and the API takes as the actor's id);
//! `preferred_username` = the login name (an alias, unique in the pool); `name` = display
//! name; the one staff group = role; `custom:unit` = unit; `Enabled` = not disabled;
//! `UserCreateDate` = created at. Passwords stay with Cognito ([`PasswordCustody::IdentityProvider`]):
//! the office sets a temporary password, changed at the first sign-in.
//!
//! Calls: create = `AdminCreateUser` + `AdminAddUserToGroup`; read by id = `AdminGetUser` +
//! `AdminListGroupsForUser`; by login name = `ListUsers` (filter on `preferred_username`) +
//! `AdminListGroupsForUser`; save = one read, then only what changed
//! (`AdminUpdateUserAttributes`, group moves, `AdminDisableUser` + `AdminUserGlobalSignOut`,
//! `AdminEnableUser`); list = `ListUsersInGroup` per staff role; temporary password =
//! `AdminSetUserPassword` (`Permanent=false`) + `AdminUserGlobalSignOut`.

use phananh_core::model::Role;

/// Environment variable naming the staff pool (set by `template.yaml` on the staff and
/// console functions); when set, those functions keep accounts in Cognito.
pub const ENV_USER_POOL_ID: &str = "PHANANH_USER_POOL_ID";

pub const ATTR_LOGIN: &str = "preferred_username";
pub const ATTR_NAME: &str = "name";
pub const ATTR_UNIT: &str = "custom:unit";

/// Staff roles = the pool's groups (template.yaml declares one group per role).
pub const STAFF_ROLES: [Role; 6] = [
    Role::IocOperator,
    Role::IocHead,
    Role::UnitStaff,
    Role::UnitHead,
    Role::Leader,
    Role::OfficeAdmin,
];

/// The custom attribute's name in the pool schema (`custom:` is added by Cognito).
pub const UNIT_SCHEMA_NAME: &str = "unit";

#[cfg(feature = "cognito")]
mod accounts;
#[cfg(feature = "cognito")]
mod mfa;
#[cfg(feature = "cognito")]
pub use accounts::{create_staff_pool, CognitoAccounts};
