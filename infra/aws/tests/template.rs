//! `template.yaml` must declare what the adapters expect: the table and its indexes as
//! `table.rs` builds them, the consumer queues and filter policies of `topology.rs`, the
//! environment `AwsSettings::from_env` reads, and sane queue/function pairings.

use phananh_aws::settings::{ENV_ALERTS_TOPIC_ARN, ENV_BUCKET, ENV_EVENTS_TOPIC_ARN, ENV_TABLE};
use phananh_aws::table::{key_attributes, GSIS, PK, SK, TTL_ATTR};
use phananh_aws::topology::{Topology, CONSUMERS, MAX_RECEIVE_COUNT};
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template parses")
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = &t["Resources"][name];
    assert!(!r.is_null(), "resource {name} missing");
    r
}

/// `!Ref X` → "X"; `!GetAtt X.Y` → "X.Y"; plain strings as they are.
fn intrinsic(v: &Value) -> String {
    match v {
        Value::Tagged(t) => format!("{}:{}", t.tag, t.value.as_str().unwrap_or_default()),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(intrinsic).collect())
        .unwrap_or_default()
}

fn pascal(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, v)| v["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
        .collect()
}

fn timeout(t: &Value, f: &Value) -> u64 {
    f["Properties"]["Timeout"]
        .as_u64()
        .or_else(|| t["Globals"]["Function"]["Timeout"].as_u64())
        .expect("a timeout")
}

#[test]
fn table_and_indexes_are_the_ones_the_adapter_uses() {
    let t = template();
    let p = &resource(&t, "ReportsTable")["Properties"];
    assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    let keys: Vec<(String, String)> = p["KeySchema"]
        .as_sequence()
        .expect("keys")
        .iter()
        .map(|k| (intrinsic(&k["AttributeName"]), intrinsic(&k["KeyType"])))
        .collect();
    assert_eq!(
        keys,
        vec![(PK.into(), "HASH".into()), (SK.into(), "RANGE".into())]
    );

    let defined: BTreeSet<String> = p["AttributeDefinitions"]
        .as_sequence()
        .expect("attributes")
        .iter()
        .map(|a| {
            assert_eq!(a["AttributeType"].as_str(), Some("S"));
            intrinsic(&a["AttributeName"])
        })
        .collect();
    let expected: BTreeSet<String> = key_attributes().into_iter().map(String::from).collect();
    assert_eq!(defined, expected);

    let gsis: Vec<(String, String, String, String)> = p["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("gsis")
        .iter()
        .map(|g| {
            let ks = g["KeySchema"].as_sequence().expect("gsi keys");
            (
                intrinsic(&g["IndexName"]),
                intrinsic(&ks[0]["AttributeName"]),
                intrinsic(&ks[1]["AttributeName"]),
                intrinsic(&g["Projection"]["ProjectionType"]),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = GSIS
        .iter()
        .map(|g| (g.name.into(), g.pk.into(), g.sk.into(), "ALL".into()))
        .collect();
    assert_eq!(gsis, want);
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(TTL_ATTR)
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"].as_bool(), Some(true));
}

#[test]
fn consumer_queues_subscriptions_and_functions_match_the_topology() {
    let t = template();
    for c in CONSUMERS {
        let name = pascal(c.name());
        let sub = &resource(&t, &format!("{name}Subscription"))["Properties"];
        assert_eq!(intrinsic(&sub["TopicArn"]), "!Ref:EventsTopic", "{name}");
        assert_eq!(
            intrinsic(&sub["Endpoint"]),
            format!("!GetAtt:{name}Queue.Arn")
        );
        assert_eq!(
            sub["RawMessageDelivery"].as_bool(),
            Some(true),
            "{name}: raw delivery"
        );
        assert_eq!(sub["FilterPolicyScope"].as_str(), Some("MessageAttributes"));
        let types = strings(&sub["FilterPolicy"]["event_type"]);
        assert_eq!(
            types,
            c.event_types(),
            "{name}: filter policy = topology.rs"
        );

        let q = &resource(&t, &format!("{name}Queue"))["Properties"];
        assert_eq!(
            q["RedrivePolicy"]["maxReceiveCount"].as_u64(),
            Some(MAX_RECEIVE_COUNT as u64)
        );
        assert_eq!(
            intrinsic(&q["RedrivePolicy"]["deadLetterTargetArn"]),
            format!("!GetAtt:{name}DeadLetterQueue.Arn")
        );
        resource(&t, &format!("{name}DeadLetterQueue"));

        // Exactly one function consumes the queue, with partial batch failures, and the
        // queue's visibility timeout is at least six times that function's timeout.
        let consumers: Vec<(String, &Value)> = functions(&t)
            .into_iter()
            .filter(|(_, f)| {
                f["Properties"]["Events"].as_mapping().is_some_and(|evs| {
                    evs.values().any(|e| {
                        e["Type"].as_str() == Some("SQS")
                            && intrinsic(&e["Properties"]["Queue"])
                                == format!("!GetAtt:{name}Queue.Arn")
                    })
                })
            })
            .collect();
        assert_eq!(consumers.len(), 1, "{name}Queue has one consumer");
        let (fname, f) = &consumers[0];
        let ev = f["Properties"]["Events"]
            .as_mapping()
            .expect("events")
            .values()
            .find(|e| e["Type"].as_str() == Some("SQS"))
            .expect("sqs event");
        assert!(
            strings(&ev["Properties"]["FunctionResponseTypes"])
                .contains(&"ReportBatchItemFailures".to_string()),
            "{fname} reports partial batch failures"
        );
        let vis = q["VisibilityTimeout"].as_u64().expect("visibility timeout");
        assert!(
            vis >= 6 * timeout(&t, f),
            "{name}Queue visibility {vis} < 6 x {fname} timeout"
        );

        // Its dead-letter queue is watched.
        let watched = t["Resources"]
            .as_mapping()
            .expect("resources")
            .values()
            .any(|r| {
                r["Type"].as_str() == Some("AWS::CloudWatch::Alarm")
                    && r["Properties"]["Dimensions"]
                        .as_sequence()
                        .is_some_and(|d| {
                            d.iter().any(|d| {
                                intrinsic(&d["Value"])
                                    == format!("!GetAtt:{name}DeadLetterQueue.QueueName")
                            })
                        })
            });
        assert!(watched, "{name}DeadLetterQueue has an alarm");
    }
}

#[test]
fn every_function_is_a_rust_cargolambda_build_of_a_workspace_binary_and_is_alarmed() {
    let t = template();
    let fns = functions(&t);
    assert!(
        fns.len() >= 9,
        "api x3, media, classify, notify, publish, escalate, relay"
    );
    let cargo_tomls: String = std::fs::read_dir(root().join("functions"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|d| std::fs::read_to_string(d.path().join("Cargo.toml")).ok())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    for (name, f) in &fns {
        assert_eq!(
            f["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name}"
        );
        let bin = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("Binary");
        assert!(bin.starts_with("phananh-"), "{name}: {bin}");
        assert!(
            cargo_tomls.contains(&format!("name = \"{bin}\"")),
            "{name}: binary {bin} is declared by a crate under functions/"
        );
        assert_eq!(
            f["Properties"]["CodeUri"].as_str(),
            Some("."),
            "{name}: workspace root"
        );
        let alarmed = t["Resources"]
            .as_mapping()
            .expect("resources")
            .values()
            .any(|r| {
                r["Properties"]["MetricName"].as_str() == Some("Errors")
                    && r["Properties"]["Dimensions"]
                        .as_sequence()
                        .is_some_and(|d| {
                            d.iter()
                                .any(|d| intrinsic(&d["Value"]) == format!("!Ref:{name}"))
                        })
            });
        assert!(alarmed, "{name} has an Errors alarm");
    }
    let g = &t["Globals"]["Function"];
    assert_eq!(g["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(g["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(
        strings(&g["Architectures"]),
        vec!["!Ref:Architecture".to_string()]
    );
    assert_eq!(
        t["Parameters"]["Architecture"]["Default"].as_str(),
        Some("arm64")
    );
}

#[test]
fn functions_get_every_setting_the_adapters_read() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for var in [
        ENV_TABLE,
        ENV_BUCKET,
        ENV_EVENTS_TOPIC_ARN,
        ENV_ALERTS_TOPIC_ARN,
    ] {
        assert!(!env[var].is_null(), "{var} is set for every function");
    }
    assert_eq!(intrinsic(&env[ENV_TABLE]), "!Ref:ReportsTable");
    assert_eq!(intrinsic(&env[ENV_EVENTS_TOPIC_ARN]), "!Ref:EventsTopic");
    assert_eq!(intrinsic(&env[ENV_ALERTS_TOPIC_ARN]), "!Ref:AlertsTopic");
    // The bucket name is computed in both places (no dependency cycle): they must agree.
    let bucket = &resource(&t, "MediaBucket")["Properties"];
    assert_eq!(
        intrinsic(&env[ENV_BUCKET]),
        intrinsic(&bucket["BucketName"])
    );
    let block = &bucket["PublicAccessBlockConfiguration"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[k].as_bool(), Some(true), "{k}");
    }
}
