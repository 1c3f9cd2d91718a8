//! On AWS, staff sign in at Cognito, so the office's account routes must act on the Cognito
//! staff pool (through the same core policy), or a dismissed officer could still sign in.
//! Driven through the API function's router with API Gateway events, against moto.
//! Also: citizens (not Cognito users) are authenticated by the app's own tokens on the
//! citizen function's routes, which have no API Gateway authorizer.

use phananh_aws::aws_sdk_cognitoidentityprovider::types::UserStatusType;
use phananh_aws::aws_sdk_cognitoidentityprovider::Client as Cognito;
use phananh_core::CityRules;
use phananh_http::auth::TokenService;
use phananh_lambda::{router, Runtime};
use phananh_tests::moto::{self, Moto};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tower::ServiceExt;

fn sample() -> Value {
    let path = format!(
        "{}/../../events/api-staff-queue.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json")
}

/// An API Gateway request; `claims` None = a route without the JWT authorizer.
fn request(
    method: &str,
    path: &str,
    body: Option<Value>,
    claims: Option<Value>,
    bearer: Option<&str>,
) -> Value {
    let mut ev = sample();
    ev["rawPath"] = json!(path);
    ev["rawQueryString"] = json!("");
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["requestContext"]["http"]["method"] = json!(method);
    ev["routeKey"] = json!(format!("{method} {path}"));
    ev["requestContext"]["routeKey"] = ev["routeKey"].clone();
    ev["headers"] = json!({"content-type": "application/json"});
    if let Some(t) = bearer {
        ev["headers"]["authorization"] = json!(format!("Bearer {t}"));
    }
    match body {
        Some(b) => ev["body"] = json!(b.to_string()),
        None => ev["body"] = Value::Null,
    }
    match claims {
        Some(c) => {
            ev["requestContext"]["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}})
        }
        None => {
            if let Some(rc) = ev["requestContext"].as_object_mut() {
                rc.remove("authorizer");
            }
        }
    }
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
fn unit_head() -> Value {
    json!({"sub": "3f1e-head", "cognito:username": "acc-head-0001", "cognito:groups": "[unit_head]", "custom:unit": "phong_kinh_te"})
}

/// The Cognito operations moto received for `username`, in order.
fn cognito_calls_for(username: &str) -> Vec<String> {
    Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|t| t.starts_with("AWSCognitoIdentityProviderService."))
                && serde_json::from_str::<Value>(&r.body)
                    .is_ok_and(|b| b["Username"].as_str() == Some(username))
        })
        .filter_map(|r| r.operation())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_manages_staff_accounts_in_the_cognito_pool() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let pool = moto::provision_user_pool(&clients).await.expect("pool");
    let rules = CityRules::laichau_default().expect("rules");
    let rt = Runtime::with_accounts(&clients, settings, rules, Some(&pool));
    let cognito = Cognito::new(&clients.config);

    // Core's policy first: a unit head may not create accounts, and Cognito is not asked.
    let new = json!({"username": "kt.nguyen", "display_name": "Nguyễn Văn Kinh", "role": "unit_staff", "unit": "phong_kinh_te", "password": "Tam-thoi-2025"});
    let (st, _) = call(
        &rt,
        request(
            "POST",
            "/v1/admin/accounts",
            Some(new.clone()),
            Some(unit_head()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let users = cognito
        .list_users()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("list");
    assert!(users.users().is_empty(), "nothing created in the pool");

    // The office creates: a Cognito user with a temporary password, group = role, unit.
    let (st, acc) = call(
        &rt,
        request(
            "POST",
            "/v1/admin/accounts",
            Some(new),
            Some(office()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{acc}");
    let id = acc["id"].as_str().expect("id").to_string();
    let u = cognito
        .admin_get_user()
        .user_pool_id(&pool)
        .username(&id)
        .send()
        .await
        .expect("the account is a pool user");
    assert!(u.enabled());
    assert_eq!(u.user_status(), Some(&UserStatusType::ForceChangePassword));
    let attr = |name: &str| {
        u.user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
            .map(str::to_string)
    };
    assert_eq!(attr("preferred_username").as_deref(), Some("kt.nguyen"));
    assert_eq!(attr("custom:unit").as_deref(), Some("phong_kinh_te"));
    assert_eq!(attr("name").as_deref(), Some("Nguyễn Văn Kinh"));
    let groups = cognito
        .admin_list_groups_for_user()
        .user_pool_id(&pool)
        .username(&id)
        .send()
        .await
        .expect("groups");
    let names: Vec<&str> = groups
        .groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, vec!["unit_staff"]);
    let calls = cognito_calls_for(&id);
    assert!(
        calls.contains(&"AdminSetUserPassword".to_string()),
        "{calls:?}"
    );

    // Listed by the office.
    let (st, list) = call(
        &rt,
        request("GET", "/v1/admin/accounts", None, Some(office()), None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(list.to_string().contains(&id), "{list}");

    // Disabled: Cognito refuses the sign-in from now on, and open sessions are ended.
    let (st, _) = call(
        &rt,
        request(
            "POST",
            &format!("/v1/admin/accounts/{id}/disable"),
            None,
            Some(office()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let u = cognito
        .admin_get_user()
        .user_pool_id(&pool)
        .username(&id)
        .send()
        .await
        .expect("user");
    assert!(!u.enabled(), "disabled in Cognito");
    let calls = cognito_calls_for(&id);
    let disable = calls
        .iter()
        .position(|c| c == "AdminDisableUser")
        .expect("disable call");
    assert!(
        calls[disable..]
            .iter()
            .any(|c| c == "AdminUserGlobalSignOut"),
        "signed out after the disable: {calls:?}"
    );

    // Enabled again.
    let (st, _) = call(
        &rt,
        request(
            "POST",
            &format!("/v1/admin/accounts/{id}/enable"),
            None,
            Some(office()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let u = cognito
        .admin_get_user()
        .user_pool_id(&pool)
        .username(&id)
        .send()
        .await
        .expect("user");
    assert!(u.enabled(), "enabled in Cognito");

    // Reset: a new temporary password (core's length rule first).
    let before = cognito_calls_for(&id)
        .iter()
        .filter(|c| *c == "AdminSetUserPassword")
        .count();
    let (st, _) = call(
        &rt,
        request(
            "POST",
            &format!("/v1/admin/accounts/{id}/reset-password"),
            Some(json!({"password": "ngan"})),
            Some(office()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, body) = call(
        &rt,
        request(
            "POST",
            &format!("/v1/admin/accounts/{id}/reset-password"),
            Some(json!({"password": "Mat-khau-moi-2025"})),
            Some(office()),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let after = cognito_calls_for(&id)
        .iter()
        .filter(|c| *c == "AdminSetUserPassword")
        .count();
    assert_eq!(after, before + 1);
    let u = cognito
        .admin_get_user()
        .user_pool_id(&pool)
        .username(&id)
        .send()
        .await
        .expect("user");
    assert_eq!(u.user_status(), Some(&UserStatusType::ForceChangePassword));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_use_app_tokens_on_routes_without_the_authorizer() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let rules = CityRules::laichau_default().expect("rules");
    let mut rt = Runtime::new(&clients, settings, rules);

    // Without a token secret (every function but the citizen one) there are no app tokens.
    let (st, _) = call(&rt, request("POST", "/v1/auth/device", None, None, None)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    rt.tokens = Some(TokenService::new("0123456789abcdef0123456789abcdef"));
    let (st, tok) = call(&rt, request("POST", "/v1/auth/device", None, None, None)).await;
    assert_eq!(st, StatusCode::OK, "{tok}");
    let token = tok["access_token"].as_str().expect("token").to_string();

    let (st, _) = call(&rt, request("GET", "/v1/me/reports", None, None, None)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "anonymous");
    let (st, body) = call(
        &rt,
        request("GET", "/v1/me/reports", None, None, Some(&token)),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _) = call(
        &rt,
        request("GET", "/v1/me/reports", None, None, Some("forged.token.x")),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Another secret's token is refused.
    let other = TokenService::new("ffffffffffffffffffffffffffffffff");
    let (forged, _) = other
        .issue(&phananh_core::model::Actor::new(
            "dev-x",
            phananh_core::model::Role::Citizen,
            None,
        ))
        .expect("issue");
    let (st, _) = call(
        &rt,
        request("GET", "/v1/me/reports", None, None, Some(&forged)),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
