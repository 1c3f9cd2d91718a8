//! What runs on a schedule: deadline escalations (each threshold exactly once) and the outbox
//! relay that publishes events a crash left behind.

use super::{storage, App};
use crate::error::DomainError;
use crate::lifecycle::Command;
use crate::model::*;
use crate::ports::*;
use chrono::Duration as ChronoDuration;
use tracing::warn;

/// The relay leaves events this young to the writer that is publishing them right now.
pub const RELAY_MIN_AGE_SECS: i64 = 10;

impl App {
    /// Sends every escalation threshold due at `now` (exactly once each: the threshold is
    /// recorded on the report under its version check). Returns how many reports escalated.
    pub async fn run_escalations(&self, limit: usize) -> Result<usize, DomainError> {
        let now = self.now();
        let due = self
            .store
            .escalations_due(now, limit)
            .await
            .map_err(storage)?;
        let system = Actor::system();
        let mut n = 0;
        for r in due {
            match self.act(&r.id, &system, Command::Escalate).await {
                Ok(_) => n += 1,
                // Raced with another timer or a state change: nothing due any more.
                Err(DomainError::Invalid { .. }) | Err(DomainError::InvalidState { .. }) => {}
                Err(e) => warn!(report_id = %r.id, error = %e, "escalation failed"),
            }
        }
        Ok(n)
    }

    /// Publishes outbox events left pending (after a crash between write and publish).
    /// Events younger than [`RELAY_MIN_AGE_SECS`] are left to the writer's own publish.
    pub async fn relay_outbox(
        &self,
        bus: &dyn EventBus,
        limit: usize,
    ) -> Result<usize, DomainError> {
        if self.store.event_delivery() == EventDelivery::Stream {
            return Ok(0);
        }
        let cutoff = self.now() - ChronoDuration::seconds(RELAY_MIN_AGE_SECS);
        let pending: Vec<EventEnvelope> = self
            .store
            .pending_events(limit)
            .await
            .map_err(storage)?
            .into_iter()
            .filter(|e| e.at <= cutoff)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        bus.publish(&pending)
            .await
            .map_err(|e| DomainError::Storage(e.to_string()))?;
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        self.store.mark_published(&ids).await.map_err(storage)?;
        Ok(ids.len())
    }
}
