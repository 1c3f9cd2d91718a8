//! Reporter personal data at rest (issue 12 item 5): the App's report store seals the
//! reporter's name, phone and e-mail on every write and opens them on every read
//! ([`crate::pii::SealingStore`]); what leaves is still decided by the views.

use super::App;
use crate::pii::{PiiCipher, SealingStore};
use std::sync::Arc;

impl App {
    /// Keeps the reporter's personal data sealed with `cipher` in the report store. Without
    /// it (tests, a runtime with no key) the store holds them as given. The reporter's
    /// contact that events carry for the notify and publish consumers is sealed with the
    /// same key (`app::notify_facts`).
    pub fn with_pii_cipher(mut self, cipher: Arc<dyn PiiCipher>) -> App {
        self.pii = Some(cipher.clone());
        self.store = Arc::new(SealingStore::new(self.store.clone(), cipher));
        self
    }
}
