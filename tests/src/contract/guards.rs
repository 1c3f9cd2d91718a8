//! `GuardStore` contract, and the sign-in rules of core on top of it (single-use codes, at
//! most five tries, cool-downs, the growing password delay) on whichever store backs them.

use crate::fixtures::unique;
use chrono::{Duration, TimeZone, Utc};
use phananh_core::app::guards::{CODE_MAX_ATTEMPTS, CODE_RESEND_COOLDOWN_SECS};
use phananh_core::ports::{Channel, GuardStore, StoreError};
use phananh_core::DomainError;
use phananh_testkit::app::TestApp;
use serde_json::json;
use std::sync::Arc;

/// The port: compare-and-swap on the version, documents and expiry kept.
pub async fn guard_store_contract(store: Arc<dyn GuardStore>) {
    let key = unique("guard");
    let exp = Utc
        .with_ymd_and_hms(2030, 1, 2, 3, 4, 5)
        .single()
        .expect("instant");
    assert_eq!(store.guard_get(&key).await, Ok(None));
    store
        .guard_put(&key, &json!({"n": 1}), exp, None)
        .await
        .expect("first write");
    let r = store.guard_get(&key).await.expect("read").expect("record");
    assert_eq!(
        (r.version, r.doc.clone(), r.expires_at),
        (1, json!({"n": 1}), exp)
    );
    // A second "new" record under the same key, or a stale version, is a conflict.
    assert_eq!(
        store.guard_put(&key, &json!({"n": 9}), exp, None).await,
        Err(StoreError::Conflict)
    );
    store
        .guard_put(&key, &json!({"n": 2}), exp, Some(1))
        .await
        .expect("swap");
    assert_eq!(
        store.guard_put(&key, &json!({"n": 9}), exp, Some(1)).await,
        Err(StoreError::Conflict)
    );
    let r = store.guard_get(&key).await.expect("read").expect("record");
    assert_eq!((r.version, r.doc), (2, json!({"n": 2})));

    // Concurrent increments with retries lose nothing.
    let counter = unique("counter");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                let cur = store.guard_get(&counter).await.expect("read");
                let (n, v) = cur
                    .map(|r| (r.doc["n"].as_u64().unwrap_or(0), Some(r.version)))
                    .unwrap_or((0, None));
                match store
                    .guard_put(&counter, &json!({"n": n + 1}), exp, v)
                    .await
                {
                    Ok(()) => return,
                    Err(StoreError::Conflict) => continue,
                    Err(e) => panic!("guard write failed: {e}"),
                }
            }
            panic!("no increment within 50 tries");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let r = store
        .guard_get(&counter)
        .await
        .expect("read")
        .expect("record");
    assert_eq!(r.doc["n"], json!(8), "every increment counted once");
}

fn last_code(t: &TestApp) -> String {
    let n = t
        .notifier
        .all()
        .into_iter()
        .last()
        .expect("a code was sent");
    n.body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the message")
        .to_string()
}

/// Core's sign-in guards on `store`: a code brute-forced is locked after five tries, a code
/// is used once, a new code waits for the cool-down, passwords get a growing delay.
pub async fn sign_in_guards_contract(store: Arc<dyn GuardStore>) {
    let t = TestApp::new();
    let app = t
        .app
        .clone()
        .with_audit_key(b"guard-contract-key")
        .with_guards(store);
    let phone = format!("+8491{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    let addr = unique("10.0.0");
    app.request_sign_in_code(&phone, Channel::Sms, &addr)
        .await
        .expect("a code is sent");
    let code = last_code(&t);
    // Nothing stored holds the code or the phone number in clear (checked by the adapters'
    // own tests on their rows); a second code within the cool-down is refused with a wait.
    match app.request_sign_in_code(&phone, Channel::Sms, &addr).await {
        Err(DomainError::TooManyAttempts { retry_after_secs }) => {
            assert!(retry_after_secs > 0 && retry_after_secs <= CODE_RESEND_COOLDOWN_SECS as u64)
        }
        other => panic!("second code within the cool-down: {other:?}"),
    }
    // Brute force: five wrong codes, then even the right one is refused.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..CODE_MAX_ATTEMPTS {
        assert_eq!(
            app.verify_sign_in_code(&phone, wrong, &addr).await,
            Err(DomainError::InvalidCode),
            "wrong try {i}"
        );
    }
    assert!(matches!(
        app.verify_sign_in_code(&phone, &code, &addr).await,
        Err(DomainError::TooManyAttempts { .. })
    ));
    // After the cool-down a new code works once.
    t.clock
        .advance(Duration::seconds(CODE_RESEND_COOLDOWN_SECS + 1));
    app.request_sign_in_code(&phone, Channel::Sms, &addr)
        .await
        .expect("a new code");
    let code2 = last_code(&t);
    assert_eq!(app.verify_sign_in_code(&phone, &code2, &addr).await, Ok(()));
    assert_eq!(
        app.verify_sign_in_code(&phone, &code2, &addr).await,
        Err(DomainError::InvalidCode),
        "a code is used once"
    );
    // An expired code is refused.
    t.clock
        .advance(Duration::seconds(CODE_RESEND_COOLDOWN_SECS + 1));
    app.request_sign_in_code(&phone, Channel::Sms, &addr)
        .await
        .expect("a third code");
    let code3 = last_code(&t);
    t.clock.advance(Duration::minutes(11));
    assert_eq!(
        app.verify_sign_in_code(&phone, &code3, &addr).await,
        Err(DomainError::InvalidCode),
        "an expired code"
    );

    // Staff passwords: after the free failures, a growing delay without a password check.
    let user = unique("guard.user");
    for _ in 0..3 {
        assert_eq!(
            app.login_from(&user, "wrong-password", &addr).await,
            Err(DomainError::InvalidCredentials)
        );
    }
    let first = match app.login_from(&user, "wrong-password", &addr).await {
        Err(DomainError::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("fourth try during the delay: {other:?}"),
    };
    t.clock.advance(Duration::seconds(first as i64 + 1));
    assert_eq!(
        app.login_from(&user, "wrong-password", &addr).await,
        Err(DomainError::InvalidCredentials)
    );
    let second = match app.login_from(&user, "wrong-password", &addr).await {
        Err(DomainError::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("during the second delay: {other:?}"),
    };
    assert!(second > first, "the delay grows: {first} then {second}");
}
