//! IAM versus calls: every function's policies in `template.yaml` grant exactly what its code
//! calls (the table in `infra/aws/src/iam.rs`), in both directions, and every SDK operation
//! the adapters call is in that table. No emulator enforces IAM: a missing grant would only
//! show on a real account, as AccessDenied (the staff function once lacked `s3:PutObject`,
//! so every resolve with evidence would have failed).

use phananh_aws::iam::{function_needs, iam_action_of, On};
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

fn text(v: &Value) -> String {
    match v {
        Value::Tagged(t) => match &t.value {
            Value::String(s) => format!("{}:{s}", t.tag),
            other => format!("{}:{other:?}", t.tag),
        },
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

const BUCKET: &str =
    "arn:${AWS::Partition}:s3:::phananh-${Stage}-media-${AWS::AccountId}-${AWS::Region}";

/// The stack resource a policy's `Resource` names; anything else is refused.
fn resource_of(v: &Value) -> On {
    let t = text(v);
    match t.as_str() {
        "!GetAtt:ReportsTable.Arn" => On::Table,
        "!Sub:${ReportsTable.Arn}/index/*" => On::TableIndexes,
        "!Ref:EventsTopic" => On::EventsTopic,
        "!GetAtt:PiiKey.Arn" => On::PiiKey,
        "!Ref:AlertsTopic" => On::AlertsTopic,
        "!Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*" => {
            On::SesIdentities
        }
        "!GetAtt:AnchorBucket.Arn" => On::AnchorBucket,
        "!Sub:${AnchorBucket.Arn}/*" => On::AnchorObjects,
        _ if t == format!("!Sub:{BUCKET}") => On::MediaBucket,
        _ if t == format!("!Sub:{BUCKET}/*") => On::MediaObjects,
        _ if t == format!("!Sub:{BUCKET}/public/*") => On::PublicMediaObjects,
        _ if t.starts_with("!If:")
            && t.contains("UserPool.Arn")
            && t.contains(":userpool/${CognitoUserPoolId}") =>
        {
            On::StaffPool
        }
        _ => panic!("a policy names a resource the table does not know: {t}"),
    }
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Sequence(s) => s.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// (action, resource) pairs a function's `Policies` grant. Only explicit statements are
/// accepted: a SAM policy template grants a bundle (DynamoDBCrudPolicy: Scan, DescribeTable…)
/// that cannot be matched against calls.
fn granted(name: &str, f: &Value) -> BTreeSet<(String, On)> {
    let mut out = BTreeSet::new();
    for p in list(&f["Properties"]["Policies"]) {
        let stmts = p["Statement"].as_sequence().unwrap_or_else(|| {
            panic!("{name}: policies are explicit statements, not SAM policy templates: {p:?}")
        });
        for st in stmts {
            assert_eq!(st["Effect"].as_str(), Some("Allow"), "{name}");
            let actions: Vec<String> = list(&st["Action"]).into_iter().map(text).collect();
            let resources: Vec<On> = if st["NotResource"].is_null() {
                list(&st["Resource"]).into_iter().map(resource_of).collect()
            } else {
                let nr = text(&st["NotResource"]);
                assert_eq!(
                    nr, "!Sub:arn:${AWS::Partition}:sns:*:*:*",
                    "{name}: NotResource"
                );
                assert_eq!(
                    actions,
                    vec!["sns:Publish".to_string()],
                    "{name}: NotResource is for SMS only"
                );
                vec![On::SmsNumbers]
            };
            for a in &actions {
                assert!(!a.contains('*'), "{name}: wildcard action {a}");
                for r in &resources {
                    out.insert((a.clone(), *r));
                }
            }
        }
    }
    out
}

#[test]
fn every_function_is_granted_exactly_what_its_code_calls() {
    let t = template();
    let fns: Vec<(String, &Value)> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, v)| v["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
        .collect();
    let table = function_needs();
    let in_template: BTreeSet<&str> = fns.iter().map(|(n, _)| n.as_str()).collect();
    let in_table: BTreeSet<&str> = table.iter().map(|f| f.function).collect();
    assert_eq!(
        in_template, in_table,
        "the table covers the template's functions"
    );

    let mut problems = Vec::new();
    for (name, f) in &fns {
        let needs = table.iter().find(|n| n.function == name).expect("in table");
        let want: BTreeSet<(String, On)> = needs
            .needs
            .iter()
            .map(|n| (n.action.to_string(), n.on))
            .collect();
        let got = granted(name, f);
        for missing in want.difference(&got) {
            let why = needs
                .needs
                .iter()
                .find(|n| n.action == missing.0 && n.on == missing.1)
                .map(|n| n.because)
                .unwrap_or_default();
            problems.push(format!(
                "{name}: MISSING {} on {:?} ({why})",
                missing.0, missing.1
            ));
        }
        for unused in got.difference(&want) {
            problems.push(format!("{name}: UNUSED {} on {:?}", unused.0, unused.1));
        }
    }
    assert!(
        problems.is_empty(),
        "IAM versus calls:\n{}",
        problems.join("\n")
    );
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// SDK operations by the service whose client has them (the ones these adapters may use).
const OPERATIONS: &[(&str, &[&str])] = &[
    (
        "dynamodb",
        &[
            "get_item",
            "put_item",
            "update_item",
            "delete_item",
            "query",
            "scan",
            "transact_write_items",
            "transact_get_items",
            "batch_write_item",
            "batch_get_item",
        ],
    ),
    ("sns", &["publish", "publish_batch"]),
    (
        "s3",
        &[
            "get_object",
            "put_object",
            "head_object",
            "copy_object",
            "delete_object",
            "delete_objects",
            "list_objects_v2",
        ],
    ),
    (
        "sqs",
        &[
            "send_message",
            "receive_message",
            "delete_message",
            "change_message_visibility",
        ],
    ),
    ("sesv2", &["send_email"]),
    ("kms", &["decrypt"]),
];

/// Every SDK operation called in the adapters' source (`.operation()` on a builder chain),
/// as (service, Operation). Provisioning helpers (`create_*`, used by emulator tests) are not
/// function code.
fn called_operations() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root().join("infra/aws/src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let src = std::fs::read_to_string(&p).expect("source");
            // Cognito: every `admin_*`/`list_users*` call is an operation of cognito-idp.
            for (i, _) in src.match_indices('.') {
                let rest = &src[i + 1..];
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !rest[ident.len()..].starts_with("()") || ident.is_empty() {
                    continue;
                }
                if ident.starts_with("admin_") || ident.starts_with("list_users") {
                    // The SDK's snake case loses the acronym of AdminSetUserMFAPreference.
                    out.insert((
                        "cognito-idp".to_string(),
                        pascal(&ident).replace("Mfa", "MFA"),
                    ));
                    continue;
                }
                for (service, ops) in OPERATIONS {
                    if ops.contains(&ident.as_str()) {
                        let op = pascal(&ident)
                            .replace("V2", "")
                            .replace("ListObjects", "ListBucket");
                        out.insert((service.to_string(), op));
                    }
                }
            }
        }
    }
    out
}

/// Adapter methods that make an SDK call but that no function calls (so no grant).
const NO_FUNCTION_CALLS: &[(&str, &str)] = &[
    // `S3MediaStore::delete`: no caller in functions/, core or http (rejected uploads expire
    // with the bucket's lifecycle rule instead).
    ("s3", "DeleteObject"),
    // `DynamoAggregates::clear`, the statistics rebuild's first step: run by `serve` on the
    // embedded runtime and by the tests; no function rebuilds the statistics on AWS.
    ("dynamodb", "BatchWriteItem"),
    // `DynamoReportStore::scan_report_ids`, the sealing job of `phananh-aws pii seal`: run by
    // an operator with their own credentials (docs/trust.md), never by a function.
    ("dynamodb", "Scan"),
];

#[test]
fn every_sdk_call_in_the_adapters_is_in_the_table() {
    let ops = called_operations();
    for must in [
        ("dynamodb", "TransactWriteItems"),
        ("sns", "PublishBatch"),
        ("s3", "HeadObject"),
        ("cognito-idp", "AdminDisableUser"),
        ("kms", "Decrypt"),
    ] {
        assert!(
            ops.contains(&(must.0.to_string(), must.1.to_string())),
            "the scan finds {must:?}: {ops:?}"
        );
    }
    let table = function_needs();
    let needed: BTreeSet<&str> = table
        .iter()
        .flat_map(|f| f.needs.iter().map(|n| n.action))
        .collect();
    let mut missing = Vec::new();
    for (service, op) in &ops {
        if NO_FUNCTION_CALLS.contains(&(service.as_str(), op.as_str())) {
            continue;
        }
        for action in iam_action_of(service, op) {
            if !needed.contains(action.as_str()) {
                missing.push(format!("{service} {op} → {action}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "SDK calls no function is granted (add them to infra/aws/src/iam.rs): {missing:?}"
    );
}
