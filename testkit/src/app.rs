//! An [`App`] on the in-memory fakes, with the Lai Châu rules and a settable clock.

use crate::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use crate::fixtures::{rules, t0};
use phananh_core::app::{App, Ports};
use std::sync::Arc;

/// An app and handles on its fakes.
pub struct TestApp {
    pub app: App,
    pub store: Arc<MemoryStore>,
    pub media: Arc<MemoryMedia>,
    pub notifier: Arc<RecordingNotifier>,
    pub clock: Arc<FixedClock>,
    pub passwords: Arc<FastPasswords>,
}

impl TestApp {
    /// The Lai Châu rules, every port in memory, the clock at [`t0`].
    pub fn new() -> TestApp {
        TestApp::with_rules(rules().clone())
    }

    /// [`TestApp::new`] with other rules (a city value changed for a test).
    pub fn with_rules(rules: phananh_core::city::CityRules) -> TestApp {
        let store = Arc::new(MemoryStore::default());
        let media = Arc::new(MemoryMedia::default());
        let notifier = Arc::new(RecordingNotifier::default());
        let clock = Arc::new(FixedClock::new(t0()));
        let passwords = Arc::new(FastPasswords::default());
        let app = App::new(
            Arc::new(rules),
            Ports {
                store: store.clone(),
                accounts: store.clone(),
                media: media.clone(),
                notifier: notifier.clone(),
                clock: clock.clone(),
                ids: Arc::new(SeqIds::default()),
                passwords: passwords.clone(),
            },
        )
        .with_delivery_log(Some(notifier.clone()));
        TestApp {
            app,
            store,
            media,
            notifier,
            clock,
            passwords,
        }
    }
}

impl Default for TestApp {
    fn default() -> Self {
        TestApp::new()
    }
}
