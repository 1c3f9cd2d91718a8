//! The authorisation matrix (OWASP API1, broken object-level authorisation first): every report
//! route × every role × own, coordinating or other unit (own or other citizen) × every state,
//! against the whole router. The expected answer is derived from the regulation's tables in core
//! (`allowed_roles`, `allowed_states`) and the scope rules written out below, and each request
//! carries a valid body, so "allowed" means the action really happens (2xx) and "denied" means
//! exactly 404 (not visible), 403 (role or unit) or 409 (state) — and nothing stored changes.

mod common;

use axum::http::{Method, StatusCode};
use common::{text, World};
use phananh_core::lifecycle::Command;
use phananh_core::lifecycle::{allowed_roles, allowed_states, REPORT_ACTIONS};
use phananh_core::model::{Action, Actor, ReportId, Role, State};
use phananh_core::ports::MediaStore;
use phananh_testkit::actors;
use serde_json::{json, Value};

/// The lead unit of every assigned report here, a coordinating unit, and a unit with no part.
const LEAD: &str = "phong_tnmt";
const COORD: &str = "phong_kinh_te";
const OTHER: &str = "phong_vhtt";

/// The Lai Châu rules with the daily upload quota out of the way: the matrix uploads an
/// evidence photo for every resolved report it builds.
fn world() -> World {
    let mut rules = phananh_testkit::fixtures::rules().clone();
    rules.config.city.media.daily_uploads = 1_000_000;
    rules.config.city.media.daily_mb = 1_000_000;
    common::world_on(phananh_testkit::app::TestApp::with_rules(rules))
}

/// Every actor of the matrix: each staff role, unit roles of the lead, coordinating and an
/// unrelated unit, the reporter and another citizen.
fn cast() -> Vec<Actor> {
    vec![
        actors::citizen(),
        actors::other_citizen(),
        actors::ioc_operator(),
        actors::ioc_head(),
        actors::leader(),
        actors::office(),
        actors::unit_staff(LEAD),
        actors::unit_head(LEAD),
        actors::unit_staff(COORD),
        actors::unit_head(COORD),
        actors::unit_staff(OTHER),
        actors::unit_head(OTHER),
    ]
}

/// The answer a request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// 404: the report is not visible to this actor (no hint that it exists).
    Hidden,
    /// 403: the role may not, or the unit is not the one handling.
    Forbidden,
    /// 409: the role may, but not from this state.
    WrongState,
}

impl Expect {
    fn status_ok(self, s: StatusCode) -> bool {
        match self {
            Expect::Allowed => s.is_success(),
            Expect::Hidden => s == StatusCode::NOT_FOUND,
            Expect::Forbidden => s == StatusCode::FORBIDDEN,
            Expect::WrongState => s == StatusCode::CONFLICT,
        }
    }
}

/// Where the report stands for the matrix: its state and the units handling it.
struct Case {
    id: ReportId,
    state: State,
    lead: Option<String>,
    coordinating: Vec<String>,
    reporter: String,
    /// Đ.8.2: flagged by the lead unit's head as possibly secret (the Deferred case here).
    possibly_secret: bool,
    state_secret: bool,
}

fn is_staff(a: &Actor) -> bool {
    a.role != Role::Citizen
}

/// Who sees a report at all: citizens their own, units the reports they take part in,
/// the IOC, the office and the leadership every report.
fn visible(c: &Case, a: &Actor) -> bool {
    match a.role {
        Role::Citizen => a.id == c.reporter,
        Role::UnitStaff | Role::UnitHead => {
            let u = a.unit.as_deref().unwrap_or_default();
            c.lead.as_deref() == Some(u) || c.coordinating.iter().any(|x| x == u)
        }
        _ => true,
    }
}

/// The expected answer of a staff action, from the tables of core and the unit-scope rule:
/// only the lead unit handles; coordinating units add progress and notes (Đ.7.4).
fn expect_staff_action(c: &Case, a: &Actor, action: Action) -> Expect {
    if !is_staff(a) {
        return Expect::Forbidden;
    }
    if !visible(c, a) {
        return Expect::Hidden;
    }
    if !allowed_roles(action).contains(&a.role) {
        return Expect::Forbidden;
    }
    if matches!(a.role, Role::UnitStaff | Role::UnitHead)
        && !matches!(action, Action::Progress | Action::AddNote)
        && c.lead.as_deref() != a.unit.as_deref()
    {
        return Expect::Forbidden;
    }
    if !allowed_states(action).contains(&c.state) {
        return Expect::WrongState;
    }
    // Đ.8.2: a flag is raised once on a report not secret yet, and cleared only while raised.
    let flags_allow = match action {
        Action::FlagSecret => !c.possibly_secret && !c.state_secret,
        Action::ClearSecretFlag => c.possibly_secret,
        // Đ.7.5: decided once; the matrix's deferred case waits for the decision.
        Action::DecideDeferral => c.state == State::Deferred,
        _ => true,
    };
    if !flags_allow {
        return Expect::WrongState;
    }
    // Đ.7.4.k: from triage the office reassigns only categories it routes itself ("other");
    // the reports here are "environment", routed by the IOC.
    if action == Action::Reassign && c.state == State::Screened {
        return Expect::WrongState;
    }
    Expect::Allowed
}

/// The expected answer of a reporter's action (rating, reopening) through /v1/me.
/// The report is looked up as the actor sees it first, so a unit outside the case learns
/// nothing (404) and a staff member who may see it is told the action is not theirs (403).
fn expect_citizen_action(c: &Case, a: &Actor, action: Action) -> Expect {
    if !visible(c, a) {
        return Expect::Hidden;
    }
    if is_staff(a) {
        return Expect::Forbidden;
    }
    if !allowed_states(action).contains(&c.state) {
        return Expect::WrongState;
    }
    Expect::Allowed
}

/// A valid body for `action`, so that an allowed request really succeeds.
fn body(action: Action, evidence: Option<&str>) -> Value {
    match action {
        Action::Assign => json!({"action": "assign", "lead_unit": COORD}),
        Action::Refer => json!({"action": "refer", "note": "Vụ việc phức tạp, xin ý kiến"}),
        Action::Directive => json!({"action": "directive", "text": "Yêu cầu xử lý ngay"}),
        Action::Accept => json!({"action": "accept"}),
        Action::Progress => json!({"action": "progress", "note": "Đang xác minh tại hiện trường"}),
        Action::AddNote => json!({"action": "add_note", "note": "Ghi chú nội bộ"}),
        Action::Resolve => {
            json!({"action": "resolve", "summary": "Đã thu gom rác", "evidence": [evidence]})
        }
        Action::Defer => {
            json!({"action": "defer", "reason": "Chờ kinh phí", "expected_date": "2027-03-31"})
        }
        Action::Resume => json!({"action": "resume"}),
        // Đ.7.5: a leader or the IOC head accepts the unit's expected date.
        Action::DecideDeferral => json!({"action": "decide_deferral", "accept": true}),
        Action::Return => json!({"action": "return", "reason": "Không đúng thẩm quyền"}),
        Action::Reclassify => json!({"action": "reclassify", "category": "urban_order"}),
        Action::Reassign => {
            json!({"action": "reassign", "lead_unit": COORD, "note": "Chuyển đơn vị có thẩm quyền"})
        }
        Action::Urge => json!({"action": "urge", "note": "Đề nghị khẩn trương xử lý"}),
        Action::Publish => json!({"action": "publish", "public_answer": "Đã xử lý xong."}),
        Action::MarkSecret => json!({"action": "mark_secret", "note": "Liên quan bí mật nhà nước"}),
        Action::FlagSecret => json!({"action": "flag_secret", "reason": "Gần khu vực quân sự"}),
        Action::ClearSecretFlag => {
            json!({"action": "clear_secret_flag", "note": "Không thuộc danh mục bí mật"})
        }
        Action::Reject => json!({"action": "reject", "reason": "Không thuộc phạm vi tiếp nhận"}),
        Action::Close => json!({"action": "close"}),
        Action::RevealReporter => {
            json!({"action": "reveal_reporter", "reason": "Cần liên hệ xác minh"})
        }
        Action::Rate => json!({"stars": 4, "comment": "Xử lý nhanh"}),
        Action::Reopen => json!({"reason": "Rác lại ùn ứ"}),
        other => panic!("no request body for {other:?}"),
    }
}

/// A photo uploaded by `actor` through the slot flow; its attachment id.
async fn upload(w: &World, actor: &Actor) -> String {
    let jpeg = phananh_testkit::samples::jpeg(8, 8);
    let ticket = w
        .state
        .app
        .request_upload(actor, "image/jpeg", jpeg.len() as u64)
        .await
        .expect("an upload slot");
    let key = ticket
        .upload
        .url
        .trim_start_matches("memory://")
        .to_string();
    w.media
        .write(&key, &jpeg, "image/jpeg")
        .await
        .expect("uploaded");
    ticket.attachment_id
}

/// A report brought to `state` through the real lifecycle, assigned (when it is) to [`LEAD`]
/// with [`COORD`] coordinating.
async fn report_in(w: &World, state: State) -> Case {
    let id = w.submit("Rác thải ùn ứ trước chợ").await;
    let app = &w.state.app;
    let ioc = actors::ioc_head();
    let staff = actors::unit_staff(LEAD);
    let act = |actor: Actor, cmd: Command| {
        let id = id.clone();
        async move {
            app.act(&id, &actor, cmd)
                .await
                .unwrap_or_else(|e| panic!("setup step failed: {e}"));
        }
    };
    let assign = Command::Assign {
        lead_unit: LEAD.into(),
        coordinating_units: vec![COORD.into()],
        note: None,
    };
    let accept = Command::Accept { note: None };
    use State::*;
    if state != Submitted && state != Rejected {
        app.classify(&id).await.expect("screened");
    }
    if matches!(
        state,
        Assigned | InProgress | Deferred | Resolved | Published | Closed | Returned
    ) {
        act(ioc.clone(), assign).await;
    }
    if matches!(state, InProgress | Deferred | Resolved | Published | Closed) {
        act(staff.clone(), accept).await;
    }
    match state {
        Deferred => {
            let cmd = Command::Defer {
                reason: "Chờ kinh phí".into(),
                expected_date: chrono::NaiveDate::from_ymd_opt(2027, 3, 31).expect("a date"),
            };
            act(staff.clone(), cmd).await;
            // Đ.8.2: the deferred case is the one flagged as possibly secret.
            let flag = Command::FlagSecret {
                reason: "Gần khu vực quân sự".into(),
            };
            act(actors::unit_head(LEAD), flag).await;
        }
        Resolved | Published | Closed => {
            let evidence = upload(w, &staff).await;
            let body =
                json!({"action": "resolve", "summary": "Đã thu gom rác", "evidence": [evidence]});
            app.act_json(&id, &staff, body).await.expect("resolved");
        }
        Returned => {
            let cmd = Command::Return {
                reason: "Không đúng thẩm quyền".into(),
                suggested_category: None,
            };
            act(staff.clone(), cmd).await;
        }
        Referred => {
            act(
                ioc.clone(),
                Command::Refer {
                    note: "Phức tạp".into(),
                },
            )
            .await;
        }
        Rejected => {
            let cmd = Command::Reject {
                reason: "Không thuộc phạm vi".into(),
            };
            act(actors::ioc_operator(), cmd).await;
        }
        _ => {}
    }
    if matches!(state, Published | Closed) {
        let cmd = Command::Publish {
            public_answer: "Đã thu gom rác và vệ sinh khu vực.".into(),
            public_attachments: vec![],
        };
        act(ioc.clone(), cmd).await;
    }
    if state == Closed {
        act(ioc.clone(), Command::Close { note: None }).await;
    }
    let r = app.load(&id).await.expect("stored");
    assert_eq!(r.state, state, "setup reached {:?}", r.state);
    Case {
        id,
        state,
        lead: r.assignment.as_ref().map(|a| a.lead_unit.clone()),
        coordinating: r
            .assignment
            .as_ref()
            .map(|a| a.coordinating_units.clone())
            .unwrap_or_default(),
        reporter: actors::citizen().id,
        possibly_secret: r.flags.possibly_secret,
        state_secret: r.flags.state_secret,
    }
}

/// One matrix cell: a fresh report in `state`, `actor` sends the request, the answer must be
/// `expect`; a denied request leaves the stored report exactly as it was.
/// One request of the matrix: the method, the route for a report id, and the body.
struct Req<'a> {
    method: Method,
    path: &'a dyn Fn(&ReportId) -> String,
    body: Option<Value>,
}

async fn cell(
    w: &World,
    state: State,
    actor: &Actor,
    req: Req<'_>,
    expect: &dyn Fn(&Case) -> Expect,
    failures: &mut Vec<String>,
) -> Expect {
    let c = report_in(w, state).await;
    let want = expect(&c);
    let before = w.state.app.load(&c.id).await.expect("stored");
    let uri = (req.path)(&c.id);
    let method = req.method;
    let (status, answer) = w.api(actor, method.clone(), &uri, req.body).await;
    if !want.status_ok(status) {
        failures.push(format!(
            "{method} {uri} as {:?}/{:?} in {state:?}: want {want:?}, got {status} {answer}",
            actor.role, actor.unit
        ));
    }
    if want != Expect::Allowed {
        let after = w.state.app.load(&c.id).await.expect("stored");
        if after != before {
            failures.push(format!(
                "{method} {uri} as {:?}/{:?} in {state:?}: denied, but the report changed",
                actor.role, actor.unit
            ));
        }
        if want == Expect::Hidden && answer.to_string().contains(c.id.as_str()) {
            failures.push(format!("{uri}: a hidden report's id in the answer"));
        }
    }
    want
}

/// Counts of each expectation, so the test also shows the matrix is not one-sided.
#[derive(Default, Debug)]
struct Tally {
    allowed: usize,
    hidden: usize,
    forbidden: usize,
    wrong_state: usize,
}

impl Tally {
    fn add(&mut self, e: Expect) {
        match e {
            Expect::Allowed => self.allowed += 1,
            Expect::Hidden => self.hidden += 1,
            Expect::Forbidden => self.forbidden += 1,
            Expect::WrongState => self.wrong_state += 1,
        }
    }
}

#[tokio::test]
async fn every_staff_action_by_every_role_and_unit_in_every_state_is_allowed_or_denied_exactly() {
    let w = world();
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for action in REPORT_ACTIONS {
        for state in State::ALL {
            for actor in cast() {
                let evidence = if action == Action::Resolve {
                    Some(upload(&w, &actor).await)
                } else {
                    None
                };
                let e = cell(
                    &w,
                    state,
                    &actor,
                    Req {
                        method: Method::POST,
                        path: &|id| format!("/v1/staff/reports/{id}/actions"),
                        body: Some(body(action, evidence.as_deref())),
                    },
                    &|c| expect_staff_action(c, &actor, action),
                    &mut failures,
                )
                .await;
                tally.add(e);
            }
        }
    }
    println!("staff actions: {tally:?}");
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        tally.allowed > 100
            && tally.hidden > 100
            && tally.forbidden > 100
            && tally.wrong_state > 100
    );
}

#[tokio::test]
async fn the_dedicated_staff_routes_follow_the_same_tables() {
    let w = world();
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for state in State::ALL {
        for actor in cast() {
            // Reading a report: any staff member who may see it (BOLA: others get 404).
            let e = cell(
                &w,
                state,
                &actor,
                Req {
                    method: Method::GET,
                    path: &|id| format!("/v1/staff/reports/{id}"),
                    body: None,
                },
                &|c| match (is_staff(&actor), visible(c, &actor)) {
                    (false, _) => Expect::Forbidden,
                    (true, false) => Expect::Hidden,
                    (true, true) => Expect::Allowed,
                },
                &mut failures,
            )
            .await;
            tally.add(e);
            // A leader's directive (Đ.6.2) through its own route.
            let e = cell(
                &w,
                state,
                &actor,
                Req {
                    method: Method::POST,
                    path: &|id| format!("/v1/staff/reports/{id}/directives"),
                    body: Some(json!({"text": "Yêu cầu xử lý ngay"})),
                },
                &|c| expect_staff_action(c, &actor, Action::Directive),
                &mut failures,
            )
            .await;
            tally.add(e);
            // Revealing the reporter (Đ.4.4) through its own route.
            let e = cell(
                &w,
                state,
                &actor,
                Req {
                    method: Method::POST,
                    path: &|id| format!("/v1/staff/reports/{id}/reveal-reporter"),
                    body: Some(json!({"reason": "Cần liên hệ xác minh"})),
                },
                &|c| expect_staff_action(c, &actor, Action::RevealReporter),
                &mut failures,
            )
            .await;
            tally.add(e);
        }
    }
    println!("staff routes: {tally:?}");
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_reporters_routes_are_the_reporters_only() {
    let w = world();
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for state in State::ALL {
        for actor in cast() {
            let e = cell(
                &w,
                state,
                &actor,
                Req {
                    method: Method::GET,
                    path: &|id| format!("/v1/me/reports/{id}"),
                    body: None,
                },
                &|c| match (is_staff(&actor), visible(c, &actor)) {
                    (true, _) => Expect::Forbidden,
                    (false, false) => Expect::Hidden,
                    (false, true) => Expect::Allowed,
                },
                &mut failures,
            )
            .await;
            tally.add(e);
            for (action, route) in [(Action::Rate, "rating"), (Action::Reopen, "reopen")] {
                let e = cell(
                    &w,
                    state,
                    &actor,
                    Req {
                        method: Method::POST,
                        path: &|id| format!("/v1/me/reports/{id}/{route}"),
                        body: Some(body(action, None)),
                    },
                    &|c| expect_citizen_action(c, &actor, action),
                    &mut failures,
                )
                .await;
                tally.add(e);
            }
        }
    }
    println!("reporter routes: {tally:?}");
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_public_report_is_there_only_once_published_and_never_with_personal_data() {
    let w = world();
    for state in State::ALL {
        let c = report_in(&w, state).await;
        let res = common::get_page(&w.state, &format!("/v1/public/reports/{}", c.id), None).await;
        let status = res.status();
        let body = text(res).await;
        let public = matches!(state, State::Published | State::Closed);
        assert_eq!(status.is_success(), public, "{state:?}: {status} {body}");
        if !public {
            assert_eq!(status, StatusCode::NOT_FOUND, "{state:?}");
        }
        for pii in [common::NAME, common::PHONE, common::EMAIL, "citizen-1"] {
            assert!(!body.contains(pii), "{state:?}: {pii} in {body}");
        }
    }
}
