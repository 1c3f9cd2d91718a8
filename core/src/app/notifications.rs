//! Who is told what: the SMS and e-mails an event calls for, as a pure function of the event,
//! what it needs of the report ([`NotifyFacts`], carried by the event: issue 10) and the
//! city's config (unit contacts, message texts). Only the concerned unit,
//! the IOC, leadership or the reporter are addressed, never everyone. Ids are stable
//! (`<event id>:<channel>:<recipient>`), so a redelivered event is not sent twice.

use super::App;
use crate::city::CityRules;
use crate::contact;
use crate::lifecycle::waiting::WaitTimer;
use crate::model::*;
use crate::ports::{Channel, Notification};
use crate::text;
use tracing::warn;

impl App {
    /// The notifications an event produces (see [`notifications_for`]).
    pub fn notifications_for(&self, env: &EventEnvelope, r: &Report) -> Vec<Notification> {
        notifications_for(&self.rules, env, r)
    }
}

/// Who is addressed: a unit (its general or its head's contacts) or the reporter.
enum To {
    Unit { id: UnitId, head: bool },
    Reporter,
}

/// The recipients of an event with the kind of message each gets; `lead` is the report's
/// lead unit as of the event.
fn targets(
    rules: &CityRules,
    event: &DomainEvent,
    lead: Option<&str>,
) -> Vec<(NotificationKind, To)> {
    use NotificationKind as K;
    let city = &rules.config.city;
    let unit = |id: &str| To::Unit {
        id: id.to_string(),
        head: false,
    };
    let lead = lead.unwrap_or_default();
    match event {
        DomainEvent::ReportAssigned {
            lead_unit,
            coordinating_units,
            ..
        } => std::iter::once(lead_unit)
            .chain(coordinating_units)
            .map(|u| (K::Assigned, unit(u)))
            // Issue 13: the reporter learns the deadline (no unit staff names).
            .chain(std::iter::once((K::AssignedReporter, To::Reporter)))
            .collect(),
        DomainEvent::ReportSubmitted => vec![(K::ReceivedReporter, To::Reporter)],
        // Đ.7.2: "đồng thời báo cáo lãnh đạo UBND thành phố".
        DomainEvent::LeadershipInformed => {
            vec![(K::LeadershipInformed, unit(&city.leadership_unit))]
        }
        DomainEvent::ReferredToLeadership => vec![(K::Referred, unit(&city.leadership_unit))],
        DomainEvent::DirectiveIssued { .. } => {
            let mut t = vec![(K::Directive, unit(&city.ioc_unit))];
            if !lead.is_empty() {
                t.push((K::Directive, unit(lead)));
            }
            t
        }
        // Đ.7.5: reported to the city (leadership and the office that follows units).
        DomainEvent::ReportDeferred { .. } => vec![
            (K::Deferred, unit(&city.leadership_unit)),
            (K::Deferred, unit(&city.office_unit)),
            (K::DeferredReporter, To::Reporter),
        ],
        // Đ.7.5: the lead unit and the office that follows it hear the city's decision; the
        // reporter learns an accepted target date (a refusal changes nothing they were told).
        DomainEvent::DeferralDecided {
            unit: u, accepted, ..
        } => {
            let kind = if *accepted {
                K::DeferralAccepted
            } else {
                K::DeferralRefused
            };
            let mut t = vec![(kind, unit(u)), (kind, unit(&city.office_unit))];
            if *accepted {
                t.push((K::DeferralAcceptedReporter, To::Reporter));
            }
            t
        }
        DomainEvent::ReportReturned { .. } => vec![(K::Returned, unit(&city.office_unit))],
        DomainEvent::UnitUrged { unit: u } => vec![(K::Urged, unit(u))],
        // Issue 13: a waiting state's timer (Đ.7.2, Đ.7.5, Đ.8.1, Đ.9.2).
        DomainEvent::DeadlineEscalated { threshold, .. }
            if WaitTimer::of_key(threshold).is_some() =>
        {
            let head = |id: &str| To::Unit {
                id: id.to_string(),
                head: true,
            };
            match WaitTimer::of_key(threshold) {
                // Đ.7.2: the IOC head assigns.
                Some(WaitTimer::Triage) => vec![(K::WaitingTriage, head(&city.ioc_unit))],
                Some(WaitTimer::Referral) => {
                    vec![(K::WaitingReferral, unit(&city.leadership_unit))]
                }
                // Đ.9.2: the office reassigns what a unit returned.
                Some(WaitTimer::Returned) => vec![(K::WaitingReturned, unit(&city.office_unit))],
                // Đ.8.1: the IOC publishes.
                Some(WaitTimer::Publication) => {
                    vec![(K::WaitingPublication, head(&city.ioc_unit))]
                }
                // Đ.7.5: the unit reports the reason and a new date; the city follows it.
                Some(WaitTimer::DeferralOverdue) => {
                    let mut t = vec![(K::DeferralOverdue, unit(&city.office_unit))];
                    if !lead.is_empty() {
                        t.insert(0, (K::DeferralOverdue, head(lead)));
                    }
                    t
                }
                None => Vec::new(),
            }
        }
        DomainEvent::DeadlineEscalated { level, unit: u, .. } => match level {
            EscalationLevel::UnitHead => vec![(
                K::EscalationUnitHead,
                To::Unit {
                    id: u.clone(),
                    head: true,
                },
            )],
            EscalationLevel::Ioc => vec![(K::EscalationIoc, unit(&city.ioc_unit))],
            EscalationLevel::Leadership => {
                vec![(K::EscalationLeadership, unit(&city.leadership_unit))]
            }
        },
        // Đ.8.1: the IOC publishes once the unit has its result; a reopened case is triaged again.
        DomainEvent::ReportResolved { .. } => vec![
            (K::Resolved, unit(&city.ioc_unit)),
            (K::ResolvedReporter, To::Reporter),
        ],
        DomainEvent::ReportReopened => vec![(K::Reopened, unit(&city.ioc_unit))],
        DomainEvent::ReportPublished => vec![(K::PublishedReporter, To::Reporter)],
        DomainEvent::ReportRejected => vec![(K::RejectedReporter, To::Reporter)],
        // Đ.8.2: the IOC head or a leader decides on a possibly secret report.
        DomainEvent::SecretFlagged => vec![
            (
                K::SecretFlagged,
                To::Unit {
                    id: city.ioc_unit.clone(),
                    head: true,
                },
            ),
            (K::SecretFlagged, unit(&city.leadership_unit)),
        ],
        _ => Vec::new(),
    }
}

/// An SMS text of the city's config with its placeholders filled: without diacritics (GSM-7)
/// unless the city set `sms_diacritics`.
pub fn render_sms(rules: &CityRules, key: &str, vars: &[(&str, &str)]) -> String {
    let s = rules.config.messages.render(key, vars);
    if rules.config.city.sms_diacritics {
        s
    } else {
        text::strip_diacritics(&s)
    }
}

/// The neutral text that stands for the title of a secret report when `secret.title` is not
/// configured in messages.toml.
pub const DEFAULT_SECRET_TITLE: &str = "Phản ánh có nội dung cần bảo mật";

/// The title as messages may carry it. Đ.8.2: a report marked secret (or flagged as possibly
/// secret, until the IOC head or a leader decides) never has its title in an SMS or e-mail, to
/// units, leaders or the reporter: the city's neutral `secret.title` stands for it. No template
/// carries the description.
pub fn notified_title(rules: &CityRules, r: &Report) -> String {
    if r.flags.state_secret || r.flags.possibly_secret {
        rules
            .config
            .messages
            .texts
            .get(SECRET_TITLE_KEY)
            .cloned()
            .unwrap_or_else(|| DEFAULT_SECRET_TITLE.to_string())
    } else {
        r.title.clone()
    }
}

/// The messages.toml key of the neutral text that replaces a secret report's title.
pub const SECRET_TITLE_KEY: &str = "secret.title";

/// The kinds of message an event sends, one per recipient (`lead`: the report's lead unit as
/// of the event).
pub fn kinds_of(
    rules: &CityRules,
    event: &DomainEvent,
    lead: Option<&str>,
) -> Vec<NotificationKind> {
    targets(rules, event, lead)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// What the messages of `event` need of `r` (the report at the event's version, reporter
/// contact in plaintext): the one place that reads them from a report. The reporter's contact
/// only when the event tells the reporter.
pub fn facts_of(rules: &CityRules, event: &DomainEvent, r: &Report) -> NotifyFacts {
    let lead_unit = r.lead_unit().map(str::to_string);
    let tells_reporter = targets(rules, event, lead_unit.as_deref())
        .iter()
        .any(|(_, to)| matches!(to, To::Reporter));
    let reporter = r
        .reporter
        .as_ref()
        .filter(|_| tells_reporter)
        .filter(|rep| rep.phone.is_some() || rep.email.is_some())
        .map(|rep| {
            ReporterContact::Plain(NotifyContact {
                phone: rep.phone.clone(),
                email: rep.email.clone(),
            })
        });
    NotifyFacts {
        category: r.category.clone(),
        title: notified_title(rules, r),
        due_at: r.due_at(),
        expected_date: r.deferral.as_ref().map(|d| d.expected_date),
        // Đ.7.5: the target date the event set (the report may change after it).
        target_date: match event {
            DomainEvent::DeferralDecided { target_date, .. } => *target_date,
            _ => r.target_date(),
        },
        // The reason told to the reporter: the latest entry the reporter may see that carries
        // one (a rejection's reason), never an internal note.
        reason: r
            .timeline
            .iter()
            .rev()
            .find(|e| e.visible_to_reporter && e.action == Action::Reject)
            .and_then(|e| e.note.clone())
            .unwrap_or_default(),
        lead_unit,
        reporter,
    }
}

/// The notifications an event produces from the report (`r` at the event's version, its
/// reporter's contact in plaintext): [`notifications_from_facts`] of [`facts_of`].
pub fn notifications_for(rules: &CityRules, env: &EventEnvelope, r: &Report) -> Vec<Notification> {
    notifications_from_facts(rules, env, &facts_of(rules, &env.event, r))
}

/// The notifications an event produces from what it carries (`f`, the reporter's contact
/// opened). Pure; an address that is not a valid phone number or e-mail address is left out
/// (and logged), so it cannot hold up the other recipients.
pub fn notifications_from_facts(
    rules: &CityRules,
    env: &EventEnvelope,
    f: &NotifyFacts,
) -> Vec<Notification> {
    let cfg = &rules.config;
    let report_id = &env.report_id;
    let due = f.due_at.map(|d| rules.format_local(d)).unwrap_or_default();
    let category = cfg
        .category(&f.category)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| f.category.clone());
    let id = report_id.to_string();
    let short_id = &id[id.char_indices().rev().nth(7).map_or(0, |(i, _)| i)..];
    let date = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default()
    };
    let expected_date = date(f.expected_date);
    let target_date = date(f.target_date);
    let vars = [
        ("report_id", short_id),
        ("category", category.as_str()),
        ("due", due.as_str()),
        ("title", f.title.as_str()),
        ("expected_date", expected_date.as_str()),
        ("reason", f.reason.as_str()),
        ("target_date", target_date.as_str()),
    ];

    let mut out = Vec::new();
    for (kind, to) in targets(rules, &env.event, f.lead_unit.as_deref()) {
        let key = kind.key();
        let (phones, emails, unit, who): (Vec<String>, Vec<String>, Option<UnitId>, String) =
            match to {
                To::Unit { id, head } => {
                    let Some(u) = cfg.unit(&id) else { continue };
                    let c = &u.contacts;
                    let (sms, email) = if head && !c.head_sms.is_empty() {
                        (&c.head_sms, &c.head_email)
                    } else {
                        (&c.sms, &c.email)
                    };
                    (sms.clone(), email.clone(), Some(id), String::new())
                }
                To::Reporter => {
                    // A contact still sealed (not opened) is not an address: left out.
                    let Some(ReporterContact::Plain(rep)) = &f.reporter else {
                        continue;
                    };
                    let phones = rep.phone.iter().cloned().collect();
                    let emails = rep.email.iter().cloned().collect();
                    (phones, emails, None, "reporter".to_string())
                }
            };
        let label = |addr: &str| {
            if who.is_empty() {
                addr.to_string()
            } else {
                who.clone()
            }
        };
        let sms = render_sms(rules, &format!("{key}.sms"), &vars);
        let subject = cfg.messages.render(&format!("{key}.email_subject"), &vars);
        let body = cfg.messages.render(&format!("{key}.email_body"), &vars);
        for raw in phones {
            match contact::phone_e164(&raw) {
                Ok(to) => out.push(Notification {
                    id: format!("{}:sms:{}", env.id, label(&raw)),
                    channel: Channel::Sms,
                    to,
                    unit: unit.clone(),
                    subject: None,
                    body: sms.clone(),
                    report_id: Some(report_id.clone()),
                }),
                Err(_) => {
                    warn!(report_id = %report_id, event_id = %env.id, unit = ?unit, "not a phone number: SMS recipient left out")
                }
            }
        }
        for raw in emails {
            match contact::email(&raw) {
                Ok(to) => out.push(Notification {
                    id: format!("{}:email:{}", env.id, label(&raw)),
                    channel: Channel::Email,
                    to,
                    unit: unit.clone(),
                    subject: Some(subject.clone()),
                    body: body.clone(),
                    report_id: Some(report_id.clone()),
                }),
                Err(_) => {
                    warn!(report_id = %report_id, event_id = %env.id, unit = ?unit, "not an e-mail address: recipient left out")
                }
            }
        }
    }
    out
}
