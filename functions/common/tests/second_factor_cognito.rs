//! Issue 12 item 3 on AWS: the optional TOTP second factor of leaders, the IOC head and the
//! office lives in the Cognito staff pool (`MfaConfiguration: OPTIONAL`, software tokens),
//! under the same core policy as embedded: only those roles enrol, from their own session
//! (their own Cognito access token), a first correct code switches it on, sign-in then answers
//! Cognito's SOFTWARE_TOKEN_MFA challenge, and only the office switches it off. Driven through
//! the API function's router with API Gateway events, against moto, which checks the codes
//! (`MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP`, set where the tests start it).

use phananh_aws::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType,
};
use phananh_aws::aws_sdk_cognitoidentityprovider::Client as Cognito;
use phananh_core::{totp, CityRules};
use phananh_lambda::{router, Runtime};
use phananh_tests::moto::{self, Moto};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower::ServiceExt;

const HEADER: &str = "x-cognito-access-token";
const PASSWORD: &str = "Mat-khau-2025";

fn request(
    method: &str,
    path: &str,
    body: Option<Value>,
    claims: Value,
    token: Option<&str>,
) -> Value {
    let sample = format!(
        "{}/../../events/api-staff-queue.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut ev: Value =
        serde_json::from_str(&std::fs::read_to_string(&sample).expect("sample")).expect("json");
    ev["rawPath"] = json!(path);
    ev["rawQueryString"] = json!("");
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["requestContext"]["http"]["method"] = json!(method);
    ev["routeKey"] = json!(format!("{method} {path}"));
    ev["requestContext"]["routeKey"] = ev["routeKey"].clone();
    ev["headers"] = json!({"content-type": "application/json"});
    if let Some(t) = token {
        ev["headers"][HEADER] = json!(t);
    }
    ev["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    ev["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    ev
}

async fn call(rt: &Runtime, ev: Value) -> (StatusCode, Value) {
    let req = lambda_http::request::from_str(&ev.to_string()).expect("valid API Gateway event");
    let resp = router(rt).oneshot(req).await.expect("router");
    let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn office() -> Value {
    json!({"sub": "3f1e-office", "cognito:username": "acc-office-0001", "cognito:groups": "[office_admin]"})
}

fn staff(id: &str, role: &str, unit: Option<&str>) -> Value {
    let mut c = json!({"sub": format!("sub-{id}"), "cognito:username": id, "cognito:groups": format!("[{role}]")});
    if let Some(u) = unit {
        c["custom:unit"] = json!(u);
    }
    c
}

/// The AWS operations moto received, in order.
fn operations() -> Vec<String> {
    Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter_map(|r| r.operation())
        .collect()
}

struct Pool {
    cognito: Cognito,
    id: String,
    client: String,
}

impl Pool {
    /// A staff account made by the office's route, with a permanent password.
    async fn account(&self, rt: &Runtime, login: &str, role: &str, unit: Option<&str>) -> String {
        let mut body = json!({"username": login, "display_name": "Lê Văn Đạo", "role": role, "password": "Tam-thoi-2025"});
        if let Some(u) = unit {
            body["unit"] = json!(u);
        }
        let (st, acc) = call(
            rt,
            request("POST", "/v1/admin/accounts", Some(body), office(), None),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{acc}");
        let id = acc["id"].as_str().expect("id").to_string();
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(&id)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("permanent password");
        id
    }

    /// Signs in with the password: the access token, or the challenge's name and session.
    async fn sign_in(&self, id: &str) -> Result<String, (ChallengeNameType, String)> {
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", id)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("initiate auth");
        match out.challenge_name() {
            Some(c) => Err((c.clone(), out.session().unwrap_or_default().to_string())),
            None => Ok(out
                .authentication_result()
                .and_then(|r| r.access_token())
                .expect("access token")
                .to_string()),
        }
    }

    async fn mfa_on(&self, id: &str) -> bool {
        let u = self
            .cognito
            .admin_get_user()
            .user_pool_id(&self.id)
            .username(id)
            .send()
            .await
            .expect("user");
        u.user_mfa_setting_list()
            .iter()
            .any(|m| m == "SOFTWARE_TOKEN_MFA")
    }
}

fn code_now(secret_b32: &str) -> String {
    let secret = totp::base32_decode(secret_b32).expect("base32 secret");
    totp::code_of_step(&secret, totp::step_of(chrono::Utc::now().timestamp()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaders_enrol_a_cognito_totp_factor_under_core_policy_and_only_the_office_switches_it_off()
{
    let (clients, settings) = moto::provision_table().await.expect("table");
    let pool_id = moto::provision_user_pool(&clients).await.expect("pool");
    let rules = CityRules::laichau_default().expect("rules");
    let rt = Runtime::with_accounts(&clients, settings, rules, Some(&pool_id));
    let cognito = Cognito::new(&clients.config);
    // The emulator signs in with the password flow; the deployed API client uses SRP.
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("test")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("client");
    let pool = Pool {
        cognito: cognito.clone(),
        id: pool_id.clone(),
        client: client
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("client id")
            .to_string(),
    };
    let leader = pool.account(&rt, "ld.dao", "leader", None).await;
    let head = pool
        .account(&rt, "kt.truong", "unit_head", Some("phong_kinh_te"))
        .await;
    let leader_token = pool.sign_in(&leader).await.expect("no challenge yet");
    let head_token = pool.sign_in(&head).await.expect("no challenge yet");

    // Core's policy first: a unit head may not enrol, and Cognito is not asked for a secret.
    let before = operations().len();
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&head, "unit_head", Some("phong_kinh_te")),
            Some(&head_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!operations()[before..]
        .iter()
        .any(|o| o == "AssociateSoftwareToken"));

    // The leader without a Cognito access token: 422; with the unit head's token: 403.
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&leader, "leader", None),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "access_token", "{body}");
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&leader, "leader", None),
            Some(&head_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&leader, "leader", None),
            Some("not-a-token"),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");

    // Enrolment with the leader's own token: Cognito's secret, shown once as an otpauth URI.
    let (st, e) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&leader, "leader", None),
            Some(&leader_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let secret = e["secret"].as_str().expect("secret").to_string();
    assert!(
        e["otpauth_uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/"),
        "{e}"
    );
    assert!(!pool.mfa_on(&leader).await, "not on before a first code");

    // A wrong first code is refused and nothing is switched on.
    let good = code_now(&secret);
    let wrong = format!(
        "{:06}",
        (good.parse::<u32>().expect("digits") + 500_000) % 1_000_000
    );
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/confirm",
            Some(json!({"code": wrong})),
            staff(&leader, "leader", None),
            Some(&leader_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_otp", "{body}");
    assert!(!pool.mfa_on(&leader).await);
    assert!(
        pool.sign_in(&leader).await.is_ok(),
        "sign-in without a code still"
    );

    // The right code switches it on: Cognito now asks for the code at sign-in.
    let (st, body) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/confirm",
            Some(json!({"code": good})),
            staff(&leader, "leader", None),
            Some(&leader_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(pool.mfa_on(&leader).await, "switched on in the pool");
    let (challenge, session) = pool.sign_in(&leader).await.expect_err("a challenge now");
    assert_eq!(challenge, ChallengeNameType::SoftwareTokenMfa);
    let wrong_answer = cognito
        .respond_to_auth_challenge()
        .client_id(&pool.client)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(&session)
        .challenge_responses("USERNAME", &leader)
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", &wrong)
        .send()
        .await;
    assert!(wrong_answer.is_err(), "a wrong code does not sign in");
    let (_, session) = pool.sign_in(&leader).await.expect_err("a challenge");
    let answer = cognito
        .respond_to_auth_challenge()
        .client_id(&pool.client)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(&session)
        .challenge_responses("USERNAME", &leader)
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code_now(&secret))
        .send()
        .await
        .expect("the code signs in");
    assert!(answer
        .authentication_result()
        .and_then(|r| r.id_token())
        .is_some());

    // Enrolling again while on: refused (the office switches it off first).
    let (st, _) = call(
        &rt,
        request(
            "POST",
            "/v1/auth/totp/enrol",
            None,
            staff(&leader, "leader", None),
            Some(&leader_token),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // A lost phone: a unit head may not switch it off; the office does.
    let reset = format!("/v1/admin/accounts/{leader}/totp/reset");
    let (st, _) = call(
        &rt,
        request(
            "POST",
            &reset,
            None,
            staff(&head, "unit_head", Some("phong_kinh_te")),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(pool.mfa_on(&leader).await);
    let (st, body) = call(&rt, request("POST", &reset, None, office(), None)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(!pool.mfa_on(&leader).await, "switched off in the pool");
    assert!(pool.sign_in(&leader).await.is_ok(), "password alone again");
    assert!(operations()
        .iter()
        .any(|o| o == "AdminSetUserMFAPreference"));
}
