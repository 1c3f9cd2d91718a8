//! A reporter following their report by its tracking link, without an account
//! ([`crate::tracking`]): reading it, rating the result and reopening it. A token that is not
//! the report's, or a report without a citizen reporter, is NotFound, like a report that does
//! not exist, so a link reveals nothing about reports it does not open.

use super::App;
use crate::error::DomainError;
use crate::lifecycle::Command;
use crate::model::{Action, Report, ReportId};
use crate::tracking::{reporter_actor, TrackingKey};
use tracing::info;

impl App {
    /// The report behind a tracking link (NotFound for a wrong token).
    pub async fn tracked(
        &self,
        key: &TrackingKey,
        id: &ReportId,
        token: &str,
    ) -> Result<Report, DomainError> {
        if !key.verify(id, token) {
            return Err(DomainError::NotFound);
        }
        let r = self.load(id).await?;
        if reporter_actor(&r).is_none() {
            return Err(DomainError::NotFound);
        }
        Ok(r)
    }

    /// Rates or reopens a report as its reporter, the link standing for them. Every rule of
    /// the lifecycle still applies (who, from which state, once only for a rating); any other
    /// command is refused.
    pub async fn act_tracked(
        &self,
        key: &TrackingKey,
        id: &ReportId,
        token: &str,
        cmd: Command,
    ) -> Result<Report, DomainError> {
        let r = self.tracked(key, id, token).await?;
        let actor = reporter_actor(&r).ok_or(DomainError::NotFound)?;
        if !matches!(cmd, Command::Rate { .. } | Command::Reopen { .. }) {
            return Err(DomainError::Forbidden {
                role: actor.role,
                action: cmd.action(),
            });
        }
        let action: Action = cmd.action();
        let r = self.act(id, &actor, cmd).await?;
        info!(report_id = %id, action = action.as_str(), "reporter acted through the tracking link");
        Ok(r)
    }
}
