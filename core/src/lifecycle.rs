//! The lifecycle of a report: every action of DOMAIN.md as a pure function that checks the
//! actor's role, the actor's unit scope and the report's state, and returns the new report plus
//! the domain events to emit — or a typed error. No action skips a rule of the regulation.
//!
//! Order of checks (so errors are predictable): role → ownership/unit scope → state → input.

use crate::config::Routing;
use crate::error::DomainError;
use crate::model::*;
use crate::rules::{DeadlineRule, Rules};
use crate::{routing, screening};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Maximum lengths of free text (characters).
pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5000;
pub const MAX_NOTE: usize = 5000;
pub const MAX_ATTACHMENTS: usize = 20;

/// What a citizen (or an IOC operator from a camera, Đ.7.1) submits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub category: CategoryCode,
    pub title: String,
    pub description: String,
    pub location: Option<GeoPoint>,
    pub address: Option<String>,
    pub reporter_ward: Option<WardId>,
    pub attachments: Vec<Attachment>,
    /// Reporter's personal data (citizens only).
    pub reporter: Option<Reporter>,
    /// Camera id (IOC operators only, Đ.7.1).
    pub camera_id: Option<String>,
}

/// Every action on an existing report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Automatic screening (system): abusive language, category suggestion, ward, duplicates.
    Screen {
        #[serde(default)]
        possible_duplicates: Vec<ReportId>,
    },
    /// Đ.7.2: the IOC head classifies and assigns to the competent unit (lead + coordinating).
    Assign {
        lead_unit: UnitId,
        #[serde(default)]
        coordinating_units: Vec<UnitId>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.7.2: complex or multi-unit case referred to leadership for direction.
    Refer { note: String },
    /// Đ.6.2: a leader's directive, with the force of a paper document.
    Directive { text: String },
    /// The lead unit takes the case in hand.
    Accept {
        #[serde(default)]
        note: Option<String>,
    },
    /// Progress note with optional evidence; lead or coordinating unit (Đ.7.3, Đ.7.4 phối hợp).
    Progress {
        note: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Internal note by staff who can see the report; never shown to the reporter.
    AddNote {
        note: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Đ.7.3: the lead unit's result, with records and photos.
    Resolve {
        summary: String,
        evidence: Vec<Attachment>,
    },
    /// Đ.7.5: cannot be solved yet — reason and expected date, reported to the city.
    Defer {
        reason: String,
        expected_date: NaiveDate,
    },
    /// Back to handling after a deferral.
    Resume {
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.9.2: the unit says it is the wrong unit or category.
    Return {
        reason: String,
        #[serde(default)]
        suggested_category: Option<CategoryCode>,
    },
    /// Đ.9.2 (office) / Đ.7.2 (IOC head): change the category.
    Reclassify {
        category: CategoryCode,
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.9.2: the office reassigns (also routes "other", Đ.7.4.k).
    Reassign {
        lead_unit: UnitId,
        #[serde(default)]
        coordinating_units: Vec<UnitId>,
        note: String,
    },
    /// Đ.9.2: the office urges (đôn đốc) the unit.
    Urge { note: String },
    /// Đ.8.1: the IOC approves and publishes the public answer.
    Publish {
        public_answer: String,
        /// Attachment ids allowed in public output.
        #[serde(default)]
        public_attachments: Vec<String>,
    },
    /// Đ.8.2: the report touches state secrets.
    MarkSecret { note: String },
    /// Out of scope or abusive; the reason is shown to the citizen.
    Reject { reason: String },
    /// End of the case after publication.
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    /// The reporter says it is not actually fixed.
    Reopen { reason: String },
    /// The reporter rates the published result.
    Rate {
        stars: u8,
        #[serde(default)]
        comment: Option<String>,
    },
    /// System: deadline thresholds reached at `now`.
    Escalate,
    /// Đ.4: an authorised staff member reads the reporter's identity; audited.
    RevealReporter { reason: String },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Screen { .. } => Action::Screen,
            Command::Assign { .. } => Action::Assign,
            Command::Refer { .. } => Action::Refer,
            Command::Directive { .. } => Action::Directive,
            Command::Accept { .. } => Action::Accept,
            Command::Progress { .. } => Action::Progress,
            Command::AddNote { .. } => Action::AddNote,
            Command::Resolve { .. } => Action::Resolve,
            Command::Defer { .. } => Action::Defer,
            Command::Resume { .. } => Action::Resume,
            Command::Return { .. } => Action::Return,
            Command::Reclassify { .. } => Action::Reclassify,
            Command::Reassign { .. } => Action::Reassign,
            Command::Urge { .. } => Action::Urge,
            Command::Publish { .. } => Action::Publish,
            Command::MarkSecret { .. } => Action::MarkSecret,
            Command::Reject { .. } => Action::Reject,
            Command::Close { .. } => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
            Command::Rate { .. } => Action::Rate,
            Command::Escalate => Action::Escalate,
            Command::RevealReporter { .. } => Action::RevealReporter,
        }
    }
}

/// The new report and the events to emit with it (stored atomically by the report store).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub report: Report,
    pub events: Vec<EventEnvelope>,
}

use Role::*;
use State::*;

/// Roles allowed to perform each action (Đ.4, Đ.7, Đ.8, Đ.9; DOMAIN.md "Actors and roles").
pub fn allowed_roles(action: Action) -> &'static [Role] {
    match action {
        Action::Submit => &[Citizen],
        Action::CreateFromCamera => &[IocOperator, IocHead], // Đ.7.1
        Action::Screen | Action::Escalate => &[System],
        Action::Assign => &[IocHead, System], // Đ.7.2 (System: auto-assign where config allows)
        Action::InformLeadership => &[System],
        Action::Refer => &[IocHead],    // Đ.7.2
        Action::Directive => &[Leader], // Đ.6.2
        Action::Accept | Action::Resolve | Action::Defer | Action::Resume | Action::Return => {
            &[UnitStaff, UnitHead] // Đ.7.3, Đ.7.5, Đ.9.2
        }
        Action::Progress => &[UnitStaff, UnitHead],
        Action::AddNote => &[
            IocOperator,
            IocHead,
            UnitStaff,
            UnitHead,
            Leader,
            OfficeAdmin,
        ],
        Action::Reclassify => &[OfficeAdmin, IocHead], // Đ.9.2, Đ.7.2
        Action::Reassign => &[OfficeAdmin],            // Đ.9.2, Đ.7.4.k
        Action::Urge => &[OfficeAdmin],                // Đ.9.2
        Action::Publish => &[IocHead, Leader],         // Đ.8.1 (Leader: Đ.8.2 secrets)
        Action::MarkSecret => &[IocHead, Leader],      // Đ.8.2
        Action::Reject => &[IocOperator, IocHead],
        Action::Close => &[IocHead, System],
        Action::Reopen | Action::Rate => &[Citizen],
        Action::RevealReporter => &[IocHead, Leader], // Đ.4.4: only roles that need it
        Action::ViewStats => &[OfficeAdmin, Leader, IocHead, IocOperator], // Đ.9.2
    }
}

/// States from which each action may be taken.
pub fn allowed_states(action: Action) -> &'static [State] {
    match action {
        Action::Submit | Action::CreateFromCamera => &[],
        Action::Screen => &[Submitted],
        // Đ.7.2: IOC head assigns after screening, after leadership direction, or a reopened case.
        Action::Assign => &[Screened, Referred],
        Action::InformLeadership => &[],
        Action::Refer => &[Screened],
        Action::Directive => &[
            Submitted, Screened, Assigned, InProgress, Resolved, Referred, Deferred, Returned,
        ],
        Action::Accept => &[Assigned],
        Action::Progress => &[Assigned, InProgress],
        Action::AddNote => &[
            Submitted, Screened, Assigned, InProgress, Resolved, Referred, Deferred, Returned,
            Published,
        ],
        Action::Resolve => &[Assigned, InProgress, Deferred],
        Action::Defer => &[Assigned, InProgress],
        Action::Resume => &[Deferred],
        Action::Return => &[Assigned, InProgress],
        Action::Reclassify => &[Screened, Returned, Referred],
        // Đ.9.2: wrong unit → reassign; Đ.7.4.k: the office routes "other" from triage.
        Action::Reassign => &[Screened, Returned, Assigned, InProgress, Deferred],
        Action::Urge => &[Assigned, InProgress, Deferred],
        Action::Publish => &[Resolved],
        Action::MarkSecret => &[
            Submitted, Screened, Assigned, InProgress, Resolved, Referred, Deferred, Returned,
        ],
        Action::Reject => &[Submitted, Screened, Referred],
        Action::Close => &[Published],
        Action::Reopen => &[Published],
        Action::Rate => &[Published, Closed],
        Action::Escalate => &[Assigned, InProgress],
        Action::RevealReporter | Action::ViewStats => &State::ALL,
    }
}

/// Whether `actor` may see `report` at all.
/// Citizens see their own; unit roles only reports assigned to their unit (lead or
/// coordinating); IOC, office and leadership see everything.
pub fn can_view(report: &Report, actor: &Actor) -> bool {
    match actor.role {
        Citizen => report.reporter_id() == Some(actor.id.as_str()),
        UnitStaff | UnitHead => in_unit_scope(report, actor),
        IocOperator | IocHead | Leader | OfficeAdmin | System => true,
    }
}

fn in_unit_scope(report: &Report, actor: &Actor) -> bool {
    match (&report.assignment, actor.unit.as_deref()) {
        (Some(a), Some(u)) => a.involves(u),
        _ => false,
    }
}

fn is_lead(report: &Report, actor: &Actor) -> bool {
    matches!((&report.assignment, actor.unit.as_deref()), (Some(a), Some(u)) if a.lead_unit == u)
}

/// Role, ownership and unit-scope check for `action` on `report` by `actor`.
pub fn authorize(report: &Report, action: Action, actor: &Actor) -> Result<(), DomainError> {
    if !allowed_roles(action).contains(&actor.role) {
        return Err(DomainError::Forbidden {
            role: actor.role,
            action,
        });
    }
    match actor.role {
        Citizen if report.reporter_id() != Some(actor.id.as_str()) => {
            return Err(DomainError::NotOwner);
        }
        UnitStaff | UnitHead => {
            // Only the lead unit handles; coordinating units add progress notes (Đ.7.4).
            let ok = match action {
                Action::Progress | Action::AddNote => in_unit_scope(report, actor),
                _ => is_lead(report, actor),
            };
            if !ok {
                return Err(DomainError::OutOfUnitScope {
                    unit: actor.unit.clone(),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_state(report: &Report, action: Action) -> Result<(), DomainError> {
    if allowed_states(action).contains(&report.state) {
        Ok(())
    } else {
        Err(DomainError::InvalidState {
            state: report.state,
            action,
        })
    }
}

fn required_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "không được để trống"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(field, format!("dài quá {max} ký tự")));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(field, "chứa ký tự điều khiển"));
    }
    Ok(v.to_string())
}

fn optional_text(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value {
        Some(v) if !v.trim().is_empty() => required_text(field, v, max).map(Some),
        _ => Ok(None),
    }
}

fn known_unit(rules: &Rules, field: &str, unit: &str) -> Result<(), DomainError> {
    if rules.config.unit(unit).is_some() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("đơn vị “{unit}” không tồn tại"),
        ))
    }
}

fn known_category(rules: &Rules, field: &str, code: &str) -> Result<(), DomainError> {
    if rules.config.category(code).is_some() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("lĩnh vực “{code}” không tồn tại"),
        ))
    }
}

fn check_attachments(field: &str, list: &[Attachment]) -> Result<(), DomainError> {
    if list.len() > MAX_ATTACHMENTS {
        return Err(DomainError::invalid(
            field,
            format!("tối đa {MAX_ATTACHMENTS} tệp đính kèm"),
        ));
    }
    Ok(())
}

/// Builder of a timeline entry appended to a report (keeps the hash chain).
pub(crate) struct Entry<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) action: Action,
    pub(crate) note: Option<String>,
    pub(crate) attachments: Vec<String>,
    pub(crate) data: serde_json::Value,
    pub(crate) visible_to_reporter: bool,
}

pub(crate) fn append(report: &mut Report, from: Option<State>, e: Entry<'_>, now: DateTime<Utc>) {
    let mut entry = TimelineEntry {
        seq: report.timeline.len() as u32,
        at: now,
        actor_id: e.actor.id.clone(),
        role: e.actor.role,
        unit: e.actor.unit.clone(),
        action: e.action,
        from_state: from,
        to_state: report.state,
        note: e.note,
        attachments: e.attachments,
        data: e.data,
        visible_to_reporter: e.visible_to_reporter,
        prev_hash: report.last_hash().to_string(),
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    report.timeline.push(entry);
}

fn envelopes(report: &Report, events: Vec<DomainEvent>, now: DateTime<Utc>) -> Vec<EventEnvelope> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| EventEnvelope {
            id: format!("{}:{}:{}", report.id, report.version, i),
            report_id: report.id.clone(),
            version: report.version,
            at: now,
            event,
        })
        .collect()
}

/// Creates a report from a citizen (app) or an IOC operator (camera, Đ.7.1).
/// Đ.6.3: complaints, denunciations and legal-advice requests are refused with guidance.
pub fn submit(
    id: ReportId,
    input: NewReport,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Transition, DomainError> {
    let (action, source) = match actor.role {
        Citizen => (Action::Submit, Source::App),
        IocOperator | IocHead => {
            let camera_id =
                required_text("camera_id", input.camera_id.as_deref().unwrap_or(""), 100)?;
            (Action::CreateFromCamera, Source::Camera { camera_id })
        }
        role => {
            return Err(DomainError::Forbidden {
                role,
                action: Action::Submit,
            })
        }
    };
    let title = required_text("title", &input.title, MAX_TITLE)?;
    let description = required_text("description", &input.description, MAX_TEXT)?;
    known_category(rules, "category", &input.category)?;
    if let Some(p) = input.location {
        if !p.is_valid() {
            return Err(DomainError::invalid(
                "location",
                "tọa độ ngoài phạm vi hợp lệ",
            ));
        }
    }
    let address = optional_text("address", &input.address, 500)?;
    check_attachments("attachments", &input.attachments)?;
    // Đ.6.3: not received through the field-report system.
    let text = format!("{title}\n{description}");
    if let Some(m) = screening::out_of_scope(&rules.config.screening, &text) {
        return Err(DomainError::OutOfScope {
            guidance: rules.config.messages.render(&m.guidance_key, &[]),
            code: m.code,
        });
    }
    let reporter = match actor.role {
        Citizen => {
            let mut r = input.reporter.unwrap_or_default();
            r.citizen_id = actor.id.clone();
            r.name = optional_text("reporter.name", &r.name, 200)?;
            r.phone = optional_text("reporter.phone", &r.phone, 30)?;
            r.email = optional_text("reporter.email", &r.email, 200)?;
            Some(r)
        }
        _ => None,
    };
    let reporter_ward = input
        .reporter_ward
        .filter(|w| rules.config.ward(w).is_some());
    let mut report = Report {
        id,
        version: 1,
        source,
        reporter,
        category: input.category.clone(),
        reported_category: input.category,
        title,
        description,
        location: input.location,
        address,
        ward: None,
        reporter_ward,
        attachments: input.attachments,
        state: Submitted,
        assignment: None,
        flags: Flags::default(),
        deferral: None,
        resolution: None,
        public_answer: None,
        published_at: None,
        rating: None,
        escalation: EscalationState::default(),
        created_at: now,
        updated_at: now,
        timeline: Vec::new(),
    };
    let attachment_ids = report.attachments.iter().map(|a| a.id.clone()).collect();
    append(
        &mut report,
        None,
        Entry {
            actor,
            action,
            note: None,
            attachments: attachment_ids,
            data: serde_json::Value::Null,
            visible_to_reporter: true,
        },
        now,
    );
    let events = envelopes(&report, vec![DomainEvent::ReportSubmitted], now);
    Ok(Transition { report, events })
}

/// Applies `cmd` by `actor` at `now`. Returns the new report (version + 1) and its events.
pub fn apply(
    current: &Report,
    cmd: Command,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Transition, DomainError> {
    let action = cmd.action();
    authorize(current, action, actor)?;
    check_state(current, action)?;

    let mut r = current.clone();
    r.version += 1;
    r.updated_at = now;
    let from = Some(current.state);
    let mut events = Vec::new();
    let mut entry = Entry {
        actor,
        action,
        note: None,
        attachments: Vec::new(),
        data: serde_json::Value::Null,
        visible_to_reporter: true,
    };

    match cmd {
        Command::Screen {
            possible_duplicates,
        } => {
            let text = format!("{}\n{}", r.title, r.description);
            let abuse = screening::check_abusive(&rules.config.screening, &text);
            r.flags.abusive = abuse.abusive;
            r.flags.abusive_terms = abuse.terms;
            r.flags.suggestion = screening::suggest_category(&rules.config.screening, &text);
            r.ward = routing::resolve_ward(&rules.config, r.location, r.reporter_ward.as_deref())
                .map(|(w, _)| w);
            r.flags.possible_duplicates = possible_duplicates;
            r.state = Screened;
            let auto_assignable = auto_assign_target(&r, rules).is_some();
            entry.visible_to_reporter = false;
            entry.data = json!({
                "abusive": r.flags.abusive,
                "suggestion": r.flags.suggestion,
                "ward": r.ward,
                "possible_duplicates": r.flags.possible_duplicates,
            });
            events.push(DomainEvent::ReportScreened { auto_assignable });
        }
        Command::Assign {
            lead_unit,
            coordinating_units,
            note,
        } => {
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            let a = make_assignment(&r, lead_unit, coordinating_units, actor, now, rules)?;
            entry.data = json!({"lead_unit": a.lead_unit, "coordinating_units": a.coordinating_units, "due_at": a.due_at});
            events.push(DomainEvent::ReportAssigned {
                lead_unit: a.lead_unit.clone(),
                coordinating_units: a.coordinating_units.clone(),
                due_at: a.due_at,
            });
            // Đ.7.2: "đồng thời báo cáo lãnh đạo UBND thành phố".
            events.push(DomainEvent::LeadershipInformed);
            set_assignment(&mut r, a);
        }
        Command::Refer { note } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            r.state = Referred;
            entry.visible_to_reporter = false;
            events.push(DomainEvent::ReferredToLeadership);
        }
        Command::Directive { text } => {
            // Đ.6.2: immutable (append-only, hash-chained), attributed, timestamped.
            entry.note = Some(required_text("text", &text, MAX_NOTE)?);
            entry.visible_to_reporter = false;
            events.push(DomainEvent::DirectiveIssued {
                seq: r.timeline.len() as u32,
            });
        }
        Command::Accept { note } => {
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            r.state = InProgress;
            events.push(DomainEvent::ReportAccepted);
        }
        Command::Progress { note, attachments } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            check_attachments("attachments", &attachments)?;
            entry.attachments = add_attachments(&mut r, attachments);
            entry.visible_to_reporter = false;
        }
        Command::AddNote { note, attachments } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            check_attachments("attachments", &attachments)?;
            entry.attachments = add_attachments(&mut r, attachments);
            entry.visible_to_reporter = false;
        }
        Command::Resolve { summary, evidence } => {
            let summary = required_text("summary", &summary, MAX_TEXT)?;
            // Đ.7.3: the unit uploads the records and photos of the result.
            if evidence.is_empty() {
                return Err(DomainError::invalid(
                    "evidence",
                    "cần ít nhất một hồ sơ hoặc hình ảnh kết quả xử lý (Điều 7.3)",
                ));
            }
            check_attachments("evidence", &evidence)?;
            let unit = actor.unit.clone().unwrap_or_default();
            let on_time = r.due_at().is_none_or(|d| now <= d);
            let ids = add_attachments(&mut r, evidence);
            r.resolution = Some(Resolution {
                summary: summary.clone(),
                evidence: ids.clone(),
                unit: unit.clone(),
                resolved_at: now,
                on_time,
            });
            r.deferral = None;
            r.state = Resolved;
            entry.note = Some(summary);
            entry.attachments = ids;
            entry.data = json!({"on_time": on_time});
            events.push(DomainEvent::ReportResolved { unit, on_time });
        }
        Command::Defer {
            reason,
            expected_date,
        } => {
            let reason = required_text("reason", &reason, MAX_NOTE)?;
            if expected_date < rules.local(now).date_naive() {
                return Err(DomainError::invalid(
                    "expected_date",
                    "ngày dự kiến giải quyết không được ở quá khứ",
                ));
            }
            r.deferral = Some(Deferral {
                reason: reason.clone(),
                expected_date,
                deferred_at: now,
            });
            r.state = Deferred;
            entry.note = Some(reason);
            entry.data = json!({"expected_date": expected_date});
            events.push(DomainEvent::ReportDeferred {
                unit: actor.unit.clone().unwrap_or_default(),
                expected_date,
            });
        }
        Command::Resume { note } => {
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            r.state = InProgress;
        }
        Command::Return {
            reason,
            suggested_category,
        } => {
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            if let Some(c) = &suggested_category {
                known_category(rules, "suggested_category", c)?;
            }
            entry.data = json!({"suggested_category": suggested_category});
            entry.visible_to_reporter = false;
            r.state = Returned;
            events.push(DomainEvent::ReportReturned {
                unit: actor.unit.clone().unwrap_or_default(),
            });
        }
        Command::Reclassify { category, note } => {
            known_category(rules, "category", &category)?;
            if category == r.category {
                return Err(DomainError::invalid(
                    "category",
                    "lĩnh vực mới trùng lĩnh vực hiện tại",
                ));
            }
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            entry.data = json!({"from": r.category, "to": category});
            events.push(DomainEvent::ReportReclassified {
                from: r.category.clone(),
                to: category.clone(),
            });
            r.category = category;
        }
        Command::Reassign {
            lead_unit,
            coordinating_units,
            note,
        } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            // Đ.7.4.k: from triage the office routes only what is its own to route.
            if current.state == Screened {
                let office_routed = rules
                    .config
                    .category(&r.category)
                    .is_some_and(|c| c.routing == Routing::Office);
                if !office_routed {
                    return Err(DomainError::InvalidState {
                        state: current.state,
                        action,
                    });
                }
            }
            if r.lead_unit() == Some(lead_unit.as_str()) && current.state != Returned {
                return Err(DomainError::invalid(
                    "lead_unit",
                    "đơn vị mới trùng đơn vị hiện tại",
                ));
            }
            let a = make_assignment(&r, lead_unit, coordinating_units, actor, now, rules)?;
            entry.data = json!({"lead_unit": a.lead_unit, "coordinating_units": a.coordinating_units, "due_at": a.due_at});
            events.push(DomainEvent::ReportAssigned {
                lead_unit: a.lead_unit.clone(),
                coordinating_units: a.coordinating_units.clone(),
                due_at: a.due_at,
            });
            r.deferral = None;
            set_assignment(&mut r, a);
        }
        Command::Urge { note } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            entry.visible_to_reporter = false;
            events.push(DomainEvent::UnitUrged {
                unit: r.lead_unit().unwrap_or_default().to_string(),
            });
        }
        Command::Publish {
            public_answer,
            public_attachments,
        } => {
            // Đ.8.2: a report touching state secrets is published only by an authorised leader.
            if r.flags.state_secret && actor.role != Leader {
                return Err(DomainError::Forbidden {
                    role: actor.role,
                    action,
                });
            }
            let answer = required_text("public_answer", &public_answer, MAX_TEXT)?;
            for id in &public_attachments {
                if !r.attachments.iter().any(|a| &a.id == id) {
                    return Err(DomainError::invalid(
                        "public_attachments",
                        format!("tệp “{id}” không thuộc phản ánh này"),
                    ));
                }
            }
            for a in r.attachments.iter_mut() {
                a.public = public_attachments.contains(&a.id);
            }
            r.public_answer = Some(answer.clone());
            r.published_at = Some(now);
            r.state = Published;
            entry.note = Some(answer);
            entry.attachments = public_attachments;
            events.push(DomainEvent::ReportPublished);
        }
        Command::MarkSecret { note } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            entry.visible_to_reporter = false;
            r.flags.state_secret = true;
        }
        Command::Reject { reason } => {
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            r.state = Rejected;
            events.push(DomainEvent::ReportRejected);
        }
        Command::Close { note } => {
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            r.state = Closed;
            events.push(DomainEvent::ReportClosed);
        }
        Command::Reopen { reason } => {
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            // Back to IOC triage: the IOC head decides who handles it again.
            r.state = Screened;
            r.rating = None;
            events.push(DomainEvent::ReportReopened);
        }
        Command::Rate { stars, comment } => {
            if !(1..=5).contains(&stars) {
                return Err(DomainError::invalid("stars", "điểm đánh giá từ 1 đến 5"));
            }
            if r.rating.is_some() {
                return Err(DomainError::invalid(
                    "stars",
                    "phản ánh này đã được đánh giá",
                ));
            }
            let comment = optional_text("comment", &comment, 1000)?;
            r.rating = Some(Rating {
                stars,
                comment: comment.clone(),
                at: now,
            });
            entry.note = comment;
            entry.data = json!({"stars": stars});
            events.push(DomainEvent::ReportRated { stars });
        }
        Command::Escalate => {
            let due = due_thresholds(&r, rules, now);
            if due.is_empty() {
                return Err(DomainError::invalid(
                    "escalation",
                    "chưa đến ngưỡng nhắc hạn",
                ));
            }
            let unit = r.lead_unit().unwrap_or_default().to_string();
            for (key, level) in &due {
                r.escalation.sent.push(key.clone());
                events.push(DomainEvent::DeadlineEscalated {
                    threshold: key.clone(),
                    level: *level,
                    unit: unit.clone(),
                });
            }
            entry.visible_to_reporter = false;
            entry.data = json!({"thresholds": due.iter().map(|(k, _)| k).collect::<Vec<_>>()});
        }
        Command::RevealReporter { reason } => {
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            entry.visible_to_reporter = false;
        }
    }

    append(&mut r, from, entry, now);
    r.escalation.next_at = next_escalation_at(&r, rules);
    let events = envelopes(&r, events, now);
    Ok(Transition { report: r, events })
}

fn add_attachments(r: &mut Report, list: Vec<Attachment>) -> Vec<String> {
    let ids = list.iter().map(|a| a.id.clone()).collect();
    for a in list {
        if !r.attachments.iter().any(|x| x.id == a.id) {
            r.attachments.push(a);
        }
    }
    ids
}

fn make_assignment(
    r: &Report,
    lead_unit: UnitId,
    coordinating_units: Vec<UnitId>,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Assignment, DomainError> {
    known_unit(rules, "lead_unit", &lead_unit)?;
    let mut coordinating = Vec::new();
    for u in coordinating_units {
        known_unit(rules, "coordinating_units", &u)?;
        if u != lead_unit && !coordinating.contains(&u) {
            coordinating.push(u);
        }
    }
    let rule = deadline_rule(rules, &r.category)?;
    // Đ.7.4: the clock starts when the unit receives the report from the IOC.
    Ok(Assignment {
        due_at: rules.due_at(rule, now),
        clock: rule.clock,
        deadline_minutes: rule.minutes,
        lead_unit,
        coordinating_units: coordinating,
        assigned_at: now,
        assigned_by: actor.id.clone(),
    })
}

fn deadline_rule(rules: &Rules, category: &str) -> Result<DeadlineRule, DomainError> {
    rules.deadline(category).ok_or_else(|| {
        DomainError::invalid(
            "category",
            format!("lĩnh vực “{category}” chưa có thời hạn xử lý"),
        )
    })
}

fn set_assignment(r: &mut Report, a: Assignment) {
    r.assignment = Some(a);
    r.state = Assigned;
    r.escalation = EscalationState::default();
}

/// The thresholds not yet sent for the current assignment: (key, level, instant), in config
/// order. Empty when the unit's clock is not running (Đ.7.5: a deferral stops it).
fn unsent_thresholds(r: &Report, rules: &Rules) -> Vec<(String, EscalationLevel, DateTime<Utc>)> {
    let Some(a) = r
        .assignment
        .as_ref()
        .filter(|_| r.state.unit_clock_running())
    else {
        return Vec::new();
    };
    let rule = a.deadline_rule();
    rules
        .config
        .city
        .escalation
        .iter()
        .map(|t| (threshold_key(t.fraction), t))
        .filter(|(k, _)| !r.escalation.sent.contains(k))
        .map(|(k, t)| {
            let at = rules.instant_at_fraction(rule, a.assigned_at, t.fraction);
            (k, t.level, at)
        })
        .collect()
}

/// Thresholds (key, level) reached at `now` and not yet sent, in order.
pub fn due_thresholds(
    r: &Report,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Vec<(String, EscalationLevel)> {
    unsent_thresholds(r, rules)
        .into_iter()
        .filter(|(_, _, at)| *at <= now)
        .map(|(k, level, _)| (k, level))
        .collect()
}

/// Stable key of a threshold fraction: percent, e.g. 0.75 → "75".
pub fn threshold_key(fraction: f64) -> String {
    format!("{}", (fraction * 100.0).round() as i64)
}

/// When the next unsent threshold falls due (None when the clock is not running).
pub fn next_escalation_at(r: &Report, rules: &Rules) -> Option<DateTime<Utc>> {
    unsent_thresholds(r, rules)
        .into_iter()
        .map(|(_, _, at)| at)
        .min()
}

/// The unit a screened report may be auto-assigned to, when config allows
/// (`auto_assign_min_confidence` > 0 and the suggestion agrees with the reporter's category).
pub fn auto_assign_target(r: &Report, rules: &Rules) -> Option<routing::Route> {
    let min = rules.config.city.auto_assign_min_confidence;
    if min <= 0.0 || r.flags.abusive || !r.flags.possible_duplicates.is_empty() {
        return None;
    }
    let s = r.flags.suggestion.as_ref()?;
    if s.category != r.category || s.confidence < min {
        return None;
    }
    let route = routing::route(&rules.config, &r.category, r.ward.as_deref());
    route.lead_unit.is_some().then_some(route)
}
