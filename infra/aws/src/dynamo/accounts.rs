//! The `AccountStore` port: staff accounts, each with a username item so that login is one
//! read by name and a username is taken by at most one account.
//!
//! Why it exists: the account item and its username item must change together (one
//! transaction), including a rename that frees the old name. It must never hand out a
//! username another account holds, and never leave a renamed account's old username behind.

use super::codec::{account_from_item, account_items, s, Item};
use super::paging::read_pages;
use super::transact::{tx_delete, tx_item, IF_ABSENT, IF_PRESENT};
use super::DynamoReportStore;
use crate::table::{ItemKey, ACCOUNTS_PK};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use phananh_core::ports::{AccountStore, StaffAccount, StoreError};

/// The username item may be written (or deleted) by the account it belongs to, or when free.
const OWN_USERNAME: &str = "attribute_not_exists(pk) OR account_id = :id";

impl DynamoReportStore {
    /// Runs an account transaction: a failed condition means the account or username exists.
    async fn account_tx(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self.transact(|| "account write".to_string(), items).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::AlreadyExists),
        }
    }
}

#[async_trait]
impl AccountStore for DynamoReportStore {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let (acc, user) = account_items(account)?;
        let items = vec![
            self.tx_put(acc, Some(IF_ABSENT))?,
            self.tx_put(user, Some(IF_ABSENT))?,
        ];
        self.account_tx(items).await
    }

    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        self.get_as(ItemKey::username(username), account_from_item)
            .await
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        self.get_as(ItemKey::account(id), account_from_item).await
    }

    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let Some(old) = self.account_by_id(&account.id).await? else {
            return Err(StoreError::NotFound);
        };
        let (acc, user) = account_items(account)?;
        let ids = Item::from([(":id".to_string(), s(&account.id))]);
        let mut items = vec![
            self.tx_put(acc, Some(IF_PRESENT))?,
            tx_item(
                self.put(user)
                    .condition_expression(OWN_USERNAME)
                    .set_expression_attribute_values(Some(ids.clone())),
            )?,
        ];
        if old.username != account.username {
            items.push(tx_delete(
                self.delete(ItemKey::username(&old.username))
                    .condition_expression(OWN_USERNAME)
                    .set_expression_attribute_values(Some(ids)),
            )?);
        }
        self.account_tx(items).await
    }

    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(ACCOUNTS_PK));
        read_pages(query, None, |item| account_from_item(item).map(Some)).await
    }
}
