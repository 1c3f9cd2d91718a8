//! The lifecycle, read against the regulation (Quyết định 3403/QĐ-UBND, Lai Châu).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use phananh_core::lifecycle::{self, allowed_roles, allowed_states, apply, Command, NewReport};
use phananh_core::model::*;
use phananh_core::views;
use phananh_core::{CityRules, DomainError};
use proptest::prelude::*;

fn rules() -> CityRules {
    CityRules::laichau_default().expect("default config is valid")
}

/// Wednesday 2026-11-25 09:00 in Lai Châu (UTC+7).
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap()
}

fn citizen() -> Actor {
    Actor::new("dev-citizen-1", Role::Citizen, None)
}
fn other_citizen() -> Actor {
    Actor::new("dev-citizen-2", Role::Citizen, None)
}
fn ioc_op() -> Actor {
    Actor::new("acc-op", Role::IocOperator, Some("ioc"))
}
fn ioc_head() -> Actor {
    Actor::new("acc-head", Role::IocHead, Some("ioc"))
}
fn leader() -> Actor {
    Actor::new("acc-leader", Role::Leader, Some("lanh_dao_ubnd"))
}
fn office() -> Actor {
    Actor::new("acc-office", Role::OfficeAdmin, Some("van_phong"))
}
fn staff_of(unit: &str) -> Actor {
    Actor::new(format!("acc-staff-{unit}"), Role::UnitStaff, Some(unit))
}
fn head_of(unit: &str) -> Actor {
    Actor::new(format!("acc-head-{unit}"), Role::UnitHead, Some(unit))
}
fn system() -> Actor {
    Actor::system()
}

const LEAD: &str = "phong_kinh_te";
const COORD: &str = "ubnd_tan_phong";
const OTHER_UNIT: &str = "phong_vhtt";

fn photo(id: &str) -> Attachment {
    Attachment {
        id: id.into(),
        kind: MediaKind::Photo,
        content_type: "image/jpeg".into(),
        size: 1000,
        key: format!("uploads/x/{id}"),
        public_key: Some(format!("public/x/{id}.jpg")),
        public: false,
        thumb_key: None,
        location_hint: None,
    }
}

fn new_report(category: &str, title: &str, description: &str) -> NewReport {
    NewReport {
        category: category.into(),
        title: title.into(),
        description: description.into(),
        location: Some(GeoPoint {
            lat: 22.396,
            lon: 103.458,
        }),
        address: Some("Đường Trần Phú".into()),
        reporter_ward: None,
        attachments: vec![photo("p1")],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Nguyễn Văn An".into()),
            phone: Some("0912345678".into()),
            email: Some("an@example.vn".into()),
        }),
        camera_id: None,
    }
}

fn submitted(r: &CityRules) -> Report {
    lifecycle::submit(
        ReportId("r1".into()),
        new_report(
            "market_prices",
            "Quán ăn chặt chém du khách",
            "Quán bán giá cao gấp ba lần niêm yết, không niêm yết giá.",
        ),
        &citizen(),
        t0(),
        r,
    )
    .expect("submit")
    .report
}

fn step(r: &CityRules, rep: &Report, cmd: Command, actor: &Actor, at: DateTime<Utc>) -> Report {
    apply(rep, cmd, actor, at, r)
        .unwrap_or_else(|e| panic!("step failed: {e:?}"))
        .report
}

fn assign_cmd() -> Command {
    Command::Assign {
        lead_unit: LEAD.into(),
        coordinating_units: vec![COORD.into()],
        note: None,
    }
}

/// A report in `state`, reached through legal actions only.
fn report_in(r: &CityRules, state: State) -> Report {
    let at = t0();
    let s0 = submitted(r);
    if state == State::Submitted {
        return s0;
    }
    let s1 = step(
        r,
        &s0,
        Command::Screen {
            possible_duplicates: vec![],
        },
        &system(),
        at,
    );
    match state {
        State::Screened => return s1,
        State::Referred => {
            return step(
                r,
                &s1,
                Command::Refer {
                    note: "Liên quan nhiều ngành".into(),
                },
                &ioc_head(),
                at,
            )
        }
        State::Rejected => {
            return step(
                r,
                &s1,
                Command::Reject {
                    reason: "Trùng lặp".into(),
                },
                &ioc_head(),
                at,
            )
        }
        _ => {}
    }
    let s2 = step(r, &s1, assign_cmd(), &ioc_head(), at);
    match state {
        State::Assigned => return s2,
        State::Returned => {
            return step(
                r,
                &s2,
                Command::Return {
                    reason: "Không đúng thẩm quyền".into(),
                    suggested_category: None,
                },
                &staff_of(LEAD),
                at,
            )
        }
        _ => {}
    }
    let s3 = step(r, &s2, Command::Accept { note: None }, &staff_of(LEAD), at);
    match state {
        State::InProgress => return s3,
        State::Deferred => {
            return step(
                r,
                &s3,
                Command::Defer {
                    reason: "Chờ kết quả kiểm định".into(),
                    expected_date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
                },
                &staff_of(LEAD),
                at,
            )
        }
        _ => {}
    }
    let s4 = step(
        r,
        &s3,
        Command::Resolve {
            summary: "Đã kiểm tra, xử phạt và yêu cầu niêm yết giá".into(),
            evidence: vec![photo("e1")],
        },
        &staff_of(LEAD),
        at,
    );
    if state == State::Resolved {
        return s4;
    }
    let s5 = step(
        r,
        &s4,
        Command::Publish {
            public_answer: "Cơ sở đã bị xử phạt và niêm yết giá.".into(),
            public_attachments: vec!["e1".into()],
        },
        &ioc_head(),
        at,
    );
    if state == State::Published {
        return s5;
    }
    assert_eq!(state, State::Closed);
    step(r, &s5, Command::Close { note: None }, &ioc_head(), at)
}

/// A valid command for each action, with the actor who may perform it on `report_in(...)`.
fn sample(action: Action) -> Option<(Command, Actor)> {
    let unit = staff_of(LEAD);
    Some(match action {
        Action::Screen => (
            Command::Screen {
                possible_duplicates: vec![],
            },
            system(),
        ),
        Action::Assign => (assign_cmd(), ioc_head()),
        Action::Refer => (
            Command::Refer {
                note: "Phức tạp".into(),
            },
            ioc_head(),
        ),
        Action::Directive => (
            Command::Directive {
                text: "Yêu cầu xử lý ngay".into(),
                corrects: None,
            },
            leader(),
        ),
        Action::Accept => (Command::Accept { note: None }, unit),
        Action::Progress => (
            Command::Progress {
                note: "Đang xác minh".into(),
                attachments: vec![],
            },
            unit,
        ),
        Action::AddNote => (
            Command::AddNote {
                note: "Ghi chú".into(),
                attachments: vec![],
            },
            ioc_op(),
        ),
        Action::Resolve => (
            Command::Resolve {
                summary: "Đã xử lý".into(),
                evidence: vec![photo("e9")],
            },
            unit,
        ),
        Action::Defer => (
            Command::Defer {
                reason: "Chờ".into(),
                expected_date: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            },
            unit,
        ),
        Action::Resume => (Command::Resume { note: None }, unit),
        Action::DecideDeferral => (
            Command::DecideDeferral {
                accept: true,
                target_date: None,
                note: None,
            },
            leader(),
        ),
        Action::Return => (
            Command::Return {
                reason: "Sai thẩm quyền".into(),
                suggested_category: None,
            },
            unit,
        ),
        Action::Reclassify => (
            Command::Reclassify {
                category: "culture_tourism".into(),
                note: None,
            },
            office(),
        ),
        Action::Reassign => (
            Command::Reassign {
                lead_unit: OTHER_UNIT.into(),
                coordinating_units: vec![],
                note: "Chuyển đúng đơn vị".into(),
            },
            office(),
        ),
        Action::Urge => (
            Command::Urge {
                note: "Đề nghị khẩn trương".into(),
            },
            office(),
        ),
        Action::Publish => (
            Command::Publish {
                public_answer: "Đã xử lý".into(),
                public_attachments: vec![],
            },
            ioc_head(),
        ),
        Action::MarkSecret => (
            Command::MarkSecret {
                note: "Bí mật nhà nước".into(),
            },
            leader(),
        ),
        Action::FlagSecret => (
            Command::FlagSecret {
                reason: "Liên quan khu vực quân sự".into(),
            },
            head_of(LEAD),
        ),
        Action::ClearSecretFlag => (
            Command::ClearSecretFlag {
                note: "Không thuộc danh mục bí mật".into(),
            },
            ioc_head(),
        ),
        Action::Reject => (
            Command::Reject {
                reason: "Ngoài phạm vi".into(),
            },
            ioc_head(),
        ),
        Action::Close => (Command::Close { note: None }, ioc_head()),
        Action::Reopen => (
            Command::Reopen {
                reason: "Chưa khắc phục".into(),
            },
            citizen(),
        ),
        Action::Rate => (
            Command::Rate {
                stars: 4,
                comment: None,
            },
            citizen(),
        ),
        Action::RevealReporter => (
            Command::RevealReporter {
                reason: "Cần liên hệ xác minh".into(),
            },
            ioc_head(),
        ),
        Action::RequestShare => (
            Command::RequestShare {
                recipient: "Công an tỉnh".into(),
                reason: "Phục vụ điều tra".into(),
                personal_data: true,
            },
            ioc_head(),
        ),
        Action::DecideShare => (
            Command::DecideShare {
                request: 0,
                approve: true,
                note: None,
            },
            leader(),
        ),
        Action::ReleaseShare => (Command::ReleaseShare { request: 0 }, ioc_head()),
        // Escalate depends on time; Submit/CreateFromCamera/InformLeadership/ViewStats are not commands.
        _ => return None,
    })
}

const ALL_ACTIONS: [Action; 27] = [
    Action::Screen,
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
    Action::Reopen,
    Action::Rate,
    Action::RevealReporter,
    Action::RequestShare,
    Action::DecideShare,
    Action::ReleaseShare,
];

fn actor_with_role(role: Role) -> Actor {
    match role {
        Role::Citizen => citizen(),
        Role::IocOperator => ioc_op(),
        Role::IocHead => ioc_head(),
        Role::UnitStaff => staff_of(LEAD),
        Role::UnitHead => head_of(LEAD),
        Role::Leader => leader(),
        Role::OfficeAdmin => office(),
        Role::System => system(),
    }
}

#[test]
fn every_action_is_refused_for_a_wrong_role() {
    let r = rules();
    let all_roles = [
        Role::Citizen,
        Role::IocOperator,
        Role::IocHead,
        Role::UnitStaff,
        Role::UnitHead,
        Role::Leader,
        Role::OfficeAdmin,
        Role::System,
    ];
    for action in ALL_ACTIONS {
        let (cmd, _) = sample(action).unwrap();
        let state = allowed_states(action)[0];
        let rep = report_in(&r, state);
        for role in all_roles {
            if allowed_roles(action).contains(&role) {
                continue;
            }
            let err = apply(&rep, cmd.clone(), &actor_with_role(role), t0(), &r).unwrap_err();
            assert!(
                matches!(err, DomainError::Forbidden { .. }),
                "{action:?} by {role:?} must be forbidden, got {err:?}"
            );
        }
    }
}

#[test]
fn every_unit_action_is_refused_for_a_wrong_unit() {
    // Đ.7.4 / Đ.9.1: a unit handles only what the IOC assigned to it.
    let r = rules();
    for action in [
        Action::Accept,
        Action::Progress,
        Action::AddNote,
        Action::Resolve,
        Action::Defer,
        Action::Return,
        Action::Resume,
    ] {
        let (cmd, _) = sample(action).unwrap();
        let state = allowed_states(action)
            .iter()
            .copied()
            .find(|s| matches!(s, State::Assigned | State::InProgress | State::Deferred))
            .unwrap();
        let rep = report_in(&r, state);
        for outsider in [staff_of(OTHER_UNIT), head_of(OTHER_UNIT)] {
            let err = apply(&rep, cmd.clone(), &outsider, t0(), &r).unwrap_err();
            assert!(
                matches!(err, DomainError::OutOfUnitScope { .. }),
                "{action:?} by another unit must be refused, got {err:?}"
            );
        }
    }
}

#[test]
fn a_citizen_acts_only_on_their_own_report() {
    let r = rules();
    let rep = report_in(&r, State::Published);
    for cmd in [
        Command::Rate {
            stars: 5,
            comment: None,
        },
        Command::Reopen {
            reason: "Chưa sửa".into(),
        },
    ] {
        assert_eq!(
            apply(&rep, cmd, &other_citizen(), t0(), &r).unwrap_err(),
            DomainError::NotOwner
        );
    }
}

#[test]
fn every_action_is_refused_in_a_wrong_state() {
    let r = rules();
    // Every state is reachable through legal actions (`report_in`).
    let reachable = State::ALL;
    for action in ALL_ACTIONS {
        let (cmd, actor) = sample(action).unwrap();
        for state in reachable {
            if allowed_states(action).contains(&state) {
                continue;
            }
            let rep = report_in(&r, state);
            let err = apply(&rep, cmd.clone(), &actor, t0(), &r).unwrap_err();
            // Unit actors lose scope on reports never assigned to them: also a refusal, but we
            // want the state rule itself here, so only count InvalidState or scope-before-state.
            assert!(
                matches!(err, DomainError::InvalidState { .. })
                    || (actor.role.is_unit_role()
                        && matches!(err, DomainError::OutOfUnitScope { .. })),
                "{action:?} in {state:?} must be refused by state, got {err:?}"
            );
        }
    }
}

#[test]
fn d7_2_ioc_head_assigns_with_deadline_and_informs_leadership() {
    let r = rules();
    let rep = report_in(&r, State::Screened);
    let t = apply(&rep, assign_cmd(), &ioc_head(), t0(), &r).unwrap();
    let a = t.report.assignment.as_ref().unwrap();
    assert_eq!(a.lead_unit, LEAD);
    assert_eq!(a.coordinating_units, vec![COORD.to_string()]);
    // Đ.7.4.d: market prices — 4 hours from when the unit receives it.
    assert_eq!(a.due_at, t0() + Duration::hours(4));
    let kinds: Vec<_> = t.events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, vec!["report_assigned", "leadership_informed"]);
    assert_eq!(t.report.state, State::Assigned);
    assert_eq!(t.report.version, rep.version + 1);
}

#[test]
fn d7_4_a_service_attitude_report_runs_on_working_hours() {
    // Đ.7.4.a: 8 working hours. Friday 2026-11-27 16:30 local → Monday 2026-11-30 16:30.
    let r = rules();
    let fri_1630 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 0).unwrap();
    let rep = lifecycle::submit(
        ReportId("r2".into()),
        new_report(
            "service_attitude",
            "Cán bộ gây phiền hà",
            "Cán bộ một cửa yêu cầu nộp thêm giấy tờ không có trong quy định.",
        ),
        &citizen(),
        fri_1630,
        &r,
    )
    .unwrap()
    .report;
    let rep = step(
        &r,
        &rep,
        Command::Screen {
            possible_duplicates: vec![],
        },
        &system(),
        fri_1630,
    );
    let rep = step(
        &r,
        &rep,
        Command::Assign {
            lead_unit: "phong_noi_vu".into(),
            coordinating_units: vec![],
            note: None,
        },
        &ioc_head(),
        fri_1630,
    );
    let due = rep.assignment.unwrap().due_at;
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 30, 9, 30, 0).unwrap());
}

#[test]
fn d6_3_complaints_denunciations_and_legal_advice_are_not_received() {
    let r = rules();
    for (text, code) in [
        (
            "Tôi làm đơn khiếu nại quyết định thu hồi đất của UBND phường",
            "complaint",
        ),
        ("Tố cáo cán bộ địa chính nhận hối lộ", "denunciation"),
        ("Xin tư vấn pháp luật về thủ tục thừa kế", "legal_advice"),
    ] {
        let err = lifecycle::submit(
            ReportId("x".into()),
            new_report("other", "Đề nghị", text),
            &citizen(),
            t0(),
            &r,
        )
        .unwrap_err();
        match err {
            DomainError::OutOfScope { code: c, guidance } => {
                assert_eq!(c, code);
                assert!(
                    !guidance.is_empty() && !guidance.starts_with("guidance."),
                    "guidance text: {guidance}"
                );
            }
            other => panic!("{text}: expected out of scope, got {other:?}"),
        }
    }
}

#[test]
fn d7_1_ioc_operators_create_reports_from_cameras() {
    let r = rules();
    let mut input = new_report(
        "traffic_security",
        "Xe đỗ sai quy định",
        "Camera phát hiện xe tải đỗ trên vỉa hè.",
    );
    input.reporter = None;
    input.camera_id = Some("CAM-017".into());
    let t = lifecycle::submit(ReportId("c1".into()), input.clone(), &ioc_op(), t0(), &r).unwrap();
    assert_eq!(
        t.report.source,
        Source::Camera {
            camera_id: "CAM-017".into()
        }
    );
    assert!(t.report.reporter.is_none());
    // A unit officer or a leader cannot create reports.
    for a in [staff_of(LEAD), leader()] {
        assert!(matches!(
            lifecycle::submit(ReportId("c2".into()), input.clone(), &a, t0(), &r),
            Err(DomainError::Forbidden { .. })
        ));
    }
    // Without a camera id an operator's report is refused, naming the field.
    input.camera_id = None;
    assert!(matches!(
        lifecycle::submit(ReportId("c3".into()), input, &ioc_op(), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "camera_id"
    ));
}

#[test]
fn d7_3_a_result_needs_records_or_photos() {
    let r = rules();
    let rep = report_in(&r, State::InProgress);
    let err = apply(
        &rep,
        Command::Resolve {
            summary: "Xong".into(),
            evidence: vec![],
        },
        &staff_of(LEAD),
        t0(),
        &r,
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "evidence"));
    // With evidence the result is recorded forever, on time before the deadline.
    let done = step(
        &r,
        &rep,
        Command::Resolve {
            summary: "Đã xử lý".into(),
            evidence: vec![photo("e1")],
        },
        &staff_of(LEAD),
        t0() + Duration::hours(1),
    );
    let res = done.resolution.unwrap();
    assert!(res.on_time);
    assert_eq!(res.evidence, vec!["e1".to_string()]);
    assert!(done.attachments.iter().any(|a| a.id == "e1"));
}

#[test]
fn d7_4_a_coordinating_unit_adds_notes_but_only_the_lead_resolves() {
    let r = rules();
    let rep = report_in(&r, State::InProgress);
    let coord = staff_of(COORD);
    step(
        &r,
        &rep,
        Command::Progress {
            note: "Phường đã cử người".into(),
            attachments: vec![photo("c1")],
        },
        &coord,
        t0(),
    );
    assert!(matches!(
        apply(
            &rep,
            Command::Resolve {
                summary: "x".into(),
                evidence: vec![photo("e")]
            },
            &coord,
            t0(),
            &r
        ),
        Err(DomainError::OutOfUnitScope { .. })
    ));
}

#[test]
fn d7_5_deferral_needs_a_reason_and_an_expected_date_not_in_the_past() {
    let r = rules();
    let rep = report_in(&r, State::InProgress);
    let past = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert!(matches!(
        apply(&rep, Command::Defer { reason: "Chờ".into(), expected_date: past }, &staff_of(LEAD), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "expected_date"
    ));
    assert!(matches!(
        apply(&rep, Command::Defer { reason: "  ".into(), expected_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() }, &staff_of(LEAD), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "reason"
    ));
    let d = report_in(&r, State::Deferred);
    // While deferred the unit's clock does not run: no deadline threshold is scheduled, only
    // the alert for a deferral still open after its expected date (Đ.7.5, issue 13).
    let expected = d.deferral.as_ref().unwrap().expected_date;
    assert_eq!(
        d.escalation.next_at,
        r.local_day_start(expected.succ_opt().unwrap())
    );
    assert!(!d.is_overdue(t0() + Duration::days(3)));
}

#[test]
fn d9_2_wrong_unit_is_returned_reclassified_and_reassigned_by_the_office() {
    let r = rules();
    let returned = report_in(&r, State::Returned);
    // The unit cannot reassign itself; the IOC head cannot reassign either.
    for a in [staff_of(LEAD), ioc_head()] {
        assert!(matches!(
            apply(&returned, sample(Action::Reassign).unwrap().0, &a, t0(), &r),
            Err(DomainError::Forbidden { .. })
        ));
    }
    let later = t0() + Duration::hours(1);
    let rc = step(
        &r,
        &returned,
        Command::Reclassify {
            category: "culture_tourism".into(),
            note: None,
        },
        &office(),
        later,
    );
    assert_eq!(rc.category, "culture_tourism");
    assert_eq!(rc.reported_category, "market_prices");
    let ra = step(
        &r,
        &rc,
        Command::Reassign {
            lead_unit: OTHER_UNIT.into(),
            coordinating_units: vec![],
            note: "Chuyển Phòng VH-TT".into(),
        },
        &office(),
        later,
    );
    let a = ra.assignment.clone().unwrap();
    assert_eq!(a.lead_unit, OTHER_UNIT);
    // The clock restarts when the new unit receives it: culture & tourism, 4 hours (Đ.7.4.e).
    assert_eq!(a.due_at, later + Duration::hours(4));
    assert_eq!(ra.state, State::Assigned);
    // The former unit no longer sees the report.
    assert!(!lifecycle::can_view(&ra, &staff_of(LEAD)));
    assert!(lifecycle::can_view(&ra, &staff_of(OTHER_UNIT)));
}

#[test]
fn d6_2_a_directive_is_attributed_timestamped_and_tamper_evident() {
    let r = rules();
    let rep = report_in(&r, State::Assigned);
    let at = t0() + Duration::minutes(5);
    let d = step(
        &r,
        &rep,
        Command::Directive {
            text: "Giao Công an phối hợp xử lý dứt điểm".into(),
            corrects: None,
        },
        &leader(),
        at,
    );
    let e = d.timeline.last().unwrap();
    assert_eq!(e.action, Action::Directive);
    assert_eq!(e.actor_id, "acc-leader");
    assert_eq!(e.role, Role::Leader);
    assert_eq!(e.at, at);
    assert!(d.verify_timeline().is_ok());
    // Any edit of the directive breaks the chain.
    let mut forged = d.clone();
    forged.timeline.last_mut().unwrap().note = Some("Không cần xử lý".into());
    assert_eq!(forged.verify_timeline(), Err(e.seq));
    // Editing an earlier entry is detected too.
    let mut forged2 = d.clone();
    forged2.timeline[0].at = t0() - Duration::days(1);
    assert_eq!(forged2.verify_timeline(), Err(0));
}

#[test]
fn d8_a_report_touching_state_secrets_is_published_only_by_a_leader_with_nothing_else_public() {
    let r = rules();
    let rep = report_in(&r, State::Resolved);
    let secret = step(
        &r,
        &rep,
        Command::MarkSecret {
            note: "Liên quan bí mật nhà nước".into(),
        },
        &leader(),
        t0(),
    );
    let publish = Command::Publish {
        public_answer: "Đã được xử lý theo quy định.".into(),
        public_attachments: vec!["e1".into()],
    };
    assert!(matches!(
        apply(&secret, publish.clone(), &ioc_head(), t0(), &r),
        Err(DomainError::Forbidden { .. })
    ));
    let published = step(&r, &secret, publish, &leader(), t0());
    let v = views::public_view(&published, &r).unwrap();
    assert!(v.title.is_none() && v.description.is_none() && v.location.is_none());
    assert!(v.attachments.is_empty());
    assert_eq!(
        v.public_answer.as_deref(),
        Some("Đã được xử lý theo quy định.")
    );
}

#[test]
fn d8_2_a_unit_head_flags_a_possibly_secret_report_for_the_ioc_head_or_a_leader_to_decide() {
    let r = rules();
    let rep = report_in(&r, State::InProgress);
    let flag = Command::FlagSecret {
        reason: "Gần khu vực quân sự".into(),
    };
    // Only the head of the lead unit raises it: not its staff, not another unit's head, not
    // a coordinating unit, not the IOC.
    for (who, want) in [
        (staff_of(LEAD), "forbidden"),
        (head_of(OTHER_UNIT), "scope"),
        (ioc_head(), "forbidden"),
    ] {
        let err = apply(&rep, flag.clone(), &who, t0(), &r).unwrap_err();
        let ok = match want {
            "forbidden" => matches!(err, DomainError::Forbidden { .. }),
            _ => matches!(err, DomainError::OutOfUnitScope { .. }),
        };
        assert!(ok, "{who:?}: {err:?}");
    }
    // A reason is required.
    let no_reason = Command::FlagSecret { reason: " ".into() };
    assert!(matches!(
        apply(&rep, no_reason, &head_of(LEAD), t0(), &r),
        Err(DomainError::Invalid { .. })
    ));
    let flagged = step(&r, &rep, flag.clone(), &head_of(LEAD), t0());
    assert!(flagged.flags.possibly_secret && !flagged.flags.state_secret);
    let e = flagged.timeline.last().unwrap();
    assert_eq!(e.action, Action::FlagSecret);
    assert_eq!(e.note.as_deref(), Some("Gần khu vực quân sự"));
    assert!(
        !e.visible_to_reporter,
        "the reporter does not see the question"
    );
    // Raised once.
    assert!(matches!(
        apply(&flagged, flag.clone(), &head_of(LEAD), t0(), &r),
        Err(DomainError::InvalidState { .. })
    ));
    // The decision is the IOC head's or a leader's, not the unit's nor the office's.
    let clear = Command::ClearSecretFlag {
        note: "Không thuộc danh mục bí mật nhà nước".into(),
    };
    for who in [head_of(LEAD), office(), ioc_op()] {
        assert!(matches!(
            apply(&flagged, clear.clone(), &who, t0(), &r),
            Err(DomainError::Forbidden { .. })
        ));
    }
    assert!(lifecycle::available_actions(&flagged, &ioc_head()).contains(&Action::ClearSecretFlag));
    assert!(!lifecycle::available_actions(&rep, &ioc_head()).contains(&Action::ClearSecretFlag));
    assert!(lifecycle::available_actions(&rep, &head_of(LEAD)).contains(&Action::FlagSecret));
    assert!(!lifecycle::available_actions(&flagged, &head_of(LEAD)).contains(&Action::FlagSecret));
    // Cleared: no longer flagged, recorded; a flag that is not raised cannot be cleared.
    let cleared = step(&r, &flagged, clear.clone(), &ioc_head(), t0());
    assert!(!cleared.flags.possibly_secret && !cleared.flags.state_secret);
    assert_eq!(
        cleared.timeline.last().map(|e| e.action),
        Some(Action::ClearSecretFlag)
    );
    assert!(matches!(
        apply(&cleared, clear, &leader(), t0(), &r),
        Err(DomainError::InvalidState { .. })
    ));
    // Or marked secret by a leader: the flag is decided, and a secret report is not flagged.
    let secret = step(
        &r,
        &flagged,
        Command::MarkSecret {
            note: "Thuộc danh mục bí mật nhà nước".into(),
        },
        &leader(),
        t0(),
    );
    assert!(secret.flags.state_secret && !secret.flags.possibly_secret);
    assert!(matches!(
        apply(&secret, flag, &head_of(LEAD), t0(), &r),
        Err(DomainError::InvalidState { .. })
    ));
}

#[test]
fn privacy_the_reporter_never_appears_publicly_nor_to_units() {
    let r = rules();
    let rep = report_in(&r, State::Published);
    let public = serde_json::to_string(&views::public_view(&rep, &r).unwrap()).unwrap();
    for secret in [
        "0912345678",
        "912345678",
        "an@example.vn",
        "Nguyễn Văn An",
        "dev-citizen-1",
    ] {
        assert!(!public.contains(secret), "public view leaks {secret}");
    }
    let unit_view = views::staff_view(&rep, &staff_of(LEAD), &r, t0());
    assert!(unit_view.report.reporter.is_none());
    let ioc_view = views::staff_view(&rep, &ioc_head(), &r, t0());
    let masked = ioc_view.report.reporter.unwrap();
    assert_eq!(masked.phone.as_deref(), Some("09******78"));
    // Units cannot reveal; the reveal by the IOC head is an audited entry.
    assert!(matches!(
        apply(
            &rep,
            Command::RevealReporter { reason: "x".into() },
            &head_of(LEAD),
            t0(),
            &r
        ),
        Err(DomainError::Forbidden { .. })
    ));
    let revealed = step(
        &r,
        &rep,
        Command::RevealReporter {
            reason: "Xác minh hiện trường".into(),
        },
        &ioc_head(),
        t0(),
    );
    let e = revealed.timeline.last().unwrap();
    assert_eq!(
        (e.action, e.actor_id.as_str()),
        (Action::RevealReporter, "acc-head")
    );
    assert!(!e.visible_to_reporter);
}

#[test]
fn d3_1_c_abusive_language_is_flagged_and_hidden_from_public_output() {
    let r = rules();
    let rep = lifecycle::submit(
        ReportId("a1".into()),
        new_report(
            "urban_order",
            "Lấn chiếm vỉa hè",
            "Bọn bán hàng lấn chiếm vỉa hè, đồ mất dạy, đi bộ phải xuống lòng đường.",
        ),
        &citizen(),
        t0(),
        &r,
    )
    .unwrap()
    .report;
    let screened = step(
        &r,
        &rep,
        Command::Screen {
            possible_duplicates: vec![],
        },
        &system(),
        t0(),
    );
    assert!(screened.flags.abusive);
    // The original is kept for staff.
    assert!(screened.description.contains("mất dạy"));
    let mut published = screened.clone();
    published.state = State::Published;
    published.published_at = Some(t0());
    let v = views::public_view(&published, &r).unwrap();
    assert!(!v.description.unwrap().contains("mất dạy"));
}

#[test]
fn rating_happens_once_with_one_to_five_stars() {
    let r = rules();
    let rep = report_in(&r, State::Published);
    for stars in [0u8, 6] {
        assert!(matches!(
            apply(&rep, Command::Rate { stars, comment: None }, &citizen(), t0(), &r),
            Err(DomainError::Invalid { field, .. }) if field == "stars"
        ));
    }
    let rated = step(
        &r,
        &rep,
        Command::Rate {
            stars: 5,
            comment: Some("Cảm ơn".into()),
        },
        &citizen(),
        t0(),
    );
    assert!(apply(
        &rated,
        Command::Rate {
            stars: 1,
            comment: None
        },
        &citizen(),
        t0(),
        &r
    )
    .is_err());
}

#[test]
fn reopening_sends_the_case_back_to_ioc_triage() {
    let r = rules();
    let rep = report_in(&r, State::Published);
    let re = step(
        &r,
        &rep,
        Command::Reopen {
            reason: "Quán vẫn chưa niêm yết giá".into(),
        },
        &citizen(),
        t0(),
    );
    assert_eq!(re.state, State::Screened);
    // No unit deadline runs; the triage wait (60 working minutes in Lai Châu) does.
    assert_eq!(re.escalation.next_at, Some(t0() + Duration::minutes(60)));
    // The IOC head assigns it again, with a fresh deadline.
    let again = step(
        &r,
        &re,
        assign_cmd(),
        &ioc_head(),
        t0() + Duration::hours(2),
    );
    assert_eq!(again.assignment.unwrap().due_at, t0() + Duration::hours(6));
}

#[test]
fn escalation_thresholds_are_sent_exactly_once_each() {
    // Notifications rule: as the deadline nears and when it passes, the unit head, then the
    // IOC, then leadership are told.
    let r = rules();
    let rep = report_in(&r, State::Assigned); // 4 h deadline from t0
    let first = rep.escalation.next_at.unwrap();
    assert_eq!(first, t0() + Duration::hours(3)); // 75 %
    assert!(apply(
        &rep,
        Command::Escalate,
        &system(),
        first - Duration::seconds(1),
        &r
    )
    .is_err());
    let e1 = apply(&rep, Command::Escalate, &system(), first, &r).unwrap();
    let levels: Vec<_> = e1
        .events
        .iter()
        .map(|e| match &e.event {
            DomainEvent::DeadlineEscalated { level, .. } => *level,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(levels, vec![EscalationLevel::UnitHead]);
    // Nothing more until the deadline itself passes.
    assert!(apply(
        &e1.report,
        Command::Escalate,
        &system(),
        first + Duration::minutes(30),
        &r
    )
    .is_err());
    assert_eq!(
        e1.report.escalation.next_at,
        Some(t0() + Duration::hours(4))
    );
    // Far past the deadline: the remaining thresholds fire together, once.
    let e2 = apply(
        &e1.report,
        Command::Escalate,
        &system(),
        t0() + Duration::hours(10),
        &r,
    )
    .unwrap();
    assert_eq!(e2.events.len(), 2);
    assert_eq!(e2.report.escalation.next_at, None);
    assert!(apply(
        &e2.report,
        Command::Escalate,
        &system(),
        t0() + Duration::hours(11),
        &r
    )
    .is_err());
}

#[test]
fn bad_text_input_is_refused_naming_the_field() {
    let r = rules();
    let mut input = new_report("environment", "Khói", "Đốt rác\u{0007} gây khói");
    assert!(matches!(
        lifecycle::submit(ReportId("b".into()), input.clone(), &citizen(), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "description"
    ));
    input.description = "Đốt rác".into();
    input.category = "nope".into();
    assert!(matches!(
        lifecycle::submit(ReportId("b".into()), input.clone(), &citizen(), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "category"
    ));
    input.category = "environment".into();
    input.location = Some(GeoPoint {
        lat: 95.0,
        lon: 103.0,
    });
    assert!(matches!(
        lifecycle::submit(ReportId("b".into()), input, &citizen(), t0(), &r),
        Err(DomainError::Invalid { field, .. }) if field == "location"
    ));
}

// ------------------------------------------------------------------ property: no forbidden state

fn edge_allowed(from: State, to: State) -> bool {
    use State::*;
    from == to
        || matches!(
            (from, to),
            (Submitted, Screened)
                | (Submitted, Rejected)
                | (Screened, Assigned)
                | (Screened, Referred)
                | (Screened, Rejected)
                | (Referred, Assigned)
                | (Referred, Rejected)
                | (Assigned, InProgress)
                | (Assigned, Resolved)
                | (Assigned, Deferred)
                | (Assigned, Returned)
                | (InProgress, Resolved)
                | (InProgress, Deferred)
                | (InProgress, Returned)
                | (InProgress, Assigned)
                | (Deferred, InProgress)
                | (Deferred, Resolved)
                | (Deferred, Assigned)
                | (Returned, Assigned)
                | (Resolved, Published)
                | (Published, Closed)
                | (Published, Screened)
        )
}

fn any_step() -> impl Strategy<Value = (usize, usize, i64)> {
    (0usize..ALL_ACTIONS.len() + 1, 0usize..10, 0i64..600)
}

fn actor_pool() -> Vec<Actor> {
    vec![
        citizen(),
        other_citizen(),
        ioc_op(),
        ioc_head(),
        leader(),
        office(),
        staff_of(LEAD),
        staff_of(COORD),
        staff_of(OTHER_UNIT),
        system(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_actions_reaches_a_forbidden_state(steps in proptest::collection::vec(any_step(), 1..40)) {
        let r = rules();
        let pool = actor_pool();
        let mut rep = submitted(&r);
        let mut now = t0();
        for (a, who, minutes) in steps {
            now += Duration::minutes(minutes);
            let cmd = if a == ALL_ACTIONS.len() {
                Command::Escalate
            } else {
                sample(ALL_ACTIONS[a]).unwrap().0
            };
            let actor = &pool[who];
            let before = rep.clone();
            if let Ok(t) = apply(&rep, cmd, actor, now, &r) {
                prop_assert!(edge_allowed(before.state, t.report.state), "{:?} -> {:?}", before.state, t.report.state);
                prop_assert_eq!(t.report.version, before.version + 1);
                prop_assert_eq!(t.report.timeline.len(), before.timeline.len() + 1);
                // Append-only: earlier entries are unchanged.
                prop_assert_eq!(&t.report.timeline[..before.timeline.len()], &before.timeline[..]);
                prop_assert!(t.report.verify_timeline().is_ok());
                // Published only with a result (Đ.7.3, Đ.8.1).
                if matches!(t.report.state, State::Resolved | State::Published | State::Closed) {
                    prop_assert!(t.report.resolution.is_some());
                }
                if t.report.state == State::Published {
                    prop_assert!(t.report.public_answer.is_some());
                }
                rep = t.report;
            } else {
                prop_assert_eq!(&rep, &before);
            }
        }
    }
}

#[test]
fn an_action_with_an_unknown_field_is_refused_rather_than_half_understood() {
    let ok: Command = serde_json::from_value(serde_json::json!({"action": "accept"})).unwrap();
    assert_eq!(ok, Command::Accept { note: None });
    let typo = serde_json::from_value::<Command>(
        serde_json::json!({"action": "defer", "reason": "x", "expected_dat": "2026-12-01"}),
    );
    assert!(typo.is_err());
    let extra = serde_json::from_value::<Command>(
        serde_json::json!({"action": "accept", "state": "closed"}),
    );
    assert!(extra.unwrap_err().to_string().contains("state"));
}

#[test]
fn d4_reporter_contacts_are_validated_and_normalised() {
    let r = rules();
    let with = |phone: Option<&str>, email: Option<&str>, name: Option<&str>| {
        let mut input = new_report(
            "market_prices",
            "Quán ăn chặt chém du khách",
            "Quán bán giá cao gấp ba lần niêm yết.",
        );
        input.reporter = Some(Reporter {
            citizen_id: String::new(),
            name: name.map(str::to_string),
            phone: phone.map(str::to_string),
            email: email.map(str::to_string),
        });
        lifecycle::submit(ReportId("r-c".into()), input, &citizen(), t0(), &r)
    };
    let ok = with(
        Some("0912 345 678"),
        Some(" An@Example.VN "),
        Some("Nguyễn Văn An"),
    )
    .expect("valid contacts")
    .report;
    let rep = ok.reporter.expect("reporter");
    assert_eq!(rep.phone.as_deref(), Some("+84912345678"));
    assert_eq!(rep.email.as_deref(), Some("An@example.vn"));
    for (phone, email, name, field) in [
        (
            Some("0912345678\r\nX-Injected: 1"),
            None,
            None,
            "reporter.phone",
        ),
        (Some("không có số"), None, None, "reporter.phone"),
        (Some("12345"), None, None, "reporter.phone"),
        (
            None,
            Some("an@example.vn\r\nBcc: x@y.z"),
            None,
            "reporter.email",
        ),
        (None, Some("an-at-example.vn"), None, "reporter.email"),
        (None, None, Some("An\r\nBcc: x"), "reporter.name"),
    ] {
        match with(phone, email, name) {
            Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{phone:?} {email:?} {name:?}: {other:?}"),
        }
    }
}

#[test]
fn each_person_is_offered_exactly_the_actions_the_rules_allow_now() {
    let r = rules();
    let screened = report_in(&r, State::Screened);
    let head = lifecycle::available_actions(&screened, &ioc_head());
    for a in [
        Action::Assign,
        Action::Refer,
        Action::Reject,
        Action::Reclassify,
    ] {
        assert!(
            head.contains(&a),
            "IOC head may {a:?} a screened report: {head:?}"
        );
    }
    assert!(!head.contains(&Action::Resolve));
    // A unit sees no action on a report that is not assigned to it.
    assert!(lifecycle::available_actions(&screened, &staff_of(LEAD)).is_empty());
    let assigned = report_in(&r, State::Assigned);
    let lead = lifecycle::available_actions(&assigned, &staff_of(LEAD));
    for a in [
        Action::Accept,
        Action::Resolve,
        Action::Defer,
        Action::Return,
        Action::Progress,
    ] {
        assert!(lead.contains(&a), "the lead unit may {a:?}: {lead:?}");
    }
    assert!(!lead.contains(&Action::Assign) && !lead.contains(&Action::RevealReporter));
    let leader = lifecycle::available_actions(&assigned, &leader());
    assert!(leader.contains(&Action::Directive));
    // Every action offered is one `apply` would not refuse for role, scope or state.
    for (rep, who) in [
        (&screened, ioc_head()),
        (&assigned, staff_of(LEAD)),
        (&assigned, office()),
    ] {
        for a in lifecycle::available_actions(rep, &who) {
            assert!(lifecycle::authorize(rep, a, &who).is_ok());
            assert!(lifecycle::allowed_states(a).contains(&rep.state));
        }
    }
}

#[test]
fn d4_4_nothing_is_shared_with_a_third_party_without_a_leaders_consent() {
    let r = rules();
    let rep = report_in(&r, State::InProgress);
    // A request must say why.
    let no_reason = apply(
        &rep,
        Command::RequestShare {
            recipient: "Báo Lai Châu".into(),
            reason: "  ".into(),
            personal_data: false,
        },
        &ioc_head(),
        t0(),
        &r,
    )
    .unwrap_err();
    assert!(matches!(no_reason, DomainError::Invalid { ref field, .. } if field == "reason"));
    let asked = apply(
        &rep,
        Command::RequestShare {
            recipient: "Công an tỉnh".into(),
            reason: "Phục vụ điều tra".into(),
            personal_data: true,
        },
        &ioc_head(),
        t0(),
        &r,
    )
    .unwrap()
    .report;
    let req = asked.timeline.len() as u32 - 1;
    // Not released before a decision; nobody but a leader decides.
    assert!(apply(
        &asked,
        Command::ReleaseShare { request: req },
        &ioc_head(),
        t0(),
        &r
    )
    .is_err());
    let decide = |approve| Command::DecideShare {
        request: req,
        approve,
        note: None,
    };
    for not_leader in [ioc_head(), office(), ioc_op()] {
        assert!(matches!(
            apply(&asked, decide(true), &not_leader, t0(), &r).unwrap_err(),
            DomainError::Forbidden { .. }
        ));
    }
    // Refused: never released.
    let refused = apply(&asked, decide(false), &leader(), t0(), &r)
        .unwrap()
        .report;
    assert!(apply(
        &refused,
        Command::ReleaseShare { request: req },
        &ioc_head(),
        t0(),
        &r
    )
    .is_err());
    assert!(
        apply(&refused, decide(true), &leader(), t0(), &r).is_err(),
        "decided once"
    );
    // Approved: released once, with the request's watermark; every step is in the timeline.
    let approved = apply(&asked, decide(true), &leader(), t0(), &r)
        .unwrap()
        .report;
    let released = apply(
        &approved,
        Command::ReleaseShare { request: req },
        &ioc_head(),
        t0(),
        &r,
    )
    .unwrap()
    .report;
    let last = released.timeline.last().unwrap();
    assert_eq!(last.action, Action::ReleaseShare);
    assert_eq!(
        last.data["watermark"],
        format!("CHIA-SE/{}/{req}", released.id.0)
    );
    assert!(!last.visible_to_reporter);
    assert!(apply(
        &released,
        Command::ReleaseShare { request: req },
        &ioc_head(),
        t0(),
        &r
    )
    .is_err());
}

#[test]
fn a_report_holds_at_most_its_bounded_number_of_attachments_over_its_whole_life() {
    let r = rules();
    let mut rep = report_in(&r, State::InProgress);
    // Progress notes with photos, as a unit adds them over days, up to the bound.
    // One fewer than an action may carry, so that what is left (1 to 19) plus one is still
    // within one action: the total is what refuses it.
    let per_note = lifecycle::MAX_ATTACHMENTS - 1;
    let mut n = rep.attachments.len();
    let mut round = 0;
    while n + per_note < lifecycle::MAX_REPORT_ATTACHMENTS && round < 100 {
        let photos = (0..per_note)
            .map(|i| photo(&format!("p{round}-{i}")))
            .collect();
        rep = step(
            &r,
            &rep,
            Command::Progress {
                note: "Đang xử lý".into(),
                attachments: photos,
            },
            &staff_of(LEAD),
            t0(),
        );
        n += per_note;
        round += 1;
    }
    let room = lifecycle::MAX_REPORT_ATTACHMENTS - rep.attachments.len();
    let over: Vec<Attachment> = (0..=room).map(|i| photo(&format!("over-{i}"))).collect();
    // One file too many is refused, naming the field; the report is unchanged.
    let err = apply(
        &rep,
        Command::Progress {
            note: "Thêm ảnh".into(),
            attachments: over.clone(),
        },
        &staff_of(LEAD),
        t0(),
        &r,
    )
    .unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { ref field, .. } if field == "attachments"),
        "{err:?}"
    );
    // Files the report already holds are not counted twice, and the last room is usable.
    let mut again: Vec<Attachment> = rep.attachments.iter().take(1).cloned().collect();
    again.extend(over.into_iter().take(room));
    let full = step(
        &r,
        &rep,
        Command::Progress {
            note: "Thêm ảnh".into(),
            attachments: again,
        },
        &staff_of(LEAD),
        t0(),
    );
    assert_eq!(full.attachments.len(), lifecycle::MAX_REPORT_ATTACHMENTS);
    // The result needs its evidence, and a full report has no room for a new file.
    let err = apply(
        &full,
        Command::Resolve {
            summary: "Đã xử lý".into(),
            evidence: vec![photo("e-new")],
        },
        &staff_of(LEAD),
        t0(),
        &r,
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "evidence"));
}
