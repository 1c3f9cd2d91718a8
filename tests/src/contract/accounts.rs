//! `AccountStore` contract.
//!
//! Two kinds of store pass it: those that keep password hashes (memory, SQLite, DynamoDB)
//! and identity providers that keep passwords themselves (the Cognito staff pool). For the
//! latter, a read account has an empty `password_hash` and the provider's own creation time,
//! and passwords are set only through `set_temporary_password`.

use crate::fixtures::*;
use phananh_core::model::Role;
use phananh_core::ports::{AccountStore, PasswordCustody, StaffAccount, StoreError};
use std::collections::BTreeSet;

/// What the store gives back of `want`: everything, except for an identity provider the
/// password hash (it keeps none) and the creation time (its own clock).
fn as_kept(store: &dyn AccountStore, got: &StaffAccount, want: &StaffAccount) -> StaffAccount {
    match store.password_custody() {
        PasswordCustody::Hashes => want.clone(),
        PasswordCustody::IdentityProvider => {
            assert!(
                got.password_hash.is_empty(),
                "an identity provider hands out no hash"
            );
            StaffAccount {
                password_hash: String::new(),
                created_at: got.created_at,
                ..want.clone()
            }
        }
    }
}

async fn assert_reads(store: &dyn AccountStore, want: &StaffAccount) {
    let by_id = store
        .account_by_id(&want.id)
        .await
        .expect("by id")
        .unwrap_or_else(|| panic!("{} readable by id", want.id));
    assert_eq!(by_id, as_kept(store, &by_id, want));
    let by_name = store
        .account_by_username(&want.username)
        .await
        .expect("by username")
        .unwrap_or_else(|| panic!("{} readable by username", want.username));
    assert_eq!(by_name, as_kept(store, &by_name, want));
}

/// Runs on an empty store (or one whose other accounts use other usernames).
pub async fn account_store_contract(store: &dyn AccountStore) {
    let op = account(&unique("acc"), &unique("ioc.op"), Role::IocOperator, None);
    let head = account(
        &unique("acc"),
        &unique("unit.head"),
        Role::UnitHead,
        Some("ubnd_tan_phong"),
    );
    store.create_account(&op).await.expect("create op");
    store.create_account(&head).await.expect("create head");

    assert_reads(store, &op).await;
    assert_reads(store, &head).await;
    assert_eq!(store.account_by_username(&unique("nobody")).await, Ok(None));
    assert_eq!(store.account_by_id(&unique("nobody")).await, Ok(None));

    // A taken username is refused, whatever the id.
    let clash = account(&unique("acc"), &op.username, Role::Leader, None);
    assert_eq!(
        store.create_account(&clash).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(store.account_by_id(&clash.id).await, Ok(None));
    assert_reads(store, &op).await;

    // Save replaces: disable, new unit, new role, new display name (and, for a store that
    // keeps hashes, a new password hash).
    let mut changed = head.clone();
    changed.disabled = true;
    if store.password_custody() == PasswordCustody::Hashes {
        changed.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into();
    }
    changed.unit = Some("ubnd_doan_ket".into());
    changed.role = Role::UnitStaff;
    changed.display_name = "Cán bộ đã chuyển".into();
    store.save_account(&changed).await.expect("save");
    assert_reads(store, &changed).await;

    // Enabled again.
    let mut enabled = changed.clone();
    enabled.disabled = false;
    store.save_account(&enabled).await.expect("enable");
    assert_reads(store, &enabled).await;

    // A rename to a taken username is refused and changes nothing.
    let mut rename = enabled.clone();
    rename.username = op.username.clone();
    assert_eq!(
        store.save_account(&rename).await,
        Err(StoreError::AlreadyExists)
    );
    assert_reads(store, &enabled).await;

    // Saving an account that was never created is not a silent insert.
    let ghost = account(&unique("acc"), &unique("ghost"), Role::UnitStaff, Some("x"));
    assert_eq!(store.save_account(&ghost).await, Err(StoreError::NotFound));
    assert_eq!(store.account_by_id(&ghost.id).await, Ok(None));

    let listed: BTreeSet<String> = store
        .list_accounts()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!(
        listed.contains(&op.id) && listed.contains(&head.id),
        "list holds both: {listed:?}"
    );
    assert!(!listed.contains(&clash.id) && !listed.contains(&ghost.id));
    let full = store.list_accounts().await.expect("list");
    let got = full.iter().find(|a| a.id == enabled.id).expect("listed");
    assert_eq!(
        *got,
        as_kept(store, got, &enabled),
        "list returns the saved state"
    );

    // Passwords: an identity provider takes temporary passwords for existing accounts only;
    // a store of hashes takes none (the application hashes and saves instead).
    match store.password_custody() {
        PasswordCustody::IdentityProvider => {
            store
                .set_temporary_password(&op.id, "Tam-thoi-2025")
                .await
                .expect("temporary password");
            assert_eq!(
                store
                    .set_temporary_password(&ghost.id, "Tam-thoi-2025")
                    .await,
                Err(StoreError::NotFound)
            );
            assert_reads(store, &op).await;
        }
        PasswordCustody::Hashes => assert!(store
            .set_temporary_password(&op.id, "Tam-thoi-2025")
            .await
            .is_err()),
    }
}
