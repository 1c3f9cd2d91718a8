//! Creating a report: from a citizen through the app, or from an IOC operator's camera (Đ.7.1).
//! Out-of-scope requests (Đ.6.3) are refused here, before anything is stored.

use super::timeline::{append, envelopes, Entry};
use super::validation::*;
use super::{NewReport, Transition};
use crate::city::CityRules;
use crate::error::DomainError;
use crate::model::*;
use crate::{contact, screening};
use chrono::{DateTime, Utc};
use Role::*;
use State::*;

/// Creates a report from a citizen (app) or an IOC operator (camera, Đ.7.1).
/// Đ.6.3: complaints, denunciations and legal-advice requests are refused with guidance.
pub fn submit(
    id: ReportId,
    input: NewReport,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &CityRules,
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
            r.name = optional_line("reporter.name", &r.name, 200)?;
            r.phone = optional_contact("reporter.phone", &r.phone, contact::phone_e164)?;
            r.email = optional_contact("reporter.email", &r.email, contact::email)?;
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
        request_fingerprint: None,
    };
    let attachment_ids = report.attachments.iter().map(|a| a.id.clone()).collect();
    append(
        &mut report,
        None,
        Entry {
            attachments: attachment_ids,
            ..Entry::new(actor, action)
        },
        now,
    );
    let events = envelopes(&report, vec![DomainEvent::ReportSubmitted], now);
    Ok(Transition { report, events })
}
