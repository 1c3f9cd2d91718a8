//! Report use cases: submit (citizen app or IOC camera), act (every command, retried on
//! version conflicts with every rule re-checked), list within the actor's scope, the public
//! feed, and the audited reveal of a reporter (Đ.4).

use super::{storage, App};
use crate::error::DomainError;
use crate::ids::IdempotencyKey;
use crate::lifecycle::{self, Command, NewReport, Transition};
use crate::model::*;
use crate::ports::*;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

/// How many times a use case retries after an optimistic-version conflict.
const MAX_CONFLICT_RETRIES: usize = 5;

/// The fingerprint of a submission: what makes a retry "the same request".
fn fingerprint(input: &NewReport, attachment_ids: &[String]) -> Result<String, DomainError> {
    let bytes = serde_json::to_vec(&(input, attachment_ids))
        .map_err(|e| DomainError::Storage(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl App {
    /// Submits a report (citizen app or IOC camera). The idempotency key is scoped to the actor:
    /// the same key with the same body returns the first report and `false`; the same key with
    /// another body is refused (`IdempotencyKeyReused`), never silently answered with the first.
    pub async fn submit(
        &self,
        actor: &Actor,
        mut input: NewReport,
        attachment_ids: &[String],
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<(Report, bool), DomainError> {
        let scoped_key = idempotency_key.map(|k| k.scoped(&actor.id));
        let print = match scoped_key {
            Some(_) => Some(fingerprint(&input, attachment_ids)?),
            None => None,
        };
        let resolved = self
            .resolve_uploads(actor, attachment_ids, &[], scoped_key.as_deref())
            .await?;
        input.attachments = resolved.attachments.clone();
        let id = ReportId(self.ids.new_id());
        let now = self.now();
        let mut t = lifecycle::submit(id, input, actor, now, &self.rules)?;
        t.report.request_fingerprint = print.clone();
        self.seal(&mut t.report);
        self.stamp_stats(None, &t.report, &mut t.events);
        self.stamp_notify(&t.report, &mut t.events)?;
        match self
            .store
            .create(&t.report, &t.events, scoped_key.as_deref())
            .await
            .map_err(storage)?
        {
            CreateOutcome::Created => {
                info!(report_id = %t.report.id, category = %t.report.category, "report submitted");
                self.mark_attached(&t.report.id, resolved, scoped_key.as_deref())
                    .await;
                self.count_inline(&t.report).await;
                self.publish_now(&t.events).await;
                Ok((t.report, true))
            }
            CreateOutcome::Existing(existing) => {
                let r = self.load(&existing).await?;
                if r.request_fingerprint != print {
                    warn!(report_id = %existing, "idempotency key reused with another body: refused");
                    return Err(DomainError::IdempotencyKeyReused);
                }
                info!(report_id = %existing, "idempotent resubmission");
                Ok((r, false))
            }
        }
    }

    /// Publishes freshly stored events and marks them published. Failures are logged and
    /// left to the outbox relay: nothing is lost, at worst delivered twice (consumers are
    /// idempotent).
    pub(super) async fn publish_now(&self, events: &[EventEnvelope]) {
        let Some(bus) = &self.publisher else { return };
        // A streamed store's change stream publishes the events (docs/aws.md, "Events").
        if self.store.event_delivery() == EventDelivery::Stream {
            return;
        }
        let Some(first) = events.first() else { return };
        let report_id = &first.report_id;
        if let Err(e) = bus.publish(events).await {
            warn!(report_id = %report_id, error = %e, "publish failed; left to the outbox relay");
            return;
        }
        let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        if let Err(e) = self.store.mark_published(&ids).await {
            warn!(report_id = %report_id, error = %e, "mark published failed; relay may resend");
        }
    }

    /// Applies a command, retrying on version conflicts (re-checking every rule each time).
    pub async fn act(
        &self,
        id: &ReportId,
        actor: &Actor,
        cmd: Command,
    ) -> Result<Report, DomainError> {
        self.act_at(id, actor, cmd, None).await
    }

    /// Applies a command decided on `seen_version` of the report (what the person was looking
    /// at): if someone else acted since, nothing is applied and the answer is
    /// [`DomainError::Stale`] with the current version, so they look again before deciding.
    /// Without a version, version conflicts are retried with every rule checked again.
    pub async fn act_at(
        &self,
        id: &ReportId,
        actor: &Actor,
        cmd: Command,
        seen_version: Option<u64>,
    ) -> Result<Report, DomainError> {
        self.act_from(id, actor, cmd, seen_version, None).await
    }

    /// Applies a command to `current`, the report as the caller just read it (one read per
    /// step: the classifier acts on the report it screened); a version conflict reads it
    /// again and re-checks every rule, as [`App::act`] does.
    pub async fn act_on(
        &self,
        current: Report,
        actor: &Actor,
        cmd: Command,
    ) -> Result<Report, DomainError> {
        let id = current.id.clone();
        self.act_from(&id, actor, cmd, None, Some(current)).await
    }

    /// [`App::act_at`], starting from `first` when the caller read the report already.
    async fn act_from(
        &self,
        id: &ReportId,
        actor: &Actor,
        cmd: Command,
        seen_version: Option<u64>,
        mut first: Option<Report>,
    ) -> Result<Report, DomainError> {
        for _ in 0..MAX_CONFLICT_RETRIES {
            let current = match first.take() {
                Some(r) if lifecycle::can_view(&r, actor) => r,
                Some(_) => return Err(DomainError::NotFound),
                None => self.get_for(id, actor).await?,
            };
            if let Some(seen) = seen_version.filter(|v| *v != current.version) {
                info!(report_id = %id, seen, current = current.version, "action on a stale version refused");
                return Err(DomainError::Stale {
                    current_version: current.version,
                    state: current.state,
                });
            }
            let now = self.now();
            let Transition {
                mut report,
                mut events,
            } = lifecycle::apply(&current, cmd.clone(), actor, now, &self.rules)?;
            // Đ.6.2: the new entry is sealed with the audit key before it is stored.
            self.seal(&mut report);
            self.stamp_stats(Some(&current), &report, &mut events);
            self.stamp_notify(&report, &mut events)?;
            match self.store.update(&report, current.version, &events).await {
                Ok(()) => {
                    info!(report_id = %id, action = cmd.action().as_str(), role = actor.role.as_str(), state = report.state.as_str(), "report updated");
                    self.count_inline(&report).await;
                    self.publish_now(&events).await;
                    return Ok(report);
                }
                Err(StoreError::Conflict) => {
                    warn!(report_id = %id, "version conflict, retrying");
                    continue;
                }
                Err(e) => return Err(storage(e)),
            }
        }
        Err(DomainError::Conflict)
    }

    /// Applies a command given as JSON from a client. Attachment fields (`attachments`,
    /// `evidence`) carry upload ids, resolved here against the media store; a client can never
    /// forge attachment metadata.
    pub async fn act_json(
        &self,
        id: &ReportId,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<Report, DomainError> {
        self.act_json_at(id, actor, body, None).await
    }

    /// [`App::act_json`] decided on `seen_version` (see [`App::act_at`]).
    pub async fn act_json_at(
        &self,
        id: &ReportId,
        actor: &Actor,
        mut body: serde_json::Value,
        seen_version: Option<u64>,
    ) -> Result<Report, DomainError> {
        let mut attached = Vec::new();
        // The report as read for the attachment counts, acted on without a second read.
        let mut read: Option<Report> = None;
        for field in ["attachments", "evidence"] {
            let Some(v) = body.get(field) else { continue };
            let ids: Vec<String> = serde_json::from_value(v.clone())
                .map_err(|_| DomainError::invalid(field, "phải là danh sách mã tệp đã tải lên"))?;
            if ids.is_empty() {
                continue;
            }
            // Per-kind counts include the files the report has already (issue 11).
            if read.is_none() {
                read = Some(self.get_for(id, actor).await?);
            }
            let existing = read
                .as_ref()
                .map(|r| r.attachments.clone())
                .unwrap_or_default();
            let resolved = self.resolve_uploads(actor, &ids, &existing, None).await?;
            let json = serde_json::to_value(&resolved.attachments)
                .map_err(|e| DomainError::Storage(e.to_string()))?;
            body[field] = json;
            attached.push(resolved);
        }
        let cmd: Command = serde_json::from_value(body).map_err(|e| command_error(&e))?;
        if matches!(cmd, Command::Screen { .. } | Command::Escalate) {
            return Err(DomainError::Forbidden {
                role: actor.role,
                action: cmd.action(),
            });
        }
        let report = self.act_from(id, actor, cmd, seen_version, read).await?;
        for resolved in attached {
            self.mark_attached(id, resolved, None).await;
        }
        Ok(report)
    }

    /// Lists reports the actor may see. Units are confined to their own unit, citizens to
    /// their own reports; the filter cannot widen that scope.
    pub async fn list(
        &self,
        actor: &Actor,
        mut q: ReportQuery,
    ) -> Result<Page<Report>, DomainError> {
        match actor.role {
            Role::Citizen => q.reporter = Some(actor.id.clone()),
            Role::UnitStaff | Role::UnitHead => {
                let own = actor
                    .unit
                    .clone()
                    .ok_or(DomainError::OutOfUnitScope { unit: None })?;
                if q.unit.as_deref().is_some_and(|u| u != own) {
                    return Err(DomainError::OutOfUnitScope {
                        unit: actor.unit.clone(),
                    });
                }
                q.unit = Some(own);
            }
            _ => {}
        }
        self.store.query(&q).await.map_err(storage)
    }

    /// The public feed (published, non-secret reports). Anyone.
    pub async fn public_feed(&self, mut q: ReportQuery) -> Result<Page<Report>, DomainError> {
        q.public_only = true;
        q.reporter = None;
        self.store.query(&q).await.map_err(storage)
    }

    /// Reveals the reporter's identity to an authorised role; the reveal is an audited
    /// timeline entry (Đ.4.2, Đ.4.4).
    pub async fn reveal_reporter(
        &self,
        id: &ReportId,
        actor: &Actor,
        reason: String,
    ) -> Result<Option<Reporter>, DomainError> {
        let r = self
            .act(id, actor, Command::RevealReporter { reason })
            .await?;
        info!(report_id = %id, actor = %actor.id, "reporter identity revealed (audited)");
        Ok(r.reporter)
    }
}

fn command_error(e: &serde_json::Error) -> DomainError {
    let msg = e.to_string();
    // serde messages name the missing/unknown field in backticks: use it as the field.
    let field = msg
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "action".to_string());
    DomainError::Invalid {
        field,
        message: format!("thao tác không hợp lệ ({msg})"),
    }
}
