//! `AccountStore` contract.

use crate::fixtures::*;
use phananh_core::model::Role;
use phananh_core::ports::{AccountStore, StoreError};
use std::collections::BTreeSet;

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

    assert_eq!(
        store.account_by_username(&op.username).await,
        Ok(Some(op.clone()))
    );
    assert_eq!(store.account_by_id(&head.id).await, Ok(Some(head.clone())));
    assert_eq!(store.account_by_username(&unique("nobody")).await, Ok(None));
    assert_eq!(store.account_by_id(&unique("nobody")).await, Ok(None));

    // A taken username is refused, whatever the id.
    let clash = account(&unique("acc"), &op.username, Role::Leader, None);
    assert_eq!(
        store.create_account(&clash).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(store.account_by_id(&clash.id).await, Ok(None));
    assert_eq!(
        store.account_by_username(&op.username).await,
        Ok(Some(op.clone()))
    );

    // Save replaces: disable, new password hash, new unit.
    let mut changed = head.clone();
    changed.disabled = true;
    changed.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into();
    changed.unit = Some("ubnd_doan_ket".into());
    store.save_account(&changed).await.expect("save");
    assert_eq!(
        store.account_by_id(&head.id).await,
        Ok(Some(changed.clone()))
    );
    assert_eq!(
        store.account_by_username(&head.username).await,
        Ok(Some(changed.clone()))
    );

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
    assert!(full.contains(&changed), "list returns the saved state");
}
