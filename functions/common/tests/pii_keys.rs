//! The functions' cold start with the personal-data key (issue 12 item 5): the wrapped key of
//! `PHANANH_PII_WRAPPED_KEYS` is unwrapped by KMS (on the emulator) and the runtime's App keeps
//! the reporter's data sealed in the table; a wrapped key KMS cannot unwrap stops the start.
//! One test in its own binary: it sets a process-wide variable.

use phananh_aws::aws_sdk_kms;
use phananh_aws::kms::{generate_wrapped_key, ENV_PII_WRAPPED_KEYS};
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, Reporter, Role};
use phananh_core::CityRules;
use phananh_lambda::{InitError, Runtime};
use phananh_tests::moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_unwraps_the_data_key_and_the_table_holds_no_reporter_data() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let kms = aws_sdk_kms::Client::new(&clients.config);
    let key = kms.create_key().send().await.expect("KMS key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_string();
    let wrapped = generate_wrapped_key(&kms, &key_id).await.expect("wrapped");

    std::env::set_var(ENV_PII_WRAPPED_KEYS, "bm90IGEgd3JhcHBlZCBrZXk=");
    let refused = Runtime::new(
        &clients,
        settings.clone(),
        CityRules::laichau_default().unwrap(),
    )
    .with_pii_keys(&clients)
    .await;
    assert!(matches!(refused, Err(InitError::PiiKeys(_))));

    std::env::set_var(ENV_PII_WRAPPED_KEYS, &wrapped);
    let rt = Runtime::new(
        &clients,
        settings.clone(),
        CityRules::laichau_default().unwrap(),
    )
    .with_pii_keys(&clients)
    .await
    .expect("cold start");
    let citizen = Actor::new("cit-kms", Role::Citizen, None);
    let (r, _) = rt
        .app
        .submit(
            &citizen,
            NewReport {
                category: "environment".into(),
                title: "Rác ùn ứ trước chợ".into(),
                description: "Rác thải ùn ứ nhiều ngày, bốc mùi khó chịu.".into(),
                location: None,
                address: None,
                reporter_ward: None,
                attachments: vec![],
                reporter: Some(Reporter {
                    citizen_id: String::new(),
                    name: Some("Vàng A Páo".into()),
                    phone: Some("0966555444".into()),
                    email: Some("pao@example.vn".into()),
                }),
                camera_id: None,
            },
            &[],
            None,
        )
        .await
        .expect("submitted");
    let items = clients
        .dynamodb
        .scan()
        .table_name(&settings.table)
        .send()
        .await
        .expect("scan");
    let raw = format!("{:?}", items.items());
    for personal in ["Vàng A Páo", "966555444", "pao@example.vn"] {
        assert!(!raw.contains(personal), "{personal} in the table: {raw}");
    }
    assert!(raw.contains("pii1:"));
    let ioc = Actor::new("ioc-1", Role::IocHead, None);
    let revealed = rt
        .app
        .reveal_reporter(&r.id, &ioc, "Xác minh".into())
        .await
        .expect("revealed")
        .expect("reporter");
    assert_eq!(revealed.phone.as_deref(), Some("+84966555444"));
}
