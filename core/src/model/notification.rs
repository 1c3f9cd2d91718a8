//! The kinds of notification and their message keys in the city's config.

/// The kinds of notification, each a set of message texts in the city's config
/// (`<key>.sms`, `<key>.email_subject`, `<key>.email_body`). Config validation iterates
/// [`NotificationKind::ALL`], so a kind cannot be sent without its texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Assigned,
    LeadershipInformed,
    EscalationUnitHead,
    EscalationIoc,
    EscalationLeadership,
    Urged,
    PublishedReporter,
    Directive,
    Returned,
    Deferred,
    Referred,
    Resolved,
    Reopened,
    RejectedReporter,
    /// Issue 13, waiting timers (`[waiting]` of city.toml).
    WaitingTriage,
    WaitingReferral,
    WaitingReturned,
    WaitingPublication,
    DeferralOverdue,
    /// Issue 13: the reporter's updates (never staff names or internal notes).
    ReceivedReporter,
    AssignedReporter,
    DeferredReporter,
    ResolvedReporter,
    /// Issue 12 item 6 (Đ.8.2): a report flagged as possibly secret, to the IOC head and the
    /// leadership; its texts may not carry `{title}` (config validation).
    SecretFlagged,
    /// Đ.7.5: a leader or the IOC head decided on a deferral (the unit and the office; the
    /// reporter of an accepted one, with the target date).
    DeferralAccepted,
    DeferralRefused,
    DeferralAcceptedReporter,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 27] = [
        NotificationKind::Assigned,
        NotificationKind::LeadershipInformed,
        NotificationKind::EscalationUnitHead,
        NotificationKind::EscalationIoc,
        NotificationKind::EscalationLeadership,
        NotificationKind::Urged,
        NotificationKind::PublishedReporter,
        NotificationKind::Directive,
        NotificationKind::Returned,
        NotificationKind::Deferred,
        NotificationKind::Referred,
        NotificationKind::Resolved,
        NotificationKind::Reopened,
        NotificationKind::RejectedReporter,
        NotificationKind::WaitingTriage,
        NotificationKind::WaitingReferral,
        NotificationKind::WaitingReturned,
        NotificationKind::WaitingPublication,
        NotificationKind::DeferralOverdue,
        NotificationKind::ReceivedReporter,
        NotificationKind::AssignedReporter,
        NotificationKind::DeferredReporter,
        NotificationKind::ResolvedReporter,
        NotificationKind::SecretFlagged,
        NotificationKind::DeferralAccepted,
        NotificationKind::DeferralRefused,
        NotificationKind::DeferralAcceptedReporter,
    ];

    /// The message key prefix in the city's config.
    pub fn key(self) -> &'static str {
        match self {
            NotificationKind::Assigned => "notify.assigned",
            NotificationKind::LeadershipInformed => "notify.leadership_informed",
            NotificationKind::EscalationUnitHead => "notify.escalation.unit_head",
            NotificationKind::EscalationIoc => "notify.escalation.ioc",
            NotificationKind::EscalationLeadership => "notify.escalation.leadership",
            NotificationKind::Urged => "notify.urged",
            NotificationKind::PublishedReporter => "notify.published.reporter",
            NotificationKind::Directive => "notify.directive",
            NotificationKind::Returned => "notify.returned",
            NotificationKind::Deferred => "notify.deferred",
            NotificationKind::Referred => "notify.referred",
            NotificationKind::Resolved => "notify.resolved",
            NotificationKind::Reopened => "notify.reopened",
            NotificationKind::RejectedReporter => "notify.rejected.reporter",
            NotificationKind::WaitingTriage => "notify.waiting.triage",
            NotificationKind::WaitingReferral => "notify.waiting.referral",
            NotificationKind::WaitingReturned => "notify.waiting.returned",
            NotificationKind::WaitingPublication => "notify.waiting.publication",
            NotificationKind::DeferralOverdue => "notify.waiting.deferral_overdue",
            NotificationKind::ReceivedReporter => "notify.received.reporter",
            NotificationKind::AssignedReporter => "notify.assigned.reporter",
            NotificationKind::DeferredReporter => "notify.deferred.reporter",
            NotificationKind::ResolvedReporter => "notify.resolved.reporter",
            NotificationKind::SecretFlagged => "notify.secret_flagged",
            NotificationKind::DeferralAccepted => "notify.deferral_decision.accepted",
            NotificationKind::DeferralRefused => "notify.deferral_decision.refused",
            NotificationKind::DeferralAcceptedReporter => {
                "notify.deferral_decision.accepted.reporter"
            }
        }
    }
}
