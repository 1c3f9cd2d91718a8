//! Every SMS text of the Lai Châu config, filled with realistic values as notifications fill
//! them: sent without diacritics, all in the GSM-7 alphabet, in the number of parts stated
//! here (issue 13). A text that grows past a part boundary fails this test on purpose.

use phananh_core::app::notifications::render_sms;
use phananh_core::delivery::sms_segments;
use phananh_core::model::NotificationKind;
use phananh_testkit::fixtures::rules;

/// Realistic values: the short id notifications use, the longest category name, a local due
/// instant, a typical title, a deferral date and a rejection reason.
fn vars() -> Vec<(&'static str, String)> {
    let longest_category = rules()
        .config
        .categories
        .iter()
        .map(|c| c.name.clone())
        .max_by_key(|n| n.chars().count())
        .unwrap();
    vec![
        ("report_id", "3fa85f64".into()),
        ("category", longest_category),
        ("due", "16:30 30/11/2026".into()),
        (
            "title",
            "Rác thải ùn ứ nhiều ngày trước cổng chợ Tân Phong".into(),
        ),
        ("expected_date", "31/12/2026".into()),
        ("target_date", "15/01/2027".into()),
        (
            "reason",
            "Nội dung trùng với phản ánh đã được xử lý trước đó.".into(),
        ),
        ("code", "483920".into()),
        ("minutes", "5".into()),
    ]
}

#[test]
fn every_sms_is_gsm7_without_diacritics_in_the_stated_number_of_parts() {
    let r = rules();
    let owned = vars();
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut keys: Vec<String> = NotificationKind::ALL
        .iter()
        .map(|k| format!("{}.sms", k.key()))
        .collect();
    keys.push("sign_in.code.sms".into());
    let mut got = Vec::new();
    for key in &keys {
        let text = render_sms(r, key, &vars);
        assert!(!text.contains('{'), "{key}: unfilled placeholder: {text}");
        let s = sms_segments(&text);
        assert!(s.gsm7, "{key} is not GSM-7: {text}");
        got.push((key.as_str(), s.units, s.segments));
    }
    // (key, GSM-7 septets, parts): every text fits one 160-septet SMS.
    let want: &[(&str, usize, usize)] = &[
        ("notify.assigned.sms", 105, 1),
        ("notify.leadership_informed.sms", 104, 1),
        ("notify.escalation.unit_head.sms", 89, 1),
        ("notify.escalation.ioc.sms", 92, 1),
        ("notify.escalation.leadership.sms", 101, 1),
        ("notify.urged.sms", 65, 1),
        ("notify.published.reporter.sms", 69, 1),
        ("notify.directive.sms", 82, 1),
        ("notify.returned.sms", 70, 1),
        ("notify.deferred.sms", 92, 1),
        ("notify.referred.sms", 65, 1),
        ("notify.resolved.sms", 112, 1),
        ("notify.reopened.sms", 145, 1),
        ("notify.rejected.reporter.sms", 109, 1),
        ("notify.waiting.triage.sms", 113, 1),
        ("notify.waiting.referral.sms", 98, 1),
        ("notify.waiting.returned.sms", 94, 1),
        ("notify.waiting.publication.sms", 97, 1),
        ("notify.waiting.deferral_overdue.sms", 109, 1),
        ("notify.received.reporter.sms", 74, 1),
        ("notify.assigned.reporter.sms", 82, 1),
        ("notify.deferred.reporter.sms", 80, 1),
        ("notify.resolved.reporter.sms", 79, 1),
        ("notify.secret_flagged.sms", 133, 1),
        ("notify.deferral_decision.accepted.sms", 119, 1),
        ("notify.deferral_decision.refused.sms", 136, 1),
        ("notify.deferral_decision.accepted.reporter.sms", 67, 1),
        ("sign_in.code.sms", 82, 1),
    ];
    assert_eq!(got, want.to_vec());
}
