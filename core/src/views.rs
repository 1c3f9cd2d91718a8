//! What each audience may see of a report.
//!
//! - Public (Đ.8.1, Đ.3.2.c, Đ.4): published reports only, never any reporter data, abusive
//!   words masked (Đ.3.1.c), only attachments approved for publication; for reports touching
//!   state secrets (Đ.8.2) only the approved answer.
//! - Reporter: their own report, without internal entries (notes, directives, escalations).
//! - Staff: everything, but the reporter is hidden from units entirely and masked for the IOC,
//!   office and leadership until an audited reveal (Đ.4.2, Đ.4.4).

use crate::city::CityRules;
use crate::model::*;
use crate::screening;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicAttachment {
    pub id: String,
    pub kind: MediaKind,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicReport {
    pub id: ReportId,
    pub category: CategoryCode,
    pub category_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward: Option<WardId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub public_answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_on_time: Option<bool>,
    pub attachments: Vec<PublicAttachment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

/// The redacted public view, or None when the report is not public.
pub fn public_view(r: &Report, rules: &CityRules) -> Option<PublicReport> {
    if !r.state_is_public() {
        return None;
    }
    let cfg = &rules.config;
    let category_name = cfg
        .category(&r.category)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| r.category.clone());
    let answer = r
        .public_answer
        .as_deref()
        .map(|a| screening::mask_abusive(&cfg.screening, a));
    if r.flags.state_secret {
        // Đ.8.2: nothing beyond the answer an authorised person approved.
        return Some(PublicReport {
            id: r.id.clone(),
            category: r.category.clone(),
            category_name,
            title: None,
            description: None,
            location: None,
            ward: None,
            ward_name: None,
            unit_name: None,
            state: r.state,
            created_at: r.created_at,
            published_at: r.published_at,
            public_answer: answer,
            resolved_on_time: None,
            attachments: Vec::new(),
            rating: None,
        });
    }
    Some(PublicReport {
        id: r.id.clone(),
        category: r.category.clone(),
        category_name,
        title: Some(screening::mask_abusive(&cfg.screening, &r.title)),
        description: Some(screening::mask_abusive(&cfg.screening, &r.description)),
        location: r.location,
        ward: r.ward.clone(),
        ward_name: r
            .ward
            .as_deref()
            .and_then(|w| cfg.ward(w))
            .map(|w| w.name.clone()),
        unit_name: r
            .lead_unit()
            .and_then(|u| cfg.unit(u))
            .map(|u| u.name.clone()),
        state: r.state,
        created_at: r.created_at,
        published_at: r.published_at,
        public_answer: answer,
        resolved_on_time: r.resolution.as_ref().map(|x| x.on_time),
        attachments: r
            .attachments
            .iter()
            // Only files with a metadata-free public copy (a JPEG) are ever public (issue 11).
            .filter(|a| a.public && a.public_key.is_some())
            .map(|a| PublicAttachment {
                id: a.id.clone(),
                kind: a.kind,
                content_type: "image/jpeg".into(),
            })
            .collect(),
        rating: r.rating.as_ref().map(|x| x.stars),
    })
}

/// A timeline entry as shown to the reporter: no staff identities, no internal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterTimelineEntry {
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    pub action: Action,
    pub to_state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterView {
    pub id: ReportId,
    pub category: CategoryCode,
    pub category_name: String,
    pub title: String,
    pub description: String,
    pub location: Option<GeoPoint>,
    pub address: Option<String>,
    pub ward: Option<WardId>,
    pub state: State,
    pub unit_name: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub deferral: Option<Deferral>,
    pub resolution_summary: Option<String>,
    pub public_answer: Option<String>,
    pub rating: Option<Rating>,
    pub attachments: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: Vec<ReporterTimelineEntry>,
}

/// Ids of the attachments meant for the reporter: their own files and those of timeline
/// entries they see, never files attached to internal entries (notes, directives).
pub fn reporter_attachment_ids(r: &Report) -> Vec<&str> {
    let hidden: Vec<&str> = r
        .timeline
        .iter()
        .filter(|e| !e.visible_to_reporter)
        .flat_map(|e| e.attachments.iter().map(String::as_str))
        .collect();
    r.attachments
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| !hidden.contains(id))
        .collect()
}

pub fn reporter_view(r: &Report, rules: &CityRules) -> ReporterView {
    let cfg = &rules.config;
    let unit_name = |u: &str| cfg.unit(u).map(|x| x.name.clone());
    let mut v = ReporterView {
        id: r.id.clone(),
        category: r.category.clone(),
        category_name: cfg
            .category(&r.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| r.category.clone()),
        title: r.title.clone(),
        description: r.description.clone(),
        location: r.location,
        address: r.address.clone(),
        ward: r.ward.clone(),
        state: r.state,
        unit_name: r.lead_unit().and_then(unit_name),
        due_at: r.due_at(),
        deferral: r.deferral.clone(),
        resolution_summary: r.resolution.as_ref().map(|x| x.summary.clone()),
        public_answer: r.public_answer.clone(),
        rating: r.rating.clone(),
        attachments: {
            let visible = reporter_attachment_ids(r);
            r.attachments
                .iter()
                .filter(|a| visible.contains(&a.id.as_str()))
                .cloned()
                .map(|mut a| {
                    // The reporter's own view: no staff hint about where the photo was taken.
                    a.location_hint = None;
                    a
                })
                .collect()
        },
        created_at: r.created_at,
        updated_at: r.updated_at,
        timeline: r
            .timeline
            .iter()
            .filter(|e| e.visible_to_reporter)
            .map(|e| ReporterTimelineEntry {
                seq: e.seq,
                at: e.at,
                role: e.role,
                unit_name: e.unit.as_deref().and_then(unit_name),
                action: e.action,
                to_state: e.to_state,
                note: e.note.clone(),
                attachments: e.attachments.clone(),
            })
            .collect(),
    };
    if r.flags.state_secret {
        restrict_to_status_and_answer(&mut v, r);
    }
    v
}

/// Đ.8.2: on a report touching state secrets the reporter keeps what they sent (their text,
/// place, files and the submission entry), its status, and the answer once a leader approved
/// its publication; nothing staff added (units, deadlines, notes, evidence, summaries).
fn restrict_to_status_and_answer(v: &mut ReporterView, r: &Report) {
    let own: Vec<String> = r
        .timeline
        .first()
        .map(|e| e.attachments.clone())
        .unwrap_or_default();
    v.unit_name = None;
    v.due_at = None;
    v.deferral = None;
    v.resolution_summary = None;
    v.attachments.retain(|a| own.contains(&a.id));
    v.timeline.retain(|e| e.seq == 0);
    if r.published_at.is_none() {
        v.public_answer = None;
    }
}

/// The report as staff see it. `reporter` is None for unit roles (hidden entirely) and masked
/// for the IOC, office and leadership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffView {
    #[serde(flatten)]
    pub report: Report,
    pub overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_minutes: Option<i64>,
}

/// The actor id a unit sees on a citizen's timeline entries.
pub const CITIZEN_PLACEHOLDER: &str = "nguoi-phan-anh";

pub fn staff_view(r: &Report, actor: &Actor, rules: &CityRules, now: DateTime<Utc>) -> StaffView {
    let mut report = r.clone();
    report.reporter = match actor.role {
        Role::IocOperator | Role::IocHead | Role::Leader | Role::OfficeAdmin => {
            r.reporter.as_ref().map(mask_reporter)
        }
        _ => None,
    };
    if actor.role.is_unit_role() {
        // Đ.4.2: a unit never learns who reported, not even the citizen's stable id.
        for e in report
            .timeline
            .iter_mut()
            .filter(|e| e.role == Role::Citizen)
        {
            e.actor_id = CITIZEN_PLACEHOLDER.into();
        }
    }
    let remaining_minutes = r
        .assignment
        .as_ref()
        .filter(|_| r.state.unit_clock_running())
        .map(|a| rules.remaining_minutes(a.deadline_rule(), a.assigned_at, now));
    StaffView {
        overdue: r.is_overdue(now),
        report,
        remaining_minutes,
    }
}

/// Masks personal data for staff lists: "Nguyễn Văn An" → "N*** A**", phone → "09******89".
pub fn mask_reporter(r: &Reporter) -> Reporter {
    Reporter {
        citizen_id: "***".into(),
        name: r.name.as_deref().map(mask_name),
        phone: r.phone.as_deref().map(mask_phone),
        email: r.email.as_deref().map(mask_email),
    }
}

fn mask_name(n: &str) -> String {
    n.split_whitespace()
        .map(|w| {
            let first: String = w.chars().take(1).collect();
            format!("{first}***")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = crate::contact::phone_national(p).chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_no_full_personal_data() {
        let r = Reporter {
            citizen_id: "c1".into(),
            name: Some("Nguyễn Văn An".into()),
            phone: Some("0912345689".into()),
            email: Some("an.nguyen@example.vn".into()),
        };
        let m = mask_reporter(&r);
        assert_eq!(m.name.as_deref(), Some("N*** V*** A***"));
        assert_eq!(m.phone.as_deref(), Some("09******89"));
        let stored = Reporter {
            phone: Some("+84912345689".into()),
            ..r
        };
        assert_eq!(mask_reporter(&stored).phone.as_deref(), Some("09******89"));
        assert_eq!(m.email.as_deref(), Some("a***@example.vn"));
        assert_eq!(m.citizen_id, "***");
    }
}
