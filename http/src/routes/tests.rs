//! The router against the route table, and the staff login's password work: the same for
//! every username, and never on the async executor.

use super::Unrouted;
use crate::auth::{probe, Argon2Passwords, BearerAuth, TokenService};
use crate::{router, HttpState, ROUTES};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use phananh_core::app::{App, NewAccount, Ports};
use phananh_core::model::{Actor, Role};
use phananh_testkit::fakes::{FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds};
use phananh_testkit::fixtures::{rules, t0};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;
use tower::ServiceExt;

/// The API on in-memory fakes, with the real argon2 password port and local tokens.
fn state() -> HttpState {
    let store = Arc::new(MemoryStore::default());
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store,
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(Argon2Passwords),
        },
    );
    let tokens = TokenService::new("routes-test-secret");
    HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: crate::console::ConsoleConfig::local(tokens, false),
    }
}

async fn add_account(s: &HttpState, username: &str, password: &str, disabled: bool) {
    let operator = Actor::system();
    let new = NewAccount {
        username: username.into(),
        display_name: "Cán bộ thử".into(),
        role: Role::IocHead,
        unit: None,
        password: password.into(),
    };
    let acc = s.app.create_account(&operator, new).await.expect("created");
    if disabled {
        s.app
            .set_account_disabled(&operator, &acc.id, true)
            .await
            .expect("disabled");
    }
}

fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("a request")
}

fn login(username: &str, password: &str) -> Request<Body> {
    let body = serde_json::json!({ "username": username, "password": password });
    Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request")
}

async fn body_of(res: Response) -> Vec<u8> {
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body")
        .to_vec()
}

#[tokio::test]
async fn the_router_serves_every_route_of_the_table() {
    let app = router(state());
    for (method, path) in ROUTES {
        let uri = path
            .replace("{id}", "r-1")
            .replace("{attachment_id}", "a-1");
        let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
        let res = app
            .clone()
            .oneshot(request(m, &uri))
            .await
            .expect("an answer");
        assert!(
            res.extensions().get::<Unrouted>().is_none(),
            "{method} {path} is in ROUTES but the router answers it with its {} fallback",
            res.status()
        );
    }
    // The check can fail: what the table lacks gets the fallbacks.
    for (method, uri, status) in [
        (Method::GET, "/v1/nowhere", StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/v1/reports",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let res = app
            .clone()
            .oneshot(request(method, uri))
            .await
            .expect("an answer");
        assert_eq!(res.status(), status, "{uri}");
        assert!(res.extensions().get::<Unrouted>().is_some(), "{uri}");
    }
}

#[tokio::test]
async fn an_unknown_or_disabled_username_costs_the_same_password_check_as_a_known_one() {
    const RIGHT: &str = "đếm-lần-kiểm-tra-đúng";
    const WRONG: &str = "đếm-lần-kiểm-tra-sai";
    let checks = Arc::new(AtomicUsize::new(0));
    let counter = checks.clone();
    probe::watch(move |password| {
        if password == RIGHT || password == WRONG {
            counter.fetch_add(1, SeqCst);
        }
    });
    let s = state();
    add_account(&s, "canbo.dem", RIGHT, false).await;
    add_account(&s, "canbo.bi.khoa", RIGHT, true).await;
    let app = router(s);

    let mut refusals = Vec::new();
    for (username, password, status) in [
        ("canbo.dem", RIGHT, StatusCode::OK),
        ("canbo.dem", WRONG, StatusCode::UNAUTHORIZED),
        ("khong.ton.tai", RIGHT, StatusCode::UNAUTHORIZED),
        ("canbo.bi.khoa", RIGHT, StatusCode::UNAUTHORIZED),
    ] {
        let before = checks.load(SeqCst);
        let res = app
            .clone()
            .oneshot(login(username, password))
            .await
            .expect("an answer");
        assert_eq!(res.status(), status, "login as {username}");
        assert_eq!(
            checks.load(SeqCst) - before,
            1,
            "login as {username} with {password}: argon2 verifications"
        );
        if status != StatusCode::OK {
            refusals.push(body_of(res).await);
        }
    }
    assert!(
        refusals.windows(2).all(|w| w[0] == w[1]),
        "a wrong password, an unknown and a disabled username are refused alike"
    );
}

/// Holds password checks in flight (on whichever thread runs them) until opened, and counts
/// those that ran on the async executor's own thread instead (held there, nothing would ever
/// open it: they are counted and let through).
struct Gate {
    runtime_thread: ThreadId,
    entered: AtomicUsize,
    held: AtomicUsize,
    on_runtime_thread: AtomicUsize,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn pass(&self) {
        if thread::current().id() == self.runtime_thread {
            self.on_runtime_thread.fetch_add(1, SeqCst);
            self.entered.fetch_add(1, SeqCst);
            return;
        }
        self.held.fetch_add(1, SeqCst);
        self.entered.fetch_add(1, SeqCst);
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // A safety net only (a failed test opens the gate on unwinding): never reached.
        let _ = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(120), |open| !*open);
        self.held.fetch_sub(1, SeqCst);
    }

    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[test]
fn the_runtime_answers_while_logins_check_passwords() {
    const PASSWORD: &str = "mật-khẩu-kiểm-tra-luồng";
    const LOGINS: usize = 3;
    // One thread runs every task: a password check on it would stall all requests.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let gate = Arc::new(Gate {
        runtime_thread: thread::current().id(),
        entered: AtomicUsize::new(0),
        held: AtomicUsize::new(0),
        on_runtime_thread: AtomicUsize::new(0),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let _open_on_drop = OpenOnDrop(gate.clone());
    let g = gate.clone();
    probe::watch(move |password| {
        if password == PASSWORD {
            g.pass();
        }
    });

    rt.block_on(async {
        let s = state();
        add_account(&s, "canbo.song.song", PASSWORD, false).await;
        let app = router(s);
        let logins: Vec<_> = (0..LOGINS)
            .map(|_| tokio::spawn(app.clone().oneshot(login("canbo.song.song", PASSWORD))))
            .collect();
        while gate.entered.load(SeqCst) < LOGINS {
            tokio::task::yield_now().await;
        }
        // Every login is now checking its password (or, run on this thread, has done so).
        let health = app
            .clone()
            .oneshot(request(Method::GET, "/healthz"))
            .await
            .expect("an answer");
        assert_eq!(health.status(), StatusCode::OK);
        let held_while_answering = gate.held.load(SeqCst);
        gate.open();
        for login in logins {
            let res = login.await.expect("joined").expect("an answer");
            assert_eq!(res.status(), StatusCode::OK);
        }
        assert_eq!(
            gate.on_runtime_thread.load(SeqCst),
            0,
            "password checks ran on the async executor's thread (argon2 stalls every request)"
        );
        assert_eq!(
            held_while_answering, LOGINS,
            "/healthz was answered while all logins were still checking passwords"
        );
    });
}

#[tokio::test]
async fn the_staff_list_searches_free_text_ignoring_diacritics() {
    use tower::ServiceExt;
    let s = state();
    let citizen = Actor::new("dev-1", Role::Citizen, None);
    let new = phananh_core::lifecycle::NewReport {
        category: "urban_order".into(),
        title: "Ổ gà trên đường Trần Phú".into(),
        description: "Ổ gà lớn gây nguy hiểm cho xe máy.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    s.app.submit(&citizen, new, &[], None).await.unwrap();
    let tokens = s.tokens.clone().unwrap();
    let (token, _) = tokens
        .issue(&Actor::new("ioc-1", Role::IocHead, None))
        .unwrap();
    let get = |q: &str| {
        axum::http::Request::builder()
            .uri(format!("/v1/staff/reports?q={q}"))
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let router = crate::router(s.clone());
    let found = router
        .clone()
        .oneshot(get("o%20ga%20tran%20phu"))
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    let body = axum::body::to_bytes(found.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    let none = router.clone().oneshot(get("cau%20treo")).await.unwrap();
    let body = axum::body::to_bytes(none.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["items"].as_array().unwrap().is_empty(), "{v}");
    let long = router.oneshot(get(&"a".repeat(201))).await.unwrap();
    assert_eq!(long.status(), 400);
}
