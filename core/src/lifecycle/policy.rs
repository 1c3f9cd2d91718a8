//! Who may do what, from which state: the permission and state tables of the regulation, and
//! the visibility and unit-scope checks every action passes before anything else is looked at.
//! Tables only: no input validation, no state change.

use crate::error::DomainError;
use crate::model::*;
use Role::*;
use State::*;

/// Roles allowed to perform each action (Đ.4, Đ.7, Đ.8, Đ.9; docs/domain.md "Actors and roles").
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
        // Đ.8.2: the head of the unit handling it raises the question; the IOC head or a
        // leader decides (mark_secret, or clear_secret_flag).
        Action::FlagSecret => &[UnitHead],
        Action::ClearSecretFlag => &[IocHead, Leader],
        // Đ.7.5: the unit reports to the city's People's Committee; its leaders decide, or the
        // IOC head, who receives and follows reports on their behalf (Đ.7.1, Đ.7.2).
        Action::DecideDeferral => &[Leader, IocHead],
        Action::Reject => &[IocOperator, IocHead],
        Action::Close => &[IocHead, System],
        Action::Reopen | Action::Rate => &[Citizen],
        Action::RevealReporter => &[IocHead, Leader], // Đ.4.4: only roles that need it
        // Đ.4.4: staff who deal with outside bodies ask; only the city's leadership decides;
        // the IOC head or the office hands the approved export over.
        Action::RequestShare => &[IocHead, Leader, OfficeAdmin],
        Action::DecideShare => &[Leader],
        Action::ReleaseShare => &[IocHead, Leader, OfficeAdmin],
        Action::ViewStats => &[OfficeAdmin, Leader, IocHead, IocOperator], // Đ.9.2
        // Đ.4.1, Đ.9.2: the office issues accounts; System is the operator at the machine (CLI).
        Action::ManageAccounts => &[OfficeAdmin, System],
        // Đ.7.2: the office follows the units' handling, the IOC coordinates it.
        Action::ManageNotifications => &[OfficeAdmin, IocHead, IocOperator],
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
        Action::DecideDeferral => &[Deferred],
        Action::Return => &[Assigned, InProgress],
        Action::Reclassify => &[Screened, Returned, Referred],
        // Đ.9.2: wrong unit → reassign; Đ.7.4.k: the office routes "other" from triage.
        Action::Reassign => &[Screened, Returned, Assigned, InProgress, Deferred],
        Action::Urge => &[Assigned, InProgress, Deferred],
        Action::Publish => &[Resolved],
        Action::MarkSecret => &[
            Submitted, Screened, Assigned, InProgress, Resolved, Referred, Deferred, Returned,
        ],
        // While the unit handles it (the lead unit's scope is checked in `authorize`).
        Action::FlagSecret => &[Assigned, InProgress, Deferred, Resolved],
        Action::ClearSecretFlag => &State::ALL,
        Action::Reject => &[Submitted, Screened, Referred],
        Action::Close => &[Published],
        Action::Reopen => &[Published],
        Action::Rate => &[Published, Closed],
        // The unit's deadline thresholds (Assigned, InProgress) and the waiting timers.
        Action::Escalate => &[
            Submitted, Screened, Assigned, InProgress, Referred, Returned, Resolved, Deferred,
        ],
        Action::RevealReporter
        | Action::ViewStats
        | Action::ManageAccounts
        | Action::ManageNotifications => &State::ALL,
        Action::RequestShare | Action::DecideShare | Action::ReleaseShare => &State::ALL,
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

pub(super) fn check_state(report: &Report, action: Action) -> Result<(), DomainError> {
    // Đ.8.2: the secrecy flags are part of the report's state: a flag is raised once, on a
    // report not yet secret, and cleared only while raised.
    let flags_allow = match action {
        Action::FlagSecret => !report.flags.possibly_secret && !report.flags.state_secret,
        Action::ClearSecretFlag => report.flags.possibly_secret,
        // Đ.7.5: a deferral is decided once; a new deferral (after resuming) is decided anew.
        Action::DecideDeferral => report.deferral_pending(),
        _ => true,
    };
    if flags_allow && allowed_states(action).contains(&report.state) {
        Ok(())
    } else {
        Err(DomainError::InvalidState {
            state: report.state,
            action,
        })
    }
}

/// The actions on a report that a person may take from a page now: those their role, their
/// unit scope and the report's state allow (the same checks `apply` makes first). Input rules
/// (a reason, evidence) are still checked when the action is taken.
pub fn available_actions(report: &Report, actor: &Actor) -> Vec<Action> {
    REPORT_ACTIONS
        .into_iter()
        .filter(|a| authorize(report, *a, actor).is_ok() && check_state(report, *a).is_ok())
        // Đ.8.2: a report touching state secrets is published only by a leader.
        .filter(|a| !(*a == Action::Publish && report.flags.state_secret && actor.role != Leader))
        .collect()
}

/// The actions a person takes on an existing report (what pages offer as forms).
pub const REPORT_ACTIONS: [Action; 21] = [
    Action::Assign,
    Action::Refer,
    Action::Directive,
    Action::Accept,
    Action::Progress,
    Action::AddNote,
    Action::Resolve,
    Action::Defer,
    Action::Resume,
    Action::DecideDeferral,
    Action::Return,
    Action::Reclassify,
    Action::Reassign,
    Action::Urge,
    Action::Publish,
    Action::MarkSecret,
    Action::FlagSecret,
    Action::ClearSecretFlag,
    Action::Reject,
    Action::Close,
    Action::RevealReporter,
];
