//! The console's AWS sign-in path (Cognito hosted UI, authorization code with PKCE), against
//! a fake user pool served on 127.0.0.1 by the test: its key set (JWKS) and token endpoint.
//! ID tokens are signed here with fixed test-only RSA keys: a valid one opens a console page;
//! expired, forged, wrong-audience, wrong-issuer and access tokens go back to sign-in.

mod common;

use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{get_page, location};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::cognito::{
    pkce_challenge, CognitoConfig, CognitoSessions, CognitoSignIn, AUTH_COOKIE,
};
use phananh_http::console::{ConsoleConfig, Sessions, SignIn};
use phananh_http::HttpState;
use phananh_testkit::app::TestApp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Test-only key of the fake pool (kid `k1`). Never used anywhere else.
const POOL_KEY: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAk2pkn3l9UZKpbVk+s65D4JoxC40IdqX183q3FRtCHs1f5ZRB
m0GaIajlsOHMFGM8zXbkkS3AdeyrymkDqigFKvg4dybU3iSMn/CFBAeD3V/k7qoB
c6sk1FGleIxR8ohehO1qz365LsBBggPXnqs+N7PQmdBNT3qLCAlko4IsGCborwq1
pAZzuIAThQH3sJDzWvr+SE9b7XtiyVXdhRRg5KfofgEgHM0j0zCWqmCDNb9NxkwG
rE6uaZWk10p+IW4X91e6LWLB0YXtoHJc9mibbz5Iee4sIl7D/ADrYNAGBLBe+ahS
X4U18mDfNSYc5t3NfkhlnaS3QbC5LuGfuwRNawIDAQABAoIBABZLFbKEVe5bJqIx
x+i2Zu91ggtEJc6DpKFQopVfjO1Jk8INXKqVDjEe8LWCQDGpHE3aOBC4gY2T4Br5
LKOz76wi468pQTHjBx0863DDji6RTPbG4PdUH3q4ajTDy7TI6LpjiS6d9HVcf8ug
tx/4t60G1XodZUOqvZHWkdCkY/S22uGY5SFTRyfzOFSy5t/Wy5XX1xyfkmOmiGk5
ztHydjNQys1S+sjUXbpz9XzVOEfWlZ3pKzNvzu7z1en5wj3Rf9c5lHtcAaJ0kzbk
5MfzLW4tf/RxshzFZc2+3WdDvoZnJOFskm0C5N6ThYoi2jgEwx75Ip3k1UH9aVQP
WvK3bvkCgYEAwunhxa/C5K101d53GGNqxNjSXg8i+m7cfMuHm2enL3uRJcGZd6+J
pBzgelpaisDFMc9Plg32DJ6CJpj/qwDGATzsxcbPTTy9hgxelVHwS1GfjvctD8nU
7gG+PWExl2duvTnZFGnr94piUnjZrNIDeR7VCEDS8dkKW8atfHPtKzcCgYEAwZ2y
l4HGel+TTi8MItPPEoSnOCSLH+GGfNGAdRwGQdF3uRkxBmACUM9Max/8vw+6McCe
phIdk0h121bQNGNUibRCaMquFg7Fn53+PwGjsoS1ejQCDvrQfdehkyhtINYxqWFW
hFtIWP+1f/Vl+XK4GfPWM0+OnAisr1pkkZHH0W0CgYAO1nkecHPYrq+vPEE6tQ7C
r3LMQEC8acYVJfVLykc64SA6jJNfPhivSpd4GPq9h1E7qnl3hdaOPV7RC2KjJOrt
2zJ3F9xeF9qhor1shpFRWoRYAM8IXaf8+lr+FzEMQo52jznMSQfyjzFO7+46Lr6e
8M7s0up8CLa2J9i7GaQbXwKBgD98JuAY1GyxxApB0PfmfaJzzqTRDrFAcKmixD0i
GEcimOAfi3yspHW80zDZBzXawVGo+Bw6Gmp9uu9VsuVKoKCac6AKvTRMWa5xzrj4
H6Xcb+kG/pnM0epBdyBahBXdReFlIko56CoOhoPTgkFdxVH1KwoeDwPIsF67A/jb
VSqtAoGAWcylg3hqlI+zwE6mtTP0H5V+wwLOK2wjAe5eoreF/H13WFC96hFCS6dE
VWWWDlJ+y99c9gUFg8mZakiJNLzI3s0eGMwN2M5Fm2+FayCfGz9bVCm/Qb4l5WOW
a9zfgjnxu1QLo22eVRCXHfvJOahEDqLbTTNnzw4gn/bZiIlLgS0=
-----END RSA PRIVATE KEY-----
";
/// Another test-only key: tokens signed with it are forgeries.
const OTHER_KEY: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIIEpQIBAAKCAQEApugWXQIAIL8lH0wVaSR5Hun16XgddIsh4WD4AyT7GfduqNLQ
tqDQWNEnGxGxK3nNjIHnxDlUxUjP46r/tqmtod6yeTveGqfGmn2CWZX8m2kZtkgd
p1fw0N1JgS+S6OY5q4YTMNPHj9PZic8bJRTsjFiv/9hjAw0JOqSs/P0mn3QD5IGx
mQplcM1qdIx9+0PeZm8SrXCG4s8nnbPoo4GaWTs+Uy1BQkLNNsFN1Vl+t/7iloH9
T4Ifxlex6s6/fOJYAd/6WsS1fsznxanGHXJZb/Wg8CPXxxgoGepWEN7yAOL7F6RB
+p2zuTz1p3ZG5yoJoqoiUJwwWvYiP/zU32ektQIDAQABAoIBABVqFKh1P7/z1lb4
I40cbV/eg7sjOqA/06Z/kwKQRZlUykFl3vp3kpO6rgpGkFU0KP+8kRh3hJ1VVLrw
ryNoDMuGb56nZD1GRnB+5vEIkeL8rpxZD1jvqwmZQruM94vjMgYES0UJ/wJAm5oX
VPPChgERxe8M+9Mh4ovAIiPJdSGjA2gnLozBR+mgDQtsxoDHk1+dihMO05PIDkHB
+GB+xgcONnqjf+5X/IMr/tLXl/7glMXZ6v6slXYI035JHlZ6inwYEg+Bs0NtT+7K
4eDeTxUUTmRhwF7NMMPlWILYJn3HDYZx8klIF5KODj4U0IFtQvncyxzWDgaOYGfY
kofq8ZcCgYEA06JwM2CT3AWl/Az4inUQr7461l7zvvZNT4SKeozstOz6L5CqZ626
aorl8auNltGar65rVhl7Osg0hrHpLo0/WAaZhe9BQ8yHGp+Kv1ucSFA6sKkdCAL1
I6m9eLifEyKMu8BuPe2uoikmgUdaABOS2MesT6ZrPQc4/RxET1oC5msCgYEAyeVI
iDlKS2d4o5+1oEUHeSatQ/IHHuNHOGr9+vmrTaSCh4akFDUieVFfelbvLoi9M4xK
M67obgYXEOIzOoOPLlxo1o7twE1vbKoP2BtyTILVVenjyq4fd+o2Uhy5TpcMNdOY
so53qo/HhBDcAPo7nTTvJiRg78be/Hz42z2HKV8CgYEAyPmNS3z/bQYAJme67uFU
w1AHV+Q73LDRoh3f05lYgEg7HkhnSqX0TZEx5Fphz0OlfghI7i6sk5nkJ7V0Fz0T
VmiOCl62v8fO1T2E6Uv6EcH+uh0e8Ki+WuuqfqX0iptYwkNvbWf1WxFw+3viwAfW
f/6+Z7VGSWI+gD8Dr8du0ZkCgYEArHQ5XILzPy2HEtzdG6VbGNU8swkNpAinUT2y
7KpO9OdMx87uYIRyigZD9BBGBg2u71UqHLOOvkxdb4KIF7dAmm087+julJCQWNV6
6zGmlEw9RkGe3gWVw6w/8iuu7b6AI4o2qG6hMQPXfKuaAQu92C7bCE2Sr73DwxBM
0Zjg1ykCgYEAouqaf3N0/BnIsZoWj9PgqjyeMjZkvoKoempSyrTm+2SAhuHPjYnN
+8A3/pd5OykXt/GwslgeVOUpVzcZeVqnoZsyyqz3kYH6BOBUqLZD4F7oOJbs2us4
UzEbBpg2ph/wpJFZf0yL7LbG2qSQdSRwg7/qQFJUIRRYDzIen3M6WmI=
-----END RSA PRIVATE KEY-----
";

const CLIENT_ID: &str = "console-client-test";
const ISSUER: &str = "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test";
const CONSOLE: &str = "https://console.example";
const GOOD_CODE: &str = "the-authorization-code";

/// What the fake pool saw and hands out.
#[derive(Default)]
struct Pool {
    jwks: Mutex<Value>,
    jwks_fetches: AtomicUsize,
    token_requests: Mutex<Vec<HashMap<String, String>>>,
    /// The ID token the token endpoint returns.
    id_token: Mutex<String>,
}

async fn jwks(State(p): State<Arc<Pool>>) -> Json<Value> {
    p.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(p.jwks.lock().unwrap().clone())
}

async fn token(State(p): State<Arc<Pool>>, Form(f): Form<HashMap<String, String>>) -> Response {
    p.token_requests.lock().unwrap().push(f.clone());
    let ok = f.get("code").map(String::as_str) == Some(GOOD_CODE)
        && f.get("grant_type").map(String::as_str) == Some("authorization_code");
    if !ok {
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Body::from(r#"{"error":"invalid_grant"}"#))
            .unwrap();
    }
    let body = json!({
        "id_token": *p.id_token.lock().unwrap(),
        "access_token": "not-used",
        "expires_in": 3600,
        "token_type": "Bearer",
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn jwk(pem: &str, kid: &str) -> Value {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    serde_json::to_value(JwkSet { keys: vec![jwk] }).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// ID token claims of an IOC head, valid for an hour.
fn claims() -> Value {
    json!({
        "sub": "0f6b9a3c-ioc-head",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "auth_time": now(),
        "iat": now(),
        "exp": now() + 3600,
        "cognito:groups": ["ioc_head"],
        "cognito:username": "ioc.head",
        "name": "Trưởng IOC",
        "email": "ioc@example.test",
    })
}

fn sign(claims: &Value, pem: &str, kid: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    jsonwebtoken::encode(
        &h,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

struct Fixture {
    pool: Arc<Pool>,
    base: String,
    sessions: CognitoSessions,
    state: HttpState,
}

async fn fixture() -> Fixture {
    let pool = Arc::new(Pool::default());
    *pool.jwks.lock().unwrap() = jwk(POOL_KEY, "k1");
    let app = Router::new()
        .route("/pool/.well-known/jwks.json", get(jwks))
        .route("/oauth2/token", post(token))
        .with_state(pool.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let cfg = CognitoConfig {
        hosted_ui: base.clone(),
        client_id: CLIENT_ID.into(),
        issuer: ISSUER.into(),
        jwks_url: format!("{base}/pool/.well-known/jwks.json"),
        console_base_url: CONSOLE.into(),
    };
    let sessions = CognitoSessions::new(&cfg);
    sessions.refresh().await.unwrap();
    assert_eq!(sessions.cached_kids(), vec!["k1".to_string()]);
    let tokens = TokenService::new("unused-in-this-test");
    let state = HttpState {
        app: TestApp::new().app,
        auth: Arc::new(BearerAuth(tokens)),
        tokens: None,
        console: ConsoleConfig {
            sessions: Arc::new(sessions.clone()),
            sign_in: SignIn::External(Arc::new(CognitoSignIn::new(cfg, sessions.clone()))),
            secure_cookies: true,
        },
    };
    Fixture {
        pool,
        base,
        sessions,
        state,
    }
}

fn set_cookies(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn query(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), urlencoding::decode(v).unwrap().into_owned()))
        .collect()
}

fn is_sign_in_redirect(r: &Response) -> bool {
    r.status().is_redirection() && location(r).starts_with("/console/login?next=")
}

#[tokio::test]
async fn a_valid_id_token_opens_a_console_page() {
    let f = fixture().await;
    let t = sign(&claims(), POOL_KEY, "k1");
    let session = f.sessions.verify(&t).expect("valid");
    // The actor is the account: its Cognito username (the accounts port's id), not `sub`.
    assert_eq!(session.actor.id, "ioc.head");
    assert_eq!(session.actor.role.as_str(), "ioc_head");
    assert_eq!(session.name, "Trưởng IOC");

    let r = get_page(
        &f.state,
        "/console/ioc",
        Some(&format!("phananh_session={t}")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", location(&r));
    let home = get_page(&f.state, "/console", Some(&format!("phananh_session={t}"))).await;
    assert_eq!(location(&home), "/console/ioc");

    // A unit officer gets the unit from `custom:unit`.
    let mut c = claims();
    c["cognito:groups"] = json!(["unit_staff"]);
    c["custom:unit"] = json!("phong_kinh_te");
    let s = f
        .sessions
        .verify(&sign(&c, POOL_KEY, "k1"))
        .expect("unit staff");
    assert_eq!(s.actor.unit.as_deref(), Some("phong_kinh_te"));
    // ... and without one is refused, as on the API.
    c["custom:unit"] = json!("");
    assert!(f.sessions.verify(&sign(&c, POOL_KEY, "k1")).is_err());
}

#[tokio::test]
async fn expired_forged_foreign_and_access_tokens_go_back_to_sign_in() {
    let f = fixture().await;
    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    expired["iat"] = json!(now() - 3720);
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("another-app-client");
    let mut wrong_iss = claims();
    wrong_iss["iss"] =
        json!("https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Other");
    let mut access = claims();
    access["token_use"] = json!("access");
    access["client_id"] = json!(CLIENT_ID);
    let mut no_use = claims();
    no_use.as_object_mut().unwrap().remove("token_use");

    let valid = sign(&claims(), POOL_KEY, "k1");
    // Another payload under the pool's signature.
    let parts: Vec<&str> = valid.split('.').collect();
    let mut c = claims();
    c["cognito:groups"] = json!(["office_admin"]);
    let payload = URL_SAFE_NO_PAD.encode(c.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);

    let cases = [
        ("expired", sign(&expired, POOL_KEY, "k1")),
        (
            "forged with the pool's kid",
            sign(&claims(), OTHER_KEY, "k1"),
        ),
        (
            "forged with an unknown kid",
            sign(&claims(), OTHER_KEY, "k2"),
        ),
        ("tampered payload", tampered),
        ("wrong audience", sign(&wrong_aud, POOL_KEY, "k1")),
        ("wrong issuer", sign(&wrong_iss, POOL_KEY, "k1")),
        ("access token", sign(&access, POOL_KEY, "k1")),
        ("no token_use", sign(&no_use, POOL_KEY, "k1")),
        ("garbage", "not.a.token".to_string()),
    ];
    for (what, token) in cases {
        assert!(f.sessions.verify(&token).is_err(), "{what} accepted");
        let r = get_page(
            &f.state,
            "/console/ioc",
            Some(&format!("phananh_session={token}")),
        )
        .await;
        assert!(
            is_sign_in_redirect(&r),
            "{what}: {} {}",
            r.status(),
            location(&r)
        );
        assert!(location(&r).contains("next=%2Fconsole%2Fioc"), "{what}");
    }
    // The expired one says so on the way back.
    let r = get_page(
        &f.state,
        "/console/ioc",
        Some(&format!(
            "phananh_session={}",
            sign(&expired, POOL_KEY, "k1")
        )),
    )
    .await;
    assert!(location(&r).contains("expired=1"));
    // An unknown kid refetches the key set at most once per interval, however many requests.
    let fetches = f.pool.jwks_fetches.load(Ordering::SeqCst);
    for _ in 0..5 {
        let _ = f.sessions.verify(&sign(&claims(), OTHER_KEY, "k9"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(f.pool.jwks_fetches.load(Ordering::SeqCst) <= fetches + 1);
}

/// Signs in: /console/login → the hosted UI's authorize URL and the sign-in cookie.
async fn start(f: &Fixture) -> (HashMap<String, String>, String) {
    let r = get_page(&f.state, "/console/login?next=%2Fconsole%2Fioc", None).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let url = location(&r);
    assert!(
        url.starts_with(&format!("{}/oauth2/authorize?", f.base)),
        "{url}"
    );
    let cookies = set_cookies(&r);
    let auth = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{AUTH_COOKIE}=")))
        .expect("the sign-in cookie")
        .clone();
    (query(&url), auth)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap()
}

#[tokio::test]
async fn sign_in_uses_pkce_s256_and_a_lax_short_lived_state_cookie() {
    let f = fixture().await;
    let (q, auth) = start(&f).await;
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(
        q["redirect_uri"],
        format!("{CONSOLE}/console/auth/callback")
    );
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["code_challenge_method"], "S256");
    // The cookie: HttpOnly, SameSite=Lax (the callback is a cross-site navigation), Secure,
    // scoped to the callback, short-lived.
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/console/auth",
        "Max-Age=600",
    ] {
        assert!(auth.contains(attr), "{attr} in {auth}");
    }
    let value = cookie_value(&auth);
    let mut parts = value.splitn(3, '.');
    let (state, verifier) = (parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(q["state"], state);
    assert!(verifier.len() >= 43, "RFC 7636: 43 to 128 characters");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(q["code_challenge"], challenge);
    assert_eq!(pkce_challenge(verifier), challenge);
    // Each sign-in has its own state and verifier.
    let (q2, auth2) = start(&f).await;
    assert_ne!(q2["state"], q["state"]);
    assert_ne!(cookie_value(&auth2), value);
}

#[tokio::test]
async fn a_callback_with_a_wrong_state_or_without_the_cookie_is_refused() {
    let f = fixture().await;
    let (q, auth) = start(&f).await;
    let cookie = format!("{AUTH_COOKIE}={}", cookie_value(&auth));
    let wrong = format!("{}x", q["state"]);
    for (state, cookie) in [
        (wrong.as_str(), Some(cookie.as_str())),
        (q["state"].as_str(), None),
    ] {
        let path = format!(
            "/console/auth/callback?code={GOOD_CODE}&state={}",
            urlencoding::encode(state)
        );
        let r = get_page(&f.state, &path, cookie).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookies(&r)
            .iter()
            .all(|c| !c.starts_with("phananh_session=")));
    }
    // The code was never sent to the token endpoint.
    assert!(f.pool.token_requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_code_exchange_sets_the_session_cookie_and_returns_where_the_person_was() {
    let f = fixture().await;
    let id_token = sign(&claims(), POOL_KEY, "k1");
    *f.pool.id_token.lock().unwrap() = id_token.clone();
    let (q, auth) = start(&f).await;
    let value = cookie_value(&auth);
    let verifier = value.split('.').nth(1).unwrap().to_string();
    let path = format!(
        "/console/auth/callback?code={GOOD_CODE}&state={}",
        urlencoding::encode(&q["state"])
    );
    let r = get_page(&f.state, &path, Some(&format!("{AUTH_COOKIE}={value}"))).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/console/ioc");
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("phananh_session="))
        .expect("session cookie");
    assert_eq!(cookie_value(&session), id_token);
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    let max_age: i64 = session
        .split("Max-Age=")
        .nth(1)
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!((3500..=3600).contains(&max_age), "{max_age}");

    // The token request: form body, public client (no secret), the verifier, the same
    // redirect URI.
    let reqs = f.pool.token_requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let form = &reqs[0];
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["code_verifier"], verifier);
    assert_eq!(
        form["redirect_uri"],
        format!("{CONSOLE}/console/auth/callback")
    );
    assert!(!form.contains_key("client_secret"));

    // The cookie opens the page.
    let page = get_page(
        &f.state,
        "/console/ioc",
        Some(&format!("phananh_session={id_token}")),
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refused_exchange_or_a_bad_token_from_the_pool_sets_no_session() {
    let f = fixture().await;
    // The pool returns a token signed with another key: refused by the verification.
    *f.pool.id_token.lock().unwrap() = sign(&claims(), OTHER_KEY, "k1");
    let (q, auth) = start(&f).await;
    let cookie = format!("{AUTH_COOKIE}={}", cookie_value(&auth));
    let path = format!(
        "/console/auth/callback?code={GOOD_CODE}&state={}",
        urlencoding::encode(&q["state"])
    );
    let r = get_page(&f.state, &path, Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(&r)
        .iter()
        .all(|c| !c.starts_with("phananh_session=")));
    // A code the pool does not know.
    let path = format!(
        "/console/auth/callback?code=other&state={}",
        urlencoding::encode(&q["state"])
    );
    let r = get_page(&f.state, &path, Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A citizen of the pool (no staff group) is not let into the console.
    let mut citizen = claims();
    citizen.as_object_mut().unwrap().remove("cognito:groups");
    *f.pool.id_token.lock().unwrap() = sign(&citizen, POOL_KEY, "k1");
    let path = format!(
        "/console/auth/callback?code={GOOD_CODE}&state={}",
        urlencoding::encode(&q["state"])
    );
    let r = get_page(&f.state, &path, Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookies(&r)
        .iter()
        .all(|c| !c.starts_with("phananh_session=")));
}

#[tokio::test]
async fn sign_out_goes_through_the_hosted_ui_logout() {
    let f = fixture().await;
    let SignIn::External(p) = &f.state.console.sign_in else {
        panic!("external sign-in");
    };
    let url = p.logout_url().unwrap();
    assert!(url.starts_with(&format!("{}/logout?", f.base)), "{url}");
    let q = query(&url);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["logout_uri"], format!("{CONSOLE}/console"));
}
