//! `AccountStore` on the SQLite database: staff accounts as JSON documents keyed by id,
//! unique by username. Split from the report store, whose tables it does not touch.

use super::{is_unique_violation, to_json};
use crate::db::{backend, SqliteStore};
use async_trait::async_trait;
use phananh_core::ports::{AccountStore, StaffAccount, StoreError};
use rusqlite::{params, OptionalExtension};

fn parse_account(doc: &str) -> Result<StaffAccount, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(format!("corrupt account: {e}")))
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let a = account.clone();
        self.write(move |conn| {
            let doc = to_json(&a)?;
            match conn.execute(
                "INSERT INTO accounts (id, username, doc) VALUES (?1, ?2, ?3)",
                params![a.id, a.username, doc],
            ) {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let username = username.to_string();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM accounts WHERE username = ?1",
                    [username],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            doc.as_deref().map(parse_account).transpose()
        })
        .await
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        let id = id.to_string();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM accounts WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            doc.as_deref().map(parse_account).transpose()
        })
        .await
    }

    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let a = account.clone();
        self.write(move |conn| {
            let doc = to_json(&a)?;
            match conn.execute(
                "UPDATE accounts SET username = ?2, doc = ?3 WHERE id = ?1",
                params![a.id, a.username, doc],
            ) {
                Ok(0) => Err(StoreError::NotFound),
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        self.read(|conn| {
            let mut st = conn
                .prepare("SELECT doc FROM accounts ORDER BY username")
                .map_err(backend)?;
            let docs = st
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            docs.iter().map(|d| parse_account(d)).collect()
        })
        .await
    }
}
