//! Lifecycle states of a report and the actions its timeline records.

use serde::{Deserialize, Serialize};

/// Lifecycle states (docs/domain.md, "Report states and transitions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Screened,
    Assigned,
    InProgress,
    Resolved,
    Published,
    Closed,
    Rejected,
    Referred,
    Deferred,
    Returned,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Submitted,
        State::Screened,
        State::Assigned,
        State::InProgress,
        State::Resolved,
        State::Published,
        State::Closed,
        State::Rejected,
        State::Referred,
        State::Deferred,
        State::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Screened => "screened",
            State::Assigned => "assigned",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Published => "published",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Referred => "referred",
            State::Deferred => "deferred",
            State::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.iter().copied().find(|st| st.as_str() == s)
    }

    /// States in which a unit is on the clock (the deadline counts).
    pub fn unit_clock_running(self) -> bool {
        matches!(self, State::Assigned | State::InProgress)
    }

    /// Terminal or public-facing end states: no more handling.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Rejected)
    }

    /// Handling has ended (result exists or the case was closed).
    pub fn handling_ended(self) -> bool {
        matches!(
            self,
            State::Resolved | State::Published | State::Closed | State::Rejected
        )
    }
}

/// The action an entry records. Stable snake_case names used in API output and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    CreateFromCamera,
    Screen,
    Assign,
    InformLeadership,
    Refer,
    Directive,
    Accept,
    Progress,
    AddNote,
    Resolve,
    Defer,
    Resume,
    Return,
    Reclassify,
    Reassign,
    Urge,
    Publish,
    Reject,
    Close,
    Reopen,
    Rate,
    Escalate,
    RevealReporter,
    /// Đ.4.4: a request to share a report outside the city (who asks, for whom, why).
    RequestShare,
    /// Đ.4.4: a leader approves or refuses a share request.
    DecideShare,
    /// Đ.4.4: the approved share is released (a watermarked export).
    ReleaseShare,
    MarkSecret,
    /// Đ.8.2: the lead unit's head flags a report as possibly touching state secrets, for the
    /// IOC head or a leader to decide (mark it secret, or clear the flag).
    FlagSecret,
    /// Đ.8.2: the IOC head or a leader decides a flag is unfounded and clears it.
    ClearSecretFlag,
    /// Đ.7.5: a leader or the IOC head accepts a unit's deferral (setting the target date) or
    /// refuses it (the unit handles it again under the regulated deadline).
    DecideDeferral,
    ViewStats,
    /// Đ.4.1, Đ.9.2: create, disable, enable staff accounts and reset their passwords.
    ManageAccounts,
    /// Đ.7.2: see who was told what, and re-send a notification that could not be delivered.
    ManageNotifications,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::CreateFromCamera => "create_from_camera",
            Action::Screen => "screen",
            Action::Assign => "assign",
            Action::InformLeadership => "inform_leadership",
            Action::Refer => "refer",
            Action::Directive => "directive",
            Action::Accept => "accept",
            Action::Progress => "progress",
            Action::AddNote => "add_note",
            Action::Resolve => "resolve",
            Action::Defer => "defer",
            Action::Resume => "resume",
            Action::Return => "return",
            Action::Reclassify => "reclassify",
            Action::Reassign => "reassign",
            Action::Urge => "urge",
            Action::Publish => "publish",
            Action::Reject => "reject",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Rate => "rate",
            Action::Escalate => "escalate",
            Action::RevealReporter => "reveal_reporter",
            Action::RequestShare => "request_share",
            Action::DecideShare => "decide_share",
            Action::ReleaseShare => "release_share",
            Action::MarkSecret => "mark_secret",
            Action::FlagSecret => "flag_secret",
            Action::ClearSecretFlag => "clear_secret_flag",
            Action::DecideDeferral => "decide_deferral",
            Action::ViewStats => "view_stats",
            Action::ManageAccounts => "manage_accounts",
            Action::ManageNotifications => "manage_notifications",
        }
    }
}
