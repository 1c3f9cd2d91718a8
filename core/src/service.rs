//! Use cases: what the HTTP layer, the queue consumers and the timers call. Written once,
//! used by both runtimes (embedded and AWS), reaching the world only through ports.

use crate::error::DomainError;
use crate::lifecycle::{self, Command, NewReport, Transition};
use crate::model::*;
use crate::ports::*;
use crate::routing;
use crate::rules::Rules;
use crate::text;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// How many times a use case retries after an optimistic-version conflict.
const MAX_CONFLICT_RETRIES: usize = 5;

/// Consumer names: one queue each (SQS queue on AWS, delivery table on embedded).
pub mod consumers {
    pub const CLASSIFY: &str = "classify";
    pub const NOTIFY: &str = "notify";
    pub const PUBLISH: &str = "publish";

    /// Event kinds each consumer receives. The one source of truth: the embedded queues,
    /// the SNS filter policies (`infra/aws` topology) and `template.yaml` all follow it.
    pub const CLASSIFY_KINDS: &[&str] = &["report_submitted"];
    pub const NOTIFY_KINDS: &[&str] = &[
        "report_assigned",
        "leadership_informed",
        "referred_to_leadership",
        "directive_issued",
        "report_deferred",
        "report_returned",
        "unit_urged",
        "deadline_escalated",
        "report_resolved",
        "report_reopened",
    ];
    pub const PUBLISH_KINDS: &[&str] = &["report_published", "report_rejected"];

    pub fn kinds(consumer: &str) -> &'static [&'static str] {
        match consumer {
            CLASSIFY => CLASSIFY_KINDS,
            NOTIFY => NOTIFY_KINDS,
            PUBLISH => PUBLISH_KINDS,
            _ => &[],
        }
    }

    pub const ALL: [&str; 3] = [CLASSIFY, NOTIFY, PUBLISH];
}

/// Accepted upload types and size limits (the media pipeline validates magic bytes later).
pub const UPLOAD_TYPES: &[(&str, MediaKind, u64)] = &[
    ("image/jpeg", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/png", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/webp", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/heic", MediaKind::Photo, 15 * 1024 * 1024),
    ("audio/mpeg", MediaKind::Audio, 20 * 1024 * 1024),
    ("audio/mp4", MediaKind::Audio, 20 * 1024 * 1024),
    ("audio/aac", MediaKind::Audio, 20 * 1024 * 1024),
    ("video/mp4", MediaKind::Video, 100 * 1024 * 1024),
    ("video/quicktime", MediaKind::Video, 100 * 1024 * 1024),
    ("application/pdf", MediaKind::Document, 20 * 1024 * 1024),
];

/// The relay leaves events this young to the writer that is publishing them right now.
pub const RELAY_MIN_AGE_SECS: i64 = 10;

const UPLOAD_TTL: Duration = Duration::from_secs(15 * 60);
const DOWNLOAD_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadTicket {
    pub attachment_id: String,
    pub upload: PresignedUrl,
    pub max_size: u64,
}

/// Statistics for the office (Đ.9.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Stats {
    pub total: usize,
    pub by_state: std::collections::BTreeMap<String, usize>,
    pub by_category: std::collections::BTreeMap<String, usize>,
    pub by_unit: std::collections::BTreeMap<String, usize>,
    pub by_ward: std::collections::BTreeMap<String, usize>,
    pub resolved: usize,
    pub resolved_on_time: usize,
    /// resolved_on_time / resolved, None when nothing is resolved.
    pub on_time_rate: Option<f64>,
    /// Median minutes from assignment to resolution.
    pub median_minutes_to_resolve: Option<i64>,
    pub overdue: Vec<OverdueItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueItem {
    pub id: ReportId,
    pub category: String,
    pub lead_unit: String,
    pub due_at: DateTime<Utc>,
    pub minutes_late: i64,
}

/// The application: rules plus ports. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub rules: Arc<Rules>,
    pub store: Arc<dyn ReportStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub media: Arc<dyn MediaStore>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// Publishes a change's events right after it is stored (AWS: the SNS topic). When None
    /// (embedded) or when publishing fails, the events wait in the outbox for the relay.
    pub publisher: Option<Arc<dyn EventBus>>,
}

fn storage(e: StoreError) -> DomainError {
    match e {
        StoreError::Conflict => DomainError::Conflict,
        StoreError::NotFound => DomainError::NotFound,
        StoreError::BadCursor => DomainError::invalid("cursor", "con trỏ phân trang không hợp lệ"),
        other => DomainError::Storage(other.to_string()),
    }
}

fn media_err(e: MediaError) -> DomainError {
    DomainError::Storage(e.to_string())
}

impl App {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Submits a report (citizen app or IOC camera). The idempotency key is scoped to the actor:
    /// the same key twice returns the first report and `false`.
    pub async fn submit(
        &self,
        actor: &Actor,
        mut input: NewReport,
        attachment_ids: &[String],
        idempotency_key: Option<&str>,
    ) -> Result<(Report, bool), DomainError> {
        let scoped_key = idempotency_key.map(|k| format!("{}:{}", actor.id, k));
        if let Some(key) = &scoped_key {
            if key.len() > 300 {
                return Err(DomainError::invalid("Idempotency-Key", "dài quá 255 ký tự"));
            }
        }
        input.attachments = self.resolve_uploads(actor, attachment_ids).await?;
        let id = ReportId(self.ids.new_id());
        let now = self.now();
        let t = lifecycle::submit(id, input, actor, now, &self.rules)?;
        match self
            .store
            .create(&t.report, &t.events, scoped_key.as_deref())
            .await
            .map_err(storage)?
        {
            CreateOutcome::Created => {
                info!(report_id = %t.report.id, category = %t.report.category, "report submitted");
                self.publish_now(&t.events).await;
                Ok((t.report, true))
            }
            CreateOutcome::Existing(existing) => {
                info!(report_id = %existing, "idempotent resubmission");
                let r = self.store.get(&existing).await.map_err(storage)?;
                r.map(|r| (r, false)).ok_or(DomainError::NotFound)
            }
        }
    }

    /// Publishes freshly stored events and marks them published. Failures are logged and
    /// left to the outbox relay: nothing is lost, at worst delivered twice (consumers are
    /// idempotent).
    async fn publish_now(&self, events: &[EventEnvelope]) {
        let Some(bus) = &self.publisher else { return };
        if events.is_empty() {
            return;
        }
        let report_id = &events[0].report_id;
        if let Err(e) = bus.publish(events).await {
            warn!(report_id = %report_id, error = %e, "publish failed; left to the outbox relay");
            return;
        }
        let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        if let Err(e) = self.store.mark_published(&ids).await {
            warn!(report_id = %report_id, error = %e, "mark published failed; relay may resend");
        }
    }

    /// Loads a report, NotFound when there is none.
    pub async fn load(&self, id: &ReportId) -> Result<Report, DomainError> {
        self.store
            .get(id)
            .await
            .map_err(storage)?
            .ok_or(DomainError::NotFound)
    }

    /// Loads a report the actor may see (else NotFound, so existence does not leak).
    pub async fn get_for(&self, id: &ReportId, actor: &Actor) -> Result<Report, DomainError> {
        let r = self.load(id).await?;
        if lifecycle::can_view(&r, actor) {
            Ok(r)
        } else {
            Err(DomainError::NotFound)
        }
    }

    /// Applies a command, retrying on version conflicts (re-checking every rule each time).
    pub async fn act(
        &self,
        id: &ReportId,
        actor: &Actor,
        cmd: Command,
    ) -> Result<Report, DomainError> {
        for _ in 0..MAX_CONFLICT_RETRIES {
            let current = self.get_for(id, actor).await?;
            let now = self.now();
            let Transition { report, events } =
                lifecycle::apply(&current, cmd.clone(), actor, now, &self.rules)?;
            match self.store.update(&report, current.version, &events).await {
                Ok(()) => {
                    info!(report_id = %id, action = cmd.action().as_str(), role = actor.role.as_str(), state = report.state.as_str(), "report updated");
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
        mut body: serde_json::Value,
    ) -> Result<Report, DomainError> {
        for field in ["attachments", "evidence"] {
            let Some(v) = body.get(field) else { continue };
            let ids: Vec<String> = serde_json::from_value(v.clone())
                .map_err(|_| DomainError::invalid(field, "phải là danh sách mã tệp đã tải lên"))?;
            let resolved = self.resolve_uploads(actor, &ids).await?;
            let json =
                serde_json::to_value(resolved).map_err(|e| DomainError::Storage(e.to_string()))?;
            body[field] = json;
        }
        let cmd: Command = serde_json::from_value(body).map_err(|e| command_error(&e))?;
        if matches!(cmd, Command::Screen { .. } | Command::Escalate) {
            return Err(DomainError::Forbidden {
                role: actor.role,
                action: cmd.action(),
            });
        }
        self.act(id, actor, cmd).await
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
            Role::System => {}
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

    // ---------------------------------------------------------------- media

    fn upload_key(actor: &Actor, attachment_id: &str) -> String {
        let mut h = Sha256::new();
        h.update(actor.id.as_bytes());
        let owner = hex::encode(&h.finalize()[..8]);
        format!("uploads/{owner}/{attachment_id}")
    }

    /// A presigned upload for one file. The key is bound to the uploader, so nobody can attach
    /// someone else's upload.
    pub async fn request_upload(
        &self,
        actor: &Actor,
        content_type: &str,
        size: u64,
    ) -> Result<UploadTicket, DomainError> {
        let (_, _, max) = UPLOAD_TYPES
            .iter()
            .find(|(ct, _, _)| *ct == content_type)
            .ok_or_else(|| {
                DomainError::invalid("content_type", "định dạng tệp không được hỗ trợ")
            })?;
        if size == 0 || size > *max {
            return Err(DomainError::invalid(
                "size",
                format!("kích thước tệp phải từ 1 byte đến {} MB", max / 1024 / 1024),
            ));
        }
        let attachment_id = self.ids.new_id();
        let key = Self::upload_key(actor, &attachment_id);
        let upload = self
            .media
            .presign_put(&key, content_type, size, UPLOAD_TTL)
            .await
            .map_err(media_err)?;
        Ok(UploadTicket {
            attachment_id,
            upload,
            max_size: size,
        })
    }

    async fn resolve_uploads(
        &self,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<Attachment>, DomainError> {
        if ids.len() > lifecycle::MAX_ATTACHMENTS {
            return Err(DomainError::invalid(
                "attachments",
                format!("tối đa {} tệp đính kèm", lifecycle::MAX_ATTACHMENTS),
            ));
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if id.is_empty()
                || id.len() > 64
                || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(DomainError::invalid("attachments", "mã tệp không hợp lệ"));
            }
            let key = Self::upload_key(actor, id);
            let meta = self
                .media
                .head(&key)
                .await
                .map_err(media_err)?
                .ok_or_else(|| {
                    DomainError::invalid("attachments", format!("chưa tải lên tệp “{id}”"))
                })?;
            let ct = meta.content_type.unwrap_or_default();
            let (_, kind, max) =
                UPLOAD_TYPES
                    .iter()
                    .find(|(t, _, _)| *t == ct)
                    .ok_or_else(|| {
                        DomainError::invalid("attachments", "định dạng tệp không được hỗ trợ")
                    })?;
            if meta.size > *max {
                return Err(DomainError::invalid("attachments", "tệp quá lớn"));
            }
            // Đ.7.3: a file attached to a report is kept forever, so it leaves the upload area
            // (which expires) for a permanent key; its bytes must be what its type claims.
            let bytes = match self.media.read(&key, *max).await {
                Ok(b) => b,
                Err(MediaError::TooLarge) => {
                    return Err(DomainError::invalid("attachments", "tệp quá lớn"))
                }
                Err(e) => return Err(media_err(e)),
            };
            let genuine = crate::media::sniff(&bytes)
                .is_some_and(|found| crate::media::type_matches(&ct, found));
            if !genuine {
                return Err(DomainError::invalid(
                    "attachments",
                    format!("nội dung tệp “{id}” không đúng định dạng {ct}"),
                ));
            }
            let stored = key.replacen("uploads/", "media/", 1);
            self.media
                .write(&stored, &bytes, &ct)
                .await
                .map_err(media_err)?;
            out.push(Attachment {
                id: id.clone(),
                kind: *kind,
                content_type: ct,
                size: meta.size,
                key: stored,
                public_key: None,
                public: false,
            });
        }
        Ok(out)
    }

    /// Checks an object that has just been uploaded (S3 ObjectCreated, or the embedded media
    /// route): a key we did not issue or an unknown object is ignored; a wrong type or size is
    /// rejected. Logged either way, with the key.
    pub async fn check_upload(&self, key: &str) -> Result<crate::media::UploadCheck, DomainError> {
        use crate::media::{is_upload_key, sniff, type_matches, UploadCheck};
        if !is_upload_key(key) {
            warn!(key = %key, "object event for a key we did not issue: ignored");
            return Ok(UploadCheck::Ignored {
                reason: "foreign key".into(),
            });
        }
        let Some(meta) = self.media.head(key).await.map_err(media_err)? else {
            warn!(key = %key, "object event for an unknown object: ignored");
            return Ok(UploadCheck::Ignored {
                reason: "unknown object".into(),
            });
        };
        let declared = meta.content_type.unwrap_or_default();
        let Some((_, _, max)) = UPLOAD_TYPES.iter().find(|(t, _, _)| *t == declared) else {
            warn!(key = %key, content_type = %declared, "upload of a type we do not accept");
            return Ok(UploadCheck::Rejected {
                reason: "unsupported type".into(),
            });
        };
        if meta.size > *max {
            warn!(key = %key, size = meta.size, "upload too large");
            return Ok(UploadCheck::Rejected {
                reason: "too large".into(),
            });
        }
        let bytes = match self.media.read(key, *max).await {
            Ok(b) => b,
            Err(MediaError::NotFound) => {
                return Ok(UploadCheck::Ignored {
                    reason: "unknown object".into(),
                })
            }
            Err(MediaError::TooLarge) => {
                return Ok(UploadCheck::Rejected {
                    reason: "too large".into(),
                })
            }
            Err(e) => return Err(media_err(e)),
        };
        match sniff(&bytes) {
            Some(found) if type_matches(&declared, found) => {
                info!(key = %key, content_type = %declared, size = meta.size, "upload accepted");
                Ok(UploadCheck::Accepted {
                    content_type: declared,
                    size: meta.size,
                })
            }
            found => {
                warn!(key = %key, declared = %declared, found = ?found, "upload content does not match its type");
                Ok(UploadCheck::Rejected {
                    reason: "content does not match the declared type".into(),
                })
            }
        }
    }

    /// A short-lived download URL for an attachment the actor may see. Public callers
    /// (`actor` None) only get attachments approved for publication.
    pub async fn attachment_url(
        &self,
        id: &ReportId,
        attachment_id: &str,
        actor: Option<&Actor>,
    ) -> Result<PresignedUrl, DomainError> {
        let r = match actor {
            Some(a) => self.get_for(id, a).await?,
            None => {
                let r = self.load(id).await?;
                if !r.state_is_public() || r.flags.state_secret {
                    return Err(DomainError::NotFound);
                }
                r
            }
        };
        let a = r
            .attachments
            .iter()
            .find(|a| a.id == attachment_id && (actor.is_some() || a.public))
            .ok_or(DomainError::NotFound)?;
        let key = if actor.is_none() {
            a.public_key.clone().unwrap_or_else(|| a.key.clone())
        } else {
            a.key.clone()
        };
        self.media
            .presign_get(&key, DOWNLOAD_TTL)
            .await
            .map_err(media_err)
    }

    // ---------------------------------------------------------------- consumers

    /// Handles one event for one consumer. Idempotent: a redelivered event changes nothing
    /// a second time (state checks for classify, notification ids for notify/publish).
    pub async fn handle_event(
        &self,
        consumer: &str,
        env: &EventEnvelope,
    ) -> Result<(), DomainError> {
        if !consumers::kinds(consumer).contains(&env.kind()) {
            return Ok(());
        }
        match consumer {
            consumers::CLASSIFY => self.classify(&env.report_id).await,
            consumers::NOTIFY | consumers::PUBLISH => self.notify_for(env).await,
            _ => Ok(()),
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
        let recent = self
            .store
            .query(&ReportQuery {
                category: Some(r.category.clone()),
                created_from: Some(r.created_at - window),
                created_to: Some(r.created_at + ChronoDuration::seconds(1)),
                limit: 200,
                ..Default::default()
            })
            .await
            .map_err(storage)?;
        let dups = routing::duplicate_candidates(&self.rules.config, &r, &recent.items);
        let screened = match self
            .act(
                id,
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
                match self.act(id, &system, cmd).await {
                    Ok(_) | Err(DomainError::InvalidState { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Sends the SMS and e-mails an event calls for, to the concerned people only.
    async fn notify_for(&self, env: &EventEnvelope) -> Result<(), DomainError> {
        let Some(r) = self.store.get(&env.report_id).await.map_err(storage)? else {
            warn!(report_id = %env.report_id, "notify: unknown report, ignored");
            return Ok(());
        };
        for n in self.notifications_for(env, &r) {
            self.notifier
                .send(&n)
                .await
                .map_err(|e| DomainError::Storage(e.to_string()))?;
            info!(report_id = %r.id, channel = ?n.channel, unit = ?n.unit, "notification sent");
        }
        Ok(())
    }

    /// The notifications an event produces (pure; ids are stable so resends are deduplicated).
    pub fn notifications_for(&self, env: &EventEnvelope, r: &Report) -> Vec<Notification> {
        let cfg = &self.rules.config;
        let due = r
            .due_at()
            .map(|d| self.rules.format_local(d))
            .unwrap_or_default();
        let category = cfg
            .category(&r.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| r.category.clone());
        let id = r.id.to_string();
        let short_id: String = id
            .chars()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let vars = [
            ("report_id", short_id.as_str()),
            ("category", category.as_str()),
            ("due", due.as_str()),
            ("title", r.title.as_str()),
        ];
        // (message key prefix, unit, to the unit head's contacts)
        let mut targets: Vec<(&str, String, bool)> = Vec::new();
        let city = &cfg.city;
        let lead = r.lead_unit().unwrap_or_default().to_string();
        match &env.event {
            DomainEvent::ReportAssigned {
                lead_unit,
                coordinating_units,
                ..
            } => {
                targets.push(("notify.assigned", lead_unit.clone(), false));
                for u in coordinating_units {
                    targets.push(("notify.assigned", u.clone(), false));
                }
            }
            DomainEvent::LeadershipInformed => targets.push((
                "notify.leadership_informed",
                city.leadership_unit.clone(),
                false,
            )),
            DomainEvent::ReferredToLeadership => {
                targets.push(("notify.referred", city.leadership_unit.clone(), false))
            }
            DomainEvent::DirectiveIssued { .. } => {
                targets.push(("notify.directive", city.ioc_unit.clone(), false));
                if !lead.is_empty() {
                    targets.push(("notify.directive", lead.clone(), false));
                }
            }
            DomainEvent::ReportDeferred { .. } => {
                // Đ.7.5: reported to the city (leadership and the office that follows units).
                targets.push(("notify.deferred", city.leadership_unit.clone(), false));
                targets.push(("notify.deferred", city.office_unit.clone(), false));
            }
            DomainEvent::ReportReturned { .. } => {
                targets.push(("notify.returned", city.office_unit.clone(), false))
            }
            DomainEvent::UnitUrged { unit } => {
                targets.push(("notify.urged", unit.clone(), false));
            }
            DomainEvent::DeadlineEscalated { level, unit, .. } => match level {
                EscalationLevel::UnitHead => {
                    targets.push(("notify.escalation.unit_head", unit.clone(), true))
                }
                EscalationLevel::Ioc => {
                    targets.push(("notify.escalation.ioc", city.ioc_unit.clone(), false))
                }
                EscalationLevel::Leadership => targets.push((
                    "notify.escalation.leadership",
                    city.leadership_unit.clone(),
                    false,
                )),
            },
            // Đ.8.1: the IOC publishes once the unit has its result; a reopened case is triaged again.
            DomainEvent::ReportResolved { .. } => {
                targets.push(("notify.resolved", city.ioc_unit.clone(), false))
            }
            DomainEvent::ReportReopened => {
                targets.push(("notify.reopened", city.ioc_unit.clone(), false))
            }
            DomainEvent::ReportPublished => {
                return self.reporter_notifications(env, r, "notify.published.reporter", &vars);
            }
            DomainEvent::ReportRejected => {
                return self.reporter_notifications(env, r, "notify.rejected.reporter", &vars);
            }
            _ => {}
        }
        let mut out = Vec::new();
        for (prefix, unit_id, head) in targets {
            let Some(unit) = cfg.unit(&unit_id) else {
                continue;
            };
            let (sms, email) = if head && !unit.contacts.head_sms.is_empty() {
                (&unit.contacts.head_sms, &unit.contacts.head_email)
            } else {
                (&unit.contacts.sms, &unit.contacts.email)
            };
            let sms_text = self.sms_text(&cfg.messages.render(&format!("{prefix}.sms"), &vars));
            let subject = cfg
                .messages
                .render(&format!("{prefix}.email_subject"), &vars);
            let body = cfg.messages.render(&format!("{prefix}.email_body"), &vars);
            for to in sms {
                out.push(Notification {
                    id: format!("{}:sms:{}", env.id, to),
                    channel: Channel::Sms,
                    to: to.clone(),
                    unit: Some(unit_id.clone()),
                    subject: None,
                    body: sms_text.clone(),
                    report_id: Some(r.id.clone()),
                });
            }
            for to in email {
                out.push(Notification {
                    id: format!("{}:email:{}", env.id, to),
                    channel: Channel::Email,
                    to: to.clone(),
                    unit: Some(unit_id.clone()),
                    subject: Some(subject.clone()),
                    body: body.clone(),
                    report_id: Some(r.id.clone()),
                });
            }
        }
        out
    }

    fn reporter_notifications(
        &self,
        env: &EventEnvelope,
        r: &Report,
        prefix: &str,
        vars: &[(&str, &str)],
    ) -> Vec<Notification> {
        let cfg = &self.rules.config;
        let Some(rep) = &r.reporter else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(phone) = &rep.phone {
            out.push(Notification {
                id: format!("{}:sms:reporter", env.id),
                channel: Channel::Sms,
                to: phone.clone(),
                unit: None,
                subject: None,
                body: self.sms_text(&cfg.messages.render(&format!("{prefix}.sms"), vars)),
                report_id: Some(r.id.clone()),
            });
        }
        if let Some(email) = &rep.email {
            out.push(Notification {
                id: format!("{}:email:reporter", env.id),
                channel: Channel::Email,
                to: email.clone(),
                unit: None,
                subject: Some(
                    cfg.messages
                        .render("notify.published.reporter.email_subject", vars),
                ),
                body: cfg
                    .messages
                    .render("notify.published.reporter.email_body", vars),
                report_id: Some(r.id.clone()),
            });
        }
        out
    }

    /// SMS without diacritics (GSM-7) unless the city configured otherwise.
    fn sms_text(&self, s: &str) -> String {
        if self.rules.config.city.sms_diacritics {
            s.to_string()
        } else {
            text::strip_diacritics(s)
        }
    }

    // ---------------------------------------------------------------- timers

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

    // ---------------------------------------------------------------- statistics

    /// Đ.9.2: statistics and exports are for the office, leadership and the IOC.
    pub fn check_stats_access(actor: &Actor) -> Result<(), DomainError> {
        if lifecycle::allowed_roles(Action::ViewStats).contains(&actor.role) {
            Ok(())
        } else {
            Err(DomainError::Forbidden {
                role: actor.role,
                action: Action::ViewStats,
            })
        }
    }

    /// Statistics over reports created in [from, to) (Đ.9.2). Bounded to `max` reports.
    pub async fn stats(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<Stats, DomainError> {
        Self::check_stats_access(actor)?;
        let reports = self.collect(from, to, max).await?;
        Ok(compute_stats(&reports, self.now()))
    }

    /// All reports created in [from, to), newest first, at most `max` (paged through the store).
    pub async fn collect(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<Vec<Report>, DomainError> {
        let mut out = Vec::new();
        let mut cursor = None;
        // Bounded: at most max / 200 + 1 pages.
        for _ in 0..=(max / 200 + 1) {
            let page = self
                .store
                .query(&ReportQuery {
                    created_from: from,
                    created_to: to,
                    cursor: cursor.take(),
                    limit: 200,
                    ..Default::default()
                })
                .await
                .map_err(storage)?;
            out.extend(page.items);
            if out.len() >= max {
                out.truncate(max);
                break;
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Counts by category, unit, ward and state; on-time rate; median time to resolve; overdue list.
pub fn compute_stats(reports: &[Report], now: DateTime<Utc>) -> Stats {
    let mut s = Stats {
        total: reports.len(),
        ..Default::default()
    };
    let mut durations = Vec::new();
    for r in reports {
        *s.by_state.entry(r.state.as_str().to_string()).or_default() += 1;
        *s.by_category.entry(r.category.clone()).or_default() += 1;
        if let Some(u) = r.lead_unit() {
            *s.by_unit.entry(u.to_string()).or_default() += 1;
        }
        *s.by_ward
            .entry(r.ward.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
        if let (Some(res), Some(a)) = (&r.resolution, &r.assignment) {
            s.resolved += 1;
            if res.on_time {
                s.resolved_on_time += 1;
            }
            durations.push((res.resolved_at - a.assigned_at).num_minutes());
        }
        if r.is_overdue(now) {
            if let Some(a) = &r.assignment {
                s.overdue.push(OverdueItem {
                    id: r.id.clone(),
                    category: r.category.clone(),
                    lead_unit: a.lead_unit.clone(),
                    due_at: a.due_at,
                    minutes_late: (now - a.due_at).num_minutes(),
                });
            }
        }
    }
    s.on_time_rate = (s.resolved > 0).then(|| s.resolved_on_time as f64 / s.resolved as f64);
    durations.sort_unstable();
    s.median_minutes_to_resolve = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2),
    };
    s.overdue.sort_by_key(|o| std::cmp::Reverse(o.minutes_late));
    s
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
