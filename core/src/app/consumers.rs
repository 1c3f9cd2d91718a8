//! The queue consumers: which events each one receives and what it does with them. The one
//! source of truth for routing events: the embedded queues, the SNS filter policies
//! (`infra/aws` topology) and the `template.yaml` checks all read [`Consumer::kinds`].
//!
//! Every consumer is idempotent (at-least-once delivery): a redelivered event changes nothing
//! a second time (state checks for classify, notification ids for notify and publish).

use super::{storage, App};
use crate::error::DomainError;
use crate::lifecycle::{self, Command};
pub use crate::model::EventKind;
use crate::model::*;
use crate::routing;
use chrono::Duration as ChronoDuration;
use tracing::{info, warn};

/// A consumer: one queue each (an SQS queue on AWS, a delivery table embedded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consumer {
    /// Screening and routing of new reports (Đ.6.3, Đ.3.1.c, Đ.7.2).
    Classify,
    /// SMS and e-mail to the units, the IOC and leadership.
    Notify,
    /// The reporter told of a published answer or a rejection (Đ.8.1).
    Publish,
    /// The statistics' aggregate rows (Đ.9.2): the report counted again as it is now.
    Stats,
}

impl Consumer {
    pub const ALL: [Consumer; 4] = [
        Consumer::Classify,
        Consumer::Notify,
        Consumer::Publish,
        Consumer::Stats,
    ];

    /// The queue name.
    pub fn as_str(self) -> &'static str {
        match self {
            Consumer::Classify => "classify",
            Consumer::Notify => "notify",
            Consumer::Publish => "publish",
            Consumer::Stats => "stats",
        }
    }

    pub fn parse(s: &str) -> Option<Consumer> {
        Consumer::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The event kinds this consumer receives.
    pub fn kinds(self) -> &'static [EventKind] {
        use EventKind::*;
        match self {
            Consumer::Classify => &[ReportSubmitted],
            Consumer::Notify => &[
                // Issue 13: the reporter is told the report was received.
                ReportSubmitted,
                ReportAssigned,
                LeadershipInformed,
                ReferredToLeadership,
                DirectiveIssued,
                ReportDeferred,
                // Đ.7.5: the unit, the office and (accepted) the reporter hear the decision.
                DeferralDecided,
                ReportReturned,
                UnitUrged,
                DeadlineEscalated,
                ReportResolved,
                ReportReopened,
                // Issue 12 item 6 (Đ.8.2): a flag for the IOC head or a leader to decide.
                SecretFlagged,
            ],
            Consumer::Publish => &[ReportPublished, ReportRejected],
            // Only the events that can change a figure (received, unit, category, open,
            // resolved, on time, handling time); the others leave every row as it is.
            Consumer::Stats => &[
                ReportSubmitted,
                // Screening sets the ward (a row of the figures): counted again after it,
                // whichever consumer ran first on the submission.
                ReportScreened,
                ReportAssigned,
                ReportResolved,
                ReportReclassified,
                ReportRejected,
                ReportClosed,
                ReportReopened,
            ],
        }
    }

    /// The event kinds' stable names (SNS filter policies, embedded subscriptions).
    pub fn kind_names(self) -> Vec<&'static str> {
        self.kinds().iter().map(|k| k.as_str()).collect()
    }
}

impl std::fmt::Display for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl App {
    /// Handles one event for one consumer; events the consumer does not receive are ignored.
    pub async fn handle_event(
        &self,
        consumer: Consumer,
        env: &EventEnvelope,
    ) -> Result<(), DomainError> {
        if !consumer.kinds().contains(&env.event.event_kind()) {
            return Ok(());
        }
        match consumer {
            Consumer::Classify => self.classify(&env.report_id).await,
            Consumer::Notify | Consumer::Publish => self.notify_for(env).await,
            Consumer::Stats => self.count_from_event(env).await,
        }
    }

    /// Screening and routing of a submitted report (auto-assign only where config allows).
    pub async fn classify(&self, id: &ReportId) -> Result<(), DomainError> {
        let system = Actor::system();
        let Some(r) = self.store.get(id).await.map_err(storage)? else {
            warn!(report_id = %id, "classify: unknown report, ignored");
            return Ok(());
        };
        if r.state != State::Submitted {
            info!(report_id = %id, state = r.state.as_str(), "classify: already screened");
            return Ok(());
        }
        let window =
            ChronoDuration::hours(i64::from(self.rules.config.city.duplicate_window_hours));
        // Points only (no text, no history), near the report only: this runs for every
        // submission. An unlocated report has no duplicates (`duplicate_candidates`): no read.
        let recent = match r.location.filter(|p| p.is_valid()) {
            Some(center) => self
                .store
                .recent_points_near(
                    &r.category,
                    center,
                    self.rules.config.city.duplicate_radius_m,
                    r.created_at - window,
                    r.created_at + ChronoDuration::seconds(1),
                    200,
                )
                .await
                .map_err(storage)?,
            None => Vec::new(),
        };
        let dups = routing::duplicate_candidates(&self.rules.config, &r, &recent);
        // One read per step: the screening acts on the report read above.
        let screened = match self
            .act_on(
                r,
                &system,
                Command::Screen {
                    possible_duplicates: dups,
                },
            )
            .await
        {
            Ok(r) => r,
            Err(DomainError::InvalidState { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(route) = lifecycle::auto_assign_target(&screened, &self.rules) {
            if let Some(lead) = route.lead_unit {
                let cmd = Command::Assign {
                    lead_unit: lead,
                    coordinating_units: route.coordinating_units,
                    note: Some(route.reason),
                };
                match self.act_on(screened, &system, cmd).await {
                    Ok(_) | Err(DomainError::InvalidState { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Sends the SMS and e-mails an event calls for, to the concerned people only. Each
    /// recipient is sent independently: one failure does not keep the others from being told.
    /// When any send failed the event is retried; those already sent are deduplicated by id.
    async fn notify_for(&self, env: &EventEnvelope) -> Result<(), DomainError> {
        // Issue 10: from what the event carries, without reading the report.
        let Some(all) = self.notifications_of(env).await? else {
            warn!(report_id = %env.report_id, "notify: unknown report, ignored");
            return Ok(());
        };
        let r = &env.report_id;
        let mut failed = Vec::new();
        let results = self.notifier.send_all(&all).await;
        for (n, res) in all.into_iter().zip(results) {
            match res {
                Ok(()) => {
                    info!(report_id = %r, notification_id = %n.id, channel = ?n.channel, unit = ?n.unit, "notification sent")
                }
                Err(e) => {
                    warn!(report_id = %r, notification_id = %n.id, channel = ?n.channel, unit = ?n.unit, error = %e, "notification failed; the other recipients are still told");
                    failed.push(n.id);
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Storage(format!(
                "{} notification(s) failed: {}",
                failed.len(),
                failed.join(", ")
            )))
        }
    }
}
