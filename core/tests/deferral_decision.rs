//! Đ.7.5: a unit that cannot solve a report yet reports the reason and the expected date to
//! the city; a leader or the IOC head decides. Accepted: a target date (the unit's expected
//! date or one the decider sets) shown beside the regulated deadline, which is not changed; the
//! "past the expected date" alert follows the target, once per decision. Refused: back to
//! handling under the regulated deadline. With a controllable clock, asserting who is told
//! what and when.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use phananh_core::app::Consumer;
use phananh_core::lifecycle::{self, Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::DomainError;
use phananh_testkit::actors;
use phananh_testkit::app::TestApp;

const UNIT: &str = "trung_tam_y_te";
const OFFICE: &str = "van_phong";
const PHONE: &str = "+84911222333";
const EMAIL: &str = "minh.lo@example.vn";

/// A local (UTC+7) wall-clock instant.
fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap() - Duration::hours(7)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn input() -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: Some(EMAIL.into()),
        }),
        camera_id: None,
    }
}

struct World {
    t: TestApp,
    seen: usize,
    id: ReportId,
}

impl World {
    /// Submitted Wednesday 25/11/2026 08:00, assigned to the health centre at 08:10 (2 clock
    /// hours, Đ.7.4.g: due 10:10), deferred at 08:30 to Friday 27/11.
    async fn deferred() -> World {
        let t = TestApp::new();
        t.clock.set(local(2026, 11, 25, 8, 0));
        let citizen = Actor::new("dev-1", Role::Citizen, None);
        let (r, _) = t.app.submit(&citizen, input(), &[], None).await.unwrap();
        let mut w = World {
            t,
            seen: 0,
            id: r.id,
        };
        w.pump().await;
        w.act_at(
            local(2026, 11, 25, 8, 10),
            &actors::ioc_head(),
            Command::Assign {
                lead_unit: UNIT.into(),
                coordinating_units: vec![],
                note: None,
            },
        )
        .await
        .unwrap();
        w.act_at(
            local(2026, 11, 25, 8, 30),
            &actors::unit_staff(UNIT),
            Command::Defer {
                reason: "Chờ kết quả xét nghiệm mẫu thực phẩm.".into(),
                expected_date: date(2026, 11, 27),
            },
        )
        .await
        .unwrap();
        w.new_messages();
        w
    }

    async fn pump(&self) {
        for _ in 0..10 {
            let pending = self.t.store.pending_events(100).await.unwrap();
            if pending.is_empty() {
                break;
            }
            for env in &pending {
                for c in Consumer::ALL {
                    self.t.app.handle_event(c, env).await.unwrap();
                }
            }
            let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
            self.t.store.mark_published(&ids).await.unwrap();
        }
    }

    /// Notifications sent since the last call.
    fn new_messages(&mut self) -> Vec<Notification> {
        let all = self.t.notifier.all();
        let out = all[self.seen..].to_vec();
        self.seen = all.len();
        out
    }

    async fn act_at(
        &mut self,
        at: DateTime<Utc>,
        who: &Actor,
        cmd: Command,
    ) -> Result<Report, DomainError> {
        self.t.clock.set(at);
        let r = self.t.app.act(&self.id, who, cmd).await;
        self.pump().await;
        r
    }

    /// The sweep at `at`: who it tells, as (recipient, channel).
    async fn sweep(&mut self, at: DateTime<Utc>) -> Vec<(String, Channel)> {
        self.t.clock.set(at);
        self.t.app.run_escalations(100).await.unwrap();
        self.pump().await;
        sorted(self.new_messages())
    }

    async fn report(&self) -> Report {
        self.t.store.get(&self.id).await.unwrap().unwrap()
    }

    /// The SMS and e-mail addresses of a unit (its head's when `head`).
    fn contacts(&self, unit: &str, head: bool) -> Vec<(String, Channel)> {
        let u = self.t.app.rules().config.unit(unit).unwrap();
        let c = &u.contacts;
        let (sms, email) = if head {
            (&c.head_sms, &c.head_email)
        } else {
            (&c.sms, &c.email)
        };
        sms.iter()
            .map(|s| (s.clone(), Channel::Sms))
            .chain(email.iter().map(|e| (e.clone(), Channel::Email)))
            .collect()
    }
}

fn sorted(v: Vec<Notification>) -> Vec<(String, Channel)> {
    in_order(v.into_iter().map(|n| (n.to, n.channel)).collect())
}

fn in_order(mut v: Vec<(String, Channel)>) -> Vec<(String, Channel)> {
    v.sort_by_key(|(to, ch)| (to.clone(), format!("{ch:?}")));
    v
}

fn accept(target_date: Option<NaiveDate>) -> Command {
    Command::DecideDeferral {
        accept: true,
        target_date,
        note: None,
    }
}

#[tokio::test]
async fn d7_5_an_accepted_deferral_sets_the_target_date_and_the_overdue_alert_follows_it() {
    let mut w = World::deferred().await;
    let regulated = w.report().await.due_at();
    // A leader accepts on Wednesday 14:00 and sets Friday 04/12 instead of the unit's 27/11.
    let r = w
        .act_at(
            local(2026, 11, 25, 14, 0),
            &actors::leader(),
            accept(Some(date(2026, 12, 4))),
        )
        .await
        .unwrap();
    assert_eq!(r.state, State::Deferred);
    assert_eq!(r.target_date(), Some(date(2026, 12, 4)));
    assert_eq!(r.due_at(), regulated, "the regulated deadline stays");
    let d = r.deferral.as_ref().unwrap().decision.as_ref().unwrap();
    assert_eq!((d.accepted, d.role), (true, Role::Leader));
    let e = r.timeline.last().unwrap();
    assert_eq!(e.action, Action::DecideDeferral);
    assert_eq!(e.data["target_date"], "2026-12-04");
    assert!(!e.visible_to_reporter);

    // Told: the lead unit and the office, and the reporter with the new date.
    let sent = w.new_messages();
    let mut want = w.contacts(UNIT, false);
    want.extend(w.contacts(OFFICE, false));
    want.push((PHONE.into(), Channel::Sms));
    want.push((EMAIL.into(), Channel::Email));
    let want = in_order(want);
    assert_eq!(sorted(sent.clone()), want);
    let sms = sent.iter().find(|n| n.to == PHONE).unwrap();
    assert_eq!(
        sms.body,
        format!(
            "Phan anh {} duoc gia han giai quyet, thoi han moi 04/12/2026.",
            &w.id.0[w.id.0.len() - 8..]
        )
    );
    let mail = sent.iter().find(|n| n.to == EMAIL).unwrap();
    assert!(mail.body.contains("Thời hạn giải quyết mới: 04/12/2026"));

    // The unit's expected date (27/11) passes: nobody is alerted, the target counts now.
    assert_eq!(w.sweep(local(2026, 11, 28, 0, 0)).await, vec![]);
    assert_eq!(w.sweep(local(2026, 12, 4, 23, 59)).await, vec![]);
    // Past the target: the unit head and the office, once.
    let mut want = w.contacts(UNIT, true);
    want.extend(w.contacts(OFFICE, false));
    let want = in_order(want);
    assert_eq!(w.sweep(local(2026, 12, 5, 0, 0)).await, want);
    assert_eq!(w.sweep(local(2026, 12, 7, 9, 0)).await, vec![], "once");
}

#[tokio::test]
async fn d7_5_accepted_after_the_expected_date_passed_the_alert_fires_again_for_the_new_target() {
    let mut w = World::deferred().await;
    let mut overdue = w.contacts(UNIT, true);
    overdue.extend(w.contacts(OFFICE, false));
    let overdue = in_order(overdue);
    assert_eq!(w.sweep(local(2026, 11, 28, 0, 0)).await, overdue);
    // Monday 30/11: the unit's date is gone, so accepting it as it is would set a past target.
    let late = w
        .act_at(local(2026, 11, 30, 9, 0), &actors::ioc_head(), accept(None))
        .await;
    assert!(
        matches!(&late, Err(DomainError::Invalid { field, .. }) if field == "target_date"),
        "{late:?}"
    );
    // The IOC head sets a new date: a new wait, alerted once when it passes.
    w.act_at(
        local(2026, 11, 30, 9, 5),
        &actors::ioc_head(),
        accept(Some(date(2026, 12, 2))),
    )
    .await
    .unwrap();
    w.new_messages();
    assert_eq!(w.sweep(local(2026, 12, 2, 12, 0)).await, vec![]);
    assert_eq!(w.sweep(local(2026, 12, 3, 0, 0)).await, overdue);
    assert_eq!(w.sweep(local(2026, 12, 3, 8, 0)).await, vec![], "once");
    // Resumed: the state changed, the timer stops.
    w.act_at(
        local(2026, 12, 3, 9, 0),
        &actors::unit_staff(UNIT),
        Command::Resume { note: None },
    )
    .await
    .unwrap();
    let r = w.report().await;
    assert_eq!(r.target_date(), Some(date(2026, 12, 2)), "still shown");
    assert!(lifecycle::waiting::waiting_timer(&r, w.t.app.rules()).is_none());
}

#[tokio::test]
async fn d7_5_a_refused_deferral_goes_back_to_handling_under_the_regulated_deadline() {
    let mut w = World::deferred().await;
    let refuse = Command::DecideDeferral {
        accept: false,
        target_date: None,
        note: Some("Kết quả xét nghiệm đã có, đề nghị xử lý ngay.".into()),
    };
    let r = w
        .act_at(local(2026, 11, 25, 9, 0), &actors::ioc_head(), refuse)
        .await
        .unwrap();
    assert_eq!(r.state, State::InProgress);
    assert_eq!(r.target_date(), None);
    assert_eq!(r.due_at(), Some(local(2026, 11, 25, 10, 10)));
    // The unit and the office are told; the reporter is not.
    let sent = w.new_messages();
    let mut want = w.contacts(UNIT, false);
    want.extend(w.contacts(OFFICE, false));
    let want = in_order(want);
    assert_eq!(sorted(sent.clone()), want);
    assert!(sent.iter().any(|n| n
        .body
        .contains("khong duoc chap nhan, tiep tuc xu ly theo han 10:10 25/11/2026")));
    // The regulated deadline's thresholds run again: 75 % of 2 hours from 08:10 is 09:40.
    assert_eq!(w.sweep(local(2026, 11, 25, 9, 39)).await, vec![]);
    let head = in_order(w.contacts(UNIT, true));
    assert_eq!(w.sweep(local(2026, 11, 25, 9, 40)).await, head);
}

#[tokio::test]
async fn d7_5_only_a_leader_or_the_ioc_head_decides_once_with_valid_input() {
    let mut w = World::deferred().await;
    let at = local(2026, 11, 25, 9, 0);
    for who in [
        actors::unit_staff(UNIT),
        actors::unit_head(UNIT),
        actors::office(),
        actors::ioc_operator(),
    ] {
        let e = w.act_at(at, &who, accept(None)).await.unwrap_err();
        assert!(matches!(e, DomainError::Forbidden { .. }), "{who:?}: {e:?}");
        assert_eq!(e.code(), "forbidden_role");
    }
    let e = w
        .act_at(at, &actors::leader(), accept(Some(date(2026, 11, 24))))
        .await
        .unwrap_err();
    assert!(matches!(&e, DomainError::Invalid { field, .. } if field == "target_date"));
    assert!(e.message_vi().contains("không được ở quá khứ"), "{e:?}");
    // A refusal needs the reason, and sets no date.
    for (note, target) in [
        (None, None),
        (Some("Lý do".to_string()), Some(date(2026, 12, 1))),
    ] {
        let cmd = Command::DecideDeferral {
            accept: false,
            target_date: target,
            note,
        };
        let e = w.act_at(at, &actors::leader(), cmd).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{e:?}");
    }
    // Nothing was recorded by the refusals above.
    assert!(w.report().await.deferral_pending());
    w.act_at(at, &actors::leader(), accept(None)).await.unwrap();
    assert_eq!(w.report().await.target_date(), Some(date(2026, 11, 27)));
    // Decided once: no pending deferral any more.
    let e = w
        .act_at(at, &actors::ioc_head(), accept(None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_state");
    assert_eq!(
        e.message_vi(),
        "Phản ánh không có đề nghị gia hạn nào đang chờ quyết định."
    );
    let r = w.report().await;
    assert!(!lifecycle::available_actions(&r, &actors::leader()).contains(&Action::DecideDeferral));
    // A new deferral after resuming is decided anew.
    w.act_at(
        at,
        &actors::unit_staff(UNIT),
        Command::Resume { note: None },
    )
    .await
    .unwrap();
    let defer = Command::Defer {
        reason: "Chờ ý kiến của Sở Y tế.".into(),
        expected_date: date(2026, 12, 10),
    };
    w.act_at(at, &actors::unit_staff(UNIT), defer)
        .await
        .unwrap();
    let r = w.report().await;
    assert_eq!(r.target_date(), None);
    assert!(lifecycle::available_actions(&r, &actors::leader()).contains(&Action::DecideDeferral));
    assert!(lifecycle::available_actions(&r, &actors::ioc_head()).contains(&Action::DecideDeferral));
    assert!(!lifecycle::available_actions(&r, &actors::unit_head(UNIT))
        .contains(&Action::DecideDeferral));
}
