//! Timers with a controllable clock (issue 13): the unit's deadline thresholds across a night
//! and a holiday weekend (Đ.7.4), and the waits outside the unit's clock — triage (Đ.7.2) and a
//! deferral past its expected date (Đ.7.5) — asserting exactly who is told what, and when.
//! Each sweep is `App::run_escalations` followed by the notify consumer, as the timer runs it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use phananh_core::app::Consumer;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_testkit::actors;
use phananh_testkit::app::TestApp;

/// A local (UTC+7) wall-clock instant.
fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap() - Duration::hours(7)
}

fn input(category: &str) -> NewReport {
    NewReport {
        category: category.into(),
        title: "Phản ánh thử nghiệm hẹn giờ".into(),
        description: "Nội dung phản ánh để kiểm tra các mốc nhắc hạn.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

struct World {
    t: TestApp,
    seen: usize,
}

impl World {
    fn new(at: DateTime<Utc>) -> World {
        let t = TestApp::new();
        t.clock.set(at);
        World { t, seen: 0 }
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

    /// Notifications sent since the last call, as (recipient, channel).
    fn new_messages(&mut self) -> Vec<(String, Channel)> {
        let all = self.t.notifier.all();
        let out = all[self.seen..]
            .iter()
            .map(|n| (n.to.clone(), n.channel))
            .collect();
        self.seen = all.len();
        out
    }

    /// The sweep at `at`: what it sends.
    async fn sweep(&mut self, at: DateTime<Utc>) -> Vec<(String, Channel)> {
        self.t.clock.set(at);
        self.t.app.run_escalations(100).await.unwrap();
        self.pump().await;
        self.new_messages()
    }

    async fn submit(&mut self, category: &str, at: DateTime<Utc>) -> ReportId {
        self.t.clock.set(at);
        let citizen = Actor::new("dev-1", Role::Citizen, None);
        let (r, _) = self
            .t
            .app
            .submit(&citizen, input(category), &[], None)
            .await
            .unwrap();
        self.pump().await;
        self.new_messages();
        r.id
    }

    async fn assign(&mut self, id: &ReportId, unit: &str, at: DateTime<Utc>) {
        self.t.clock.set(at);
        let cmd = Command::Assign {
            lead_unit: unit.into(),
            coordinating_units: vec![],
            note: None,
        };
        self.t.app.act(id, &actors::ioc_head(), cmd).await.unwrap();
        self.pump().await;
        self.new_messages();
    }
}

/// The SMS and e-mail addresses of a unit (its head's when `head`).
fn contacts(t: &TestApp, unit: &str, head: bool) -> Vec<(String, Channel)> {
    let u = t.app.rules().config.unit(unit).unwrap();
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

fn sorted(mut v: Vec<(String, Channel)>) -> Vec<(String, Channel)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[tokio::test]
async fn d7_4_a_two_hour_category_assigned_at_22_30_escalates_through_the_night() {
    let mut w = World::new(local(2026, 11, 25, 22, 0));
    let id = w.submit("food_safety", local(2026, 11, 25, 22, 0)).await;
    w.assign(&id, "trung_tam_y_te", local(2026, 11, 25, 22, 30))
        .await;
    // 2 clock hours: 75 % at 00:00, due at 00:30, 150 % at 01:30 — nights count (Đ.7.4.g).
    assert_eq!(w.sweep(local(2026, 11, 25, 23, 59)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 26, 0, 0)).await),
        sorted(contacts(&w.t, "trung_tam_y_te", true)),
        "the unit head at 75 %"
    );
    assert_eq!(w.sweep(local(2026, 11, 26, 0, 29)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 26, 0, 30)).await),
        sorted(contacts(&w.t, "ioc", false)),
        "the IOC when the deadline passes"
    );
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 26, 1, 30)).await),
        sorted(contacts(&w.t, "lanh_dao_ubnd", false)),
        "the leadership at 150 %"
    );
    assert_eq!(
        w.sweep(local(2026, 11, 27, 9, 0)).await,
        vec![],
        "nothing twice"
    );
}

#[tokio::test]
async fn d7_4_a_an_eight_working_hour_category_assigned_friday_afternoon_waits_out_the_holiday_monday(
) {
    // Friday 24/04/2026 15:00; Monday 27/04 is the Hùng Kings holiday (calendar.toml).
    let mut w = World::new(local(2026, 4, 24, 14, 50));
    let id = w
        .submit("service_attitude", local(2026, 4, 24, 14, 50))
        .await;
    w.assign(&id, "phong_noi_vu", local(2026, 4, 24, 15, 0))
        .await;
    // Working time left: Fri 15:00–17:30 (2.5 h), then Tuesday 07:30–11:30 and 13:30–…
    // 75 % (6 h) at Tue 11:00, due (8 h) at Tue 15:00, 150 % (12 h) at Wed 09:00.
    assert_eq!(w.sweep(local(2026, 4, 24, 17, 30)).await, vec![]);
    assert_eq!(
        w.sweep(local(2026, 4, 27, 12, 0)).await,
        vec![],
        "the holiday"
    );
    assert_eq!(w.sweep(local(2026, 4, 28, 10, 59)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 4, 28, 11, 0)).await),
        sorted(contacts(&w.t, "phong_noi_vu", true))
    );
    assert_eq!(w.sweep(local(2026, 4, 28, 14, 59)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 4, 28, 15, 0)).await),
        sorted(contacts(&w.t, "ioc", false))
    );
    assert_eq!(w.sweep(local(2026, 4, 29, 8, 59)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 4, 29, 9, 0)).await),
        sorted(contacts(&w.t, "lanh_dao_ubnd", false))
    );
}

#[tokio::test]
async fn d7_2_a_report_left_unassigned_at_triage_alerts_the_ioc_head_once() {
    // Wednesday 25/11/2026 09:00; the triage wait is 60 working minutes ([waiting]).
    let mut w = World::new(local(2026, 11, 25, 9, 0));
    let id = w.submit("food_safety", local(2026, 11, 25, 9, 0)).await;
    assert_eq!(w.sweep(local(2026, 11, 25, 9, 59)).await, vec![]);
    let sent = w.sweep(local(2026, 11, 25, 10, 0)).await;
    assert_eq!(
        sorted(sent),
        sorted(contacts(&w.t, "ioc", true)),
        "the IOC head"
    );
    let texts: Vec<String> =
        w.t.notifier
            .all()
            .iter()
            .filter(|n| n.channel == Channel::Sms)
            .map(|n| n.body.clone())
            .collect();
    assert!(
        texts.iter().any(|b| b.contains("chua duoc phan loai")),
        "{texts:?}"
    );
    assert_eq!(
        w.sweep(local(2026, 11, 25, 16, 0)).await,
        vec![],
        "once per wait"
    );
    // Assigned: the wait is over; only the unit's own deadline runs from now.
    w.assign(&id, "trung_tam_y_te", local(2026, 11, 25, 16, 30))
        .await;
    let r = w.t.app.load(&id).await.unwrap();
    assert!(r.escalation.sent.iter().all(|k| !k.starts_with("wait.")));
    assert_eq!(
        r.escalation.next_at,
        Some(local(2026, 11, 25, 18, 0)),
        "the unit head's 75 % of 2 clock hours"
    );
}

#[tokio::test]
async fn d7_5_a_deferral_past_its_expected_date_alerts_the_unit_head_and_the_office() {
    let mut w = World::new(local(2026, 11, 25, 8, 0));
    let id = w.submit("food_safety", local(2026, 11, 25, 8, 0)).await;
    w.assign(&id, "trung_tam_y_te", local(2026, 11, 25, 8, 10))
        .await;
    w.t.clock.set(local(2026, 11, 25, 8, 30));
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu thực phẩm của Trung tâm Kiểm soát bệnh tật tỉnh."
            .into(),
        expected_date: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    };
    w.t.app
        .act(&id, &actors::unit_staff("trung_tam_y_te"), defer)
        .await
        .unwrap();
    w.pump().await;
    w.new_messages();
    // While deferred the unit's clock stops (no threshold at 10:10); until the expected date
    // has passed nobody is alerted.
    assert_eq!(w.sweep(local(2026, 11, 25, 12, 0)).await, vec![]);
    assert_eq!(w.sweep(local(2026, 11, 27, 23, 59)).await, vec![]);
    let mut want = contacts(&w.t, "trung_tam_y_te", true);
    want.extend(contacts(&w.t, "van_phong", false));
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 28, 0, 0)).await),
        sorted(want)
    );
    assert_eq!(w.sweep(local(2026, 11, 30, 9, 0)).await, vec![], "once");
}

#[tokio::test]
async fn d7_2_a_referral_without_a_decision_alerts_the_leadership_once() {
    // Referred Wednesday 25/11/2026 09:30; the wait is 240 working minutes: 2 h to 11:30, the
    // lunch break 11:30–13:30 does not count, 2 h more to 15:30.
    let mut w = World::new(local(2026, 11, 25, 9, 0));
    let id = w.submit("food_safety", local(2026, 11, 25, 9, 0)).await;
    w.t.clock.set(local(2026, 11, 25, 9, 30));
    let refer = Command::Refer {
        note: "Vụ việc liên quan nhiều ngành, xin ý kiến chỉ đạo.".into(),
    };
    w.t.app.act(&id, &actors::ioc_head(), refer).await.unwrap();
    w.pump().await;
    w.new_messages();
    // The triage wait of the screened report is over: no IOC-head alert at 10:00.
    assert_eq!(w.sweep(local(2026, 11, 25, 15, 29)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 25, 15, 30)).await),
        sorted(contacts(&w.t, "lanh_dao_ubnd", false))
    );
    assert_eq!(w.sweep(local(2026, 11, 26, 15, 30)).await, vec![], "once");
}

#[tokio::test]
async fn d9_2_a_returned_report_not_reassigned_alerts_the_office_once_per_return() {
    let mut w = World::new(local(2026, 11, 25, 8, 0));
    let id = w.submit("food_safety", local(2026, 11, 25, 8, 0)).await;
    w.assign(&id, "trung_tam_y_te", local(2026, 11, 25, 8, 0))
        .await;
    w.t.clock.set(local(2026, 11, 25, 8, 30));
    let back = Command::Return {
        reason: "Không thuộc thẩm quyền của Trung tâm Y tế.".into(),
        suggested_category: None,
    };
    w.t.app
        .act(&id, &actors::unit_staff("trung_tam_y_te"), back)
        .await
        .unwrap();
    w.pump().await;
    w.new_messages();
    // 240 working minutes from 08:30: 3 h to 11:30, then 1 h from 13:30: 14:30.
    assert_eq!(w.sweep(local(2026, 11, 25, 14, 29)).await, vec![]);
    assert_eq!(
        sorted(w.sweep(local(2026, 11, 25, 14, 30)).await),
        sorted(contacts(&w.t, "van_phong", false))
    );
    assert_eq!(w.sweep(local(2026, 11, 26, 9, 0)).await, vec![], "once");
}
