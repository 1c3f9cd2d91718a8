//! Applying a [`Command`] to a report: role, unit scope and state are checked first (policy),
//! then the input, then the change is made and recorded on the timeline with its events.

use super::assignment::{assignment_record, auto_assign_target, make_assignment, set_assignment};
use super::escalation::{due_thresholds, next_escalation_at};
use super::policy::{authorize, check_state};
use super::timeline::{append, envelopes, Entry};
use super::validation::*;
use super::{Command, Transition};
use crate::city::CityRules;
use crate::config::Routing;
use crate::error::DomainError;
use crate::model::*;
use crate::{routing, screening};
use chrono::{DateTime, Utc};
use serde_json::json;
use Role::*;
use State::*;

/// Applies `cmd` by `actor` at `now`. Returns the new report (version + 1) and its events.
pub fn apply(
    current: &Report,
    cmd: Command,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &CityRules,
) -> Result<Transition, DomainError> {
    let action = cmd.action();
    authorize(current, action, actor)?;
    check_state(current, action)?;

    let mut r = current.clone();
    r.version += 1;
    r.updated_at = now;
    let from = Some(current.state);
    let mut events = Vec::new();
    let mut entry = Entry::new(actor, action);

    match cmd {
        Command::Screen {
            possible_duplicates,
        } => {
            let text = format!("{}\n{}", r.title, r.description);
            let found = screening::assess(&rules.config.screening, &text);
            r.flags.abusive = found.abuse.abusive;
            r.flags.abusive_terms = found.abuse.terms;
            r.flags.suggestion = found.suggestion;
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
                // The ids are kept once, in the flags; the entry records how many there were.
                "possible_duplicates": r.flags.possible_duplicates.len(),
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
            let (data, event) = assignment_record(&a);
            entry.data = data;
            events.push(event);
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
        Command::Directive { text, corrects } => {
            // Đ.6.2: immutable (append-only, hash-chained), attributed, timestamped. A
            // correction is a new directive that references the one it corrects.
            entry.note = Some(required_text("text", &text, MAX_NOTE)?);
            if let Some(seq) = corrects {
                let is_directive = r
                    .timeline
                    .get(seq as usize)
                    .is_some_and(|e| e.action == Action::Directive);
                if !is_directive {
                    return Err(DomainError::invalid(
                        "corrects",
                        "chỉ đạo được đính chính phải là một chỉ đạo đã có của phản ánh này",
                    ));
                }
                entry.data = serde_json::json!({ "corrects": seq });
            }
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
            check_added_attachments("attachments", &r.attachments, &attachments)?;
            entry.attachments = add_attachments(&mut r, attachments);
            entry.visible_to_reporter = false;
        }
        Command::AddNote { note, attachments } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            check_added_attachments("attachments", &r.attachments, &attachments)?;
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
            check_added_attachments("evidence", &r.attachments, &evidence)?;
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
                decision: None,
            });
            r.state = Deferred;
            entry.note = Some(reason);
            entry.data = json!({"expected_date": expected_date});
            events.push(DomainEvent::ReportDeferred {
                unit: actor.unit.clone().unwrap_or_default(),
                expected_date,
            });
        }
        Command::DecideDeferral {
            accept,
            target_date,
            note,
        } => {
            let d = super::deferral::Decision {
                accept,
                target_date,
                note,
            };
            events.push(super::deferral::decide(&mut r, &mut entry, d, now, rules)?);
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
            let (data, event) = assignment_record(&a);
            entry.data = data;
            events.push(event);
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
                let Some(a) = r.attachments.iter().find(|a| &a.id == id) else {
                    return Err(DomainError::invalid(
                        "public_attachments",
                        format!("tệp “{id}” không thuộc phản ánh này"),
                    ));
                };
                // Đ.4, Đ.8.1: only a metadata-free copy is ever public; audio, video and
                // photos without one (HEIC) stay private (issue 11).
                if a.public_key.is_none() {
                    return Err(DomainError::invalid(
                        "public_attachments",
                        format!("tệp “{id}” không có bản công khai đã xóa siêu dữ liệu nên không thể công khai"),
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
            // Đ.8.2: the decision on a unit's flag, if one was pending.
            r.flags.possibly_secret = false;
        }
        Command::FlagSecret { reason } => {
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            entry.visible_to_reporter = false;
            r.flags.possibly_secret = true;
            // Đ.8.2: the IOC head and the leadership are told there is a decision to make.
            events.push(DomainEvent::SecretFlagged);
        }
        Command::ClearSecretFlag { note } => {
            entry.note = Some(required_text("note", &note, MAX_NOTE)?);
            entry.visible_to_reporter = false;
            r.flags.possibly_secret = false;
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
            // Local choice (the regulation is silent): within city.toml's reopen_window_days.
            if !super::within_reopen_window(&r, rules, now) {
                return Err(DomainError::invalid(
                    "reason",
                    format!(
                        "đã quá {} ngày kể từ khi công khai kết quả, không thể đề nghị xử lý lại",
                        rules.config.city.reopen_window_days
                    ),
                ));
            }
            // Back to IOC triage: the IOC head decides who handles it again. The case is open
            // again for statistics and deadlines: the old result stays on the timeline (and its
            // evidence among the attachments, Đ.7.3), not as the report's resolution.
            r.state = Screened;
            r.rating = None;
            r.resolution = None;
            r.deferral = None;
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
            let mut due = due_thresholds(&r, rules, now);
            // Issue 13: the waiting state's timer, once per occurrence of the state.
            if let Some((key, timer, at)) = super::waiting::unsent_waiting_timer(&r, rules) {
                if at <= now {
                    due.push((key, timer.level()));
                }
            }
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
        Command::RequestShare {
            recipient,
            reason,
            personal_data,
        } => {
            // Đ.4.4: who asks (the entry's actor), for whom and why; both required.
            let recipient = required_text("recipient", &recipient, 500)?;
            entry.note = Some(required_text("reason", &reason, MAX_NOTE)?);
            entry.data = serde_json::json!({
                "recipient": recipient,
                "personal_data": personal_data,
            });
            entry.visible_to_reporter = false;
        }
        Command::DecideShare {
            request,
            approve,
            note,
        } => {
            // Đ.4.4: nothing leaves before a leader's consent; decided once.
            super::share::share_state(&r, request)?.undecided()?;
            entry.note = optional_text("note", &note, MAX_NOTE)?;
            entry.data = serde_json::json!({ "request": request, "approved": approve });
            entry.visible_to_reporter = false;
        }
        Command::ReleaseShare { request } => {
            super::share::share_state(&r, request)?.releasable()?;
            entry.data = serde_json::json!({
                "request": request,
                "watermark": super::share::watermark(&r.id, request),
            });
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
