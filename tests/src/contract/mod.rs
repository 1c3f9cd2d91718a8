//! Port contract suites: behaviour that the embedded AND the AWS adapters must show.
//!
//! Each suite is an async function taking the adapter (or a factory of fresh, empty ones) and
//! panicking with a message on the first broken rule. The per-case functions are public too,
//! so a runner can report them separately.

pub mod accounts;
pub mod aggregates;
pub mod audit;
pub mod bus;
pub mod deferral;
pub mod delivery_log;
pub mod event_pii;
pub mod guards;
pub mod media;
pub mod notifier;
pub mod pii;
pub mod races;
pub mod redelivery;
pub mod reports;
pub mod slots;

use std::future::Future;
use std::pin::Pin;

/// A boxed future, for the observation closures of the bus and notifier suites.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use accounts::account_store_contract;
pub use aggregates::aggregate_store_contract;
pub use audit::audit_trail_contract;
pub use bus::event_bus_contract;
pub use delivery_log::delivery_log_contract;
pub use event_pii::event_contact_sealed_contract;
pub use guards::{guard_store_contract, sign_in_guards_contract};
pub use media::media_store_contract;
pub use notifier::notifier_contract;
pub use pii::pii_at_rest_contract;
pub use races::two_staff_acting_at_once_one_wins_the_other_sees_the_current_version;
pub use redelivery::every_consumer_twice_and_shuffled_ends_as_one_in_order_delivery;
pub use reports::report_store_contract;
pub use slots::upload_slots_contract;
