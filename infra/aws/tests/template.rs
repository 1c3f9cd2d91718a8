//! `template.yaml` must declare what the adapters expect: the table and its indexes as
//! `table.rs` builds them, the consumer queues and filter policies of `topology.rs`, the
//! environment `AwsSettings::from_env` reads, and sane queue/function pairings.

use phananh_aws::settings::{
    ENV_ALERTS_TOPIC_ARN, ENV_BUCKET, ENV_COGNITO_CLIENT_ID, ENV_COGNITO_DOMAIN,
    ENV_COGNITO_USER_POOL_ID, ENV_CONSOLE_BASE_URL, ENV_EVENTS_TOPIC_ARN, ENV_TABLE,
};
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

    type Gsi = (String, String, String, String, Vec<String>);
    let gsis: Vec<Gsi> = p["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("gsis")
        .iter()
        .map(|g| {
            let ks = g["KeySchema"].as_sequence().expect("gsi keys");
            let non_key: Vec<String> = g["Projection"]["NonKeyAttributes"]
                .as_sequence()
                .map(|a| a.iter().map(intrinsic).collect())
                .unwrap_or_default();
            (
                intrinsic(&g["IndexName"]),
                intrinsic(&ks[0]["AttributeName"]),
                intrinsic(&ks[1]["AttributeName"]),
                intrinsic(&g["Projection"]["ProjectionType"]),
                non_key,
            )
        })
        .collect();
    // The same projection as the table the tests create: only what each index's queries read.
    let want: Vec<Gsi> = GSIS
        .iter()
        .map(|g| {
            (
                g.name.into(),
                g.pk.into(),
                g.sk.into(),
                g.projection.type_name().into(),
                g.projection
                    .non_key_attributes()
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            )
        })
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

/// The console's callback route (`phananh_http::console::cognito::CALLBACK_PATH`).
const CONSOLE_CALLBACK_PATH: &str = "/console/auth/callback";

/// The API routes without the JWT authorizer: public ones, and the citizens' routes, whose
/// app tokens the citizen function verifies itself (citizens are not Cognito users,
/// docs/decisions/cognito-pools.md). Every other route is behind the authorizer.
const PUBLIC_API_ROUTES: [&str; 11] = [
    "/healthz",
    "/v1/openapi.yaml",
    "/v1/categories",
    "/v1/units",
    "/v1/wards",
    "/v1/public/{proxy+}",
    "/v1/auth/{proxy+}",
    "/v1/uploads",
    "/v1/uploads/{id}",
    "/v1/reports",
    "/v1/me/{proxy+}",
];

fn resources_of_type<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, v)| v["Type"].as_str() == Some(ty))
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
        .collect()
}

/// The text of a `!Sub "..."`.
fn sub_text(v: &Value) -> String {
    match v {
        Value::Tagged(t) if t.tag == "!Sub" => t.value.as_str().unwrap_or_default().to_string(),
        other => panic!("expected !Sub, got {other:?}"),
    }
}

#[test]
fn console_routes_are_public_at_api_gateway_and_served_by_the_api_binary() {
    let t = template();
    let routes: Vec<(String, &Value)> = resources_of_type(&t, "AWS::ApiGatewayV2::Route")
        .into_iter()
        .filter(|(_, r)| intrinsic(&r["Properties"]["ApiId"]) == "!Ref:ConsoleApi")
        .collect();
    let keys: BTreeSet<String> = routes
        .iter()
        .map(|(_, r)| intrinsic(&r["Properties"]["RouteKey"]))
        .collect();
    let want: BTreeSet<String> = [
        "GET /console",
        "POST /console",
        "GET /console/{proxy+}",
        "POST /console/{proxy+}",
        // The public site (docs/public-site.md), served by the same function.
        "GET /",
        "GET /{proxy+}",
        "POST /{proxy+}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys, want);
    for (name, r) in &routes {
        let p = &r["Properties"];
        assert_eq!(p["AuthorizationType"].as_str(), Some("NONE"), "{name}");
        assert!(p["AuthorizerId"].is_null(), "{name}");
        assert_eq!(sub_text(&p["Target"]), "integrations/${ConsoleIntegration}");
    }
    let integ = &resource(&t, "ConsoleIntegration")["Properties"];
    assert_eq!(integ["IntegrationType"].as_str(), Some("AWS_PROXY"));
    assert_eq!(integ["PayloadFormatVersion"].as_str(), Some("2.0"));
    assert_eq!(
        intrinsic(&integ["IntegrationUri"]),
        "!GetAtt:ApiConsoleFunction.Arn"
    );
    let f = resource(&t, "ApiConsoleFunction");
    assert_eq!(
        f["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("phananh-api"),
        "the console is the API function's router"
    );
    // Without SAM events on HttpApi: its generated body references every function it serves,
    // and this function references the console's client and URL (a dependency cycle).
    assert!(f["Properties"]["Events"].is_null());
    let perm = &resource(&t, "ConsoleInvokePermission")["Properties"];
    assert_eq!(intrinsic(&perm["FunctionName"]), "!Ref:ApiConsoleFunction");
    assert_eq!(perm["Principal"].as_str(), Some("apigateway.amazonaws.com"));
    assert!(sub_text(&perm["SourceArn"]).contains("${ConsoleApi}/"));
    let stage = &resource(&t, "ConsoleStage")["Properties"];
    assert_eq!(stage["StageName"].as_str(), Some("$default"));
    assert_eq!(stage["AutoDeploy"].as_bool(), Some(true));
}

#[test]
fn api_routes_stay_behind_the_jwt_authorizer() {
    let t = template();
    let auth = &resource(&t, "HttpApi")["Properties"]["Auth"];
    assert_eq!(auth["DefaultAuthorizer"].as_str(), Some("CognitoJwt"));
    let mut seen = 0;
    for (name, f) in functions(&t) {
        let Some(events) = f["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for e in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        {
            let p = &e["Properties"];
            let path = p["Path"].as_str().expect("path");
            assert!(!path.starts_with("/console"), "{name}: {path} on HttpApi");
            let public = p["Auth"]["Authorizer"].as_str() == Some("NONE");
            assert_eq!(
                public,
                PUBLIC_API_ROUTES.contains(&path),
                "{name}: {path} public={public}"
            );
            seen += 1;
        }
    }
    assert!(
        seen > PUBLIC_API_ROUTES.len(),
        "the API's routes are declared"
    );
}

#[test]
fn the_console_client_calls_back_to_the_console_route() {
    let t = template();
    let c = &resource(&t, "ConsoleClient")["Properties"];
    assert_eq!(c["GenerateSecret"].as_bool(), Some(false), "public client");
    assert_eq!(c["AllowedOAuthFlowsUserPoolClient"].as_bool(), Some(true));
    assert_eq!(strings(&c["AllowedOAuthFlows"]), vec!["code".to_string()]);
    let scopes: BTreeSet<String> = strings(&c["AllowedOAuthScopes"]).into_iter().collect();
    for s in ["openid", "email", "profile"] {
        assert!(scopes.contains(s), "scope {s}");
    }
    let f = &resource(&t, "ApiConsoleFunction")["Properties"];
    let env = &f["Environment"]["Variables"];
    let base = sub_text(&env[ENV_CONSOLE_BASE_URL]);
    assert!(base.starts_with("https://${ConsoleApi}."), "{base}");
    let callbacks: Vec<String> = c["CallbackURLs"]
        .as_sequence()
        .expect("callbacks")
        .iter()
        .map(sub_text)
        .collect();
    // What the function sends as redirect_uri (CONSOLE_BASE_URL + the callback route) is
    // exactly the registered callback, and a route of the console API serves it.
    assert_eq!(callbacks, vec![format!("{base}{CONSOLE_CALLBACK_PATH}")]);
    let logouts: Vec<String> = c["LogoutURLs"]
        .as_sequence()
        .expect("logout urls")
        .iter()
        .map(sub_text)
        .collect();
    assert_eq!(logouts, vec![format!("{base}/console")]);
    let served = resources_of_type(&t, "AWS::ApiGatewayV2::Route")
        .iter()
        .filter_map(|(_, r)| r["Properties"]["RouteKey"].as_str().map(String::from))
        .any(|k| {
            k.strip_prefix("GET ").is_some_and(|p| {
                p == CONSOLE_CALLBACK_PATH
                    || p.strip_suffix("{proxy+}")
                        .is_some_and(|prefix| CONSOLE_CALLBACK_PATH.starts_with(prefix))
            })
        });
    assert!(served, "GET {CONSOLE_CALLBACK_PATH} is routed");
}

#[test]
fn the_console_function_gets_every_console_setting() {
    let t = template();
    let env = &resource(&t, "ApiConsoleFunction")["Properties"]["Environment"]["Variables"];
    for var in [
        ENV_COGNITO_DOMAIN,
        ENV_COGNITO_CLIENT_ID,
        ENV_COGNITO_USER_POOL_ID,
        ENV_CONSOLE_BASE_URL,
    ] {
        assert!(
            !env[var].is_null(),
            "{var} is set for the console's function"
        );
    }
    assert_eq!(intrinsic(&env[ENV_COGNITO_CLIENT_ID]), "!Ref:ConsoleClient");
    // The hosted UI's host is computed from the domain prefix the stack creates.
    let Value::Tagged(domain) = &env[ENV_COGNITO_DOMAIN] else {
        panic!("COGNITO_DOMAIN is an !If");
    };
    assert_eq!(domain.tag, "!If");
    let branches = domain.value.as_sequence().expect("!If branches");
    assert_eq!(branches[0].as_str(), Some("CreateUserPool"));
    let prefix = sub_text(&resource(&t, "UserPoolDomain")["Properties"]["Domain"]);
    assert_eq!(
        sub_text(&branches[1]),
        format!("{prefix}.auth.${{AWS::Region}}.amazoncognito.com")
    );
    assert_eq!(intrinsic(&branches[2]), "!Ref:CognitoDomain");
}

/// What a real account refuses or gets wrong that the emulator does not check: Cognito
/// refuses a pool that auto-verifies phone numbers without an SMS configuration; a pool open
/// to sign-up would let anyone join the pool of leaders and administrators (Đ.4.1, Đ.9.2).
#[test]
fn the_staff_pool_is_closed_to_sign_up_and_matches_the_accounts_adapter() {
    use phananh_aws::cognito::{ATTR_LOGIN, STAFF_ROLES, UNIT_SCHEMA_NAME};
    let t = template();
    let p = &resource(&t, "UserPool")["Properties"];
    assert_eq!(
        p["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"].as_bool(),
        Some(true),
        "staff accounts are created by the office only"
    );
    let verified = strings(&p["AutoVerifiedAttributes"]);
    let sms_mfa = p["MfaConfiguration"].as_str() != Some("OFF")
        && (p["EnabledMfas"].is_null()
            || strings(&p["EnabledMfas"]).iter().any(|m| m == "SMS_MFA"));
    if verified.iter().any(|a| a == "phone_number") || sms_mfa {
        assert!(
            !p["SmsConfiguration"].is_null(),
            "phone verification or MFA needs an SmsConfiguration"
        );
    }
    // Issue 12 item 3: the optional TOTP second factor, software tokens only.
    assert_eq!(p["MfaConfiguration"].as_str(), Some("OPTIONAL"));
    assert_eq!(
        strings(&p["EnabledMfas"]),
        vec!["SOFTWARE_TOKEN_MFA".to_string()]
    );
    assert!(
        p["UsernameAttributes"].is_null(),
        "usernames are account ids"
    );
    assert_eq!(strings(&p["AliasAttributes"]), vec![ATTR_LOGIN.to_string()]);
    let schema = p["Schema"].as_sequence().expect("schema");
    assert!(schema
        .iter()
        .any(|a| a["Name"].as_str() == Some(UNIT_SCHEMA_NAME)
            && a["Mutable"].as_bool() == Some(true)));
    let recovery = &p["AccountRecoverySetting"]["RecoveryMechanisms"];
    assert_eq!(recovery[0]["Name"].as_str(), Some("admin_only"));

    // One group per staff role, and no citizen group: citizens are not users of this pool.
    let groups: BTreeSet<String> = resources_of_type(&t, "AWS::Cognito::UserPoolGroup")
        .iter()
        .map(|(_, g)| intrinsic(&g["Properties"]["GroupName"]))
        .collect();
    let want: BTreeSet<String> = STAFF_ROLES.iter().map(|r| r.as_str().to_string()).collect();
    assert_eq!(groups, want);

    // Users cannot write their own role, unit or login name.
    for (name, c) in resources_of_type(&t, "AWS::Cognito::UserPoolClient") {
        let writable = strings(&c["Properties"]["WriteAttributes"]);
        for a in ["custom:unit", ATTR_LOGIN] {
            assert!(
                !writable.contains(&a.to_string()),
                "{name} lets users write {a}"
            );
        }
    }
}

/// Browsers send an OPTIONS preflight before a cross-origin call with an Authorization
/// header. A route that catches OPTIONS (ANY, or OPTIONS itself) behind the JWT authorizer
/// refuses it; with only explicit methods, API Gateway answers preflights from the CORS
/// configuration itself, whose origin must be a deliberate https origin, not `*`.
#[test]
fn preflights_pass_and_cors_allows_one_configured_origin() {
    let t = template();
    for (name, f) in functions(&t) {
        let Some(events) = f["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for e in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        {
            let p = &e["Properties"];
            let method = p["Method"].as_str().expect("method").to_ascii_uppercase();
            let authorized = p["Auth"]["Authorizer"].as_str() != Some("NONE");
            assert!(
                !(authorized && (method == "ANY" || method == "OPTIONS")),
                "{name}: {method} {} behind the authorizer catches preflights",
                p["Path"].as_str().unwrap_or_default()
            );
        }
    }
    let cors = &t["Globals"]["HttpApi"]["CorsConfiguration"];
    assert_eq!(
        strings(&cors["AllowOrigins"]),
        vec!["!Ref:AllowedOrigin".to_string()]
    );
    assert!(strings(&cors["AllowMethods"]).contains(&"OPTIONS".to_string()));
    assert!(strings(&cors["AllowHeaders"]).contains(&"authorization".to_string()));
    let origin = &t["Parameters"]["AllowedOrigin"];
    assert!(
        origin["Default"].is_null(),
        "the origin is a required parameter"
    );
    let pattern = origin["AllowedPattern"].as_str().expect("AllowedPattern");
    assert!(pattern.starts_with("^https://"), "{pattern}");
    let bucket_cors =
        &resource(&t, "MediaBucket")["Properties"]["CorsConfiguration"]["CorsRules"][0];
    assert_eq!(
        strings(&bucket_cors["AllowedOrigins"]),
        vec!["!Ref:AllowedOrigin".to_string()]
    );
}

/// Citizens are served by the citizen function, which alone holds the app-token secret.
#[test]
fn only_the_citizen_function_holds_the_app_token_secret() {
    let t = template();
    assert_eq!(
        t["Parameters"]["AppTokenSecret"]["NoEcho"].as_bool(),
        Some(true)
    );
    assert!(t["Parameters"]["AppTokenSecret"]["MinLength"].as_u64() >= Some(32));
    assert!(t["Globals"]["Function"]["Environment"]["Variables"]["PHANANH_TOKEN_SECRET"].is_null());
    for (name, f) in functions(&t) {
        let env = &f["Properties"]["Environment"]["Variables"]["PHANANH_TOKEN_SECRET"];
        assert_eq!(
            !env.is_null(),
            name == "ApiCitizenFunction",
            "{name}: token secret"
        );
    }
}

/// Events through DynamoDB Streams: the table streams new images (as `table.rs` creates it),
/// the relay is triggered by that stream only for event items, retries by bisecting the
/// batch and keeps what still fails in its on-failure queue; no schedule polls an outbox.
#[test]
fn the_relay_reads_the_table_stream_and_nothing_polls_an_outbox() {
    let t = template();
    let table = &resource(&t, "ReportsTable")["Properties"];
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some(phananh_aws::table::STREAM_VIEW.as_str())
    );
    let relay = &resource(&t, "RelayFunction")["Properties"];
    let events = relay["Events"].as_mapping().expect("relay events");
    assert_eq!(events.len(), 1, "only the stream triggers the relay");
    let (_, ev) = events.iter().next().expect("one event");
    assert_eq!(ev["Type"].as_str(), Some("DynamoDB"));
    let p = &ev["Properties"];
    assert_eq!(intrinsic(&p["Stream"]), "!GetAtt:ReportsTable.StreamArn");
    assert_eq!(p["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert!(p["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0));
    let dest = &p["DestinationConfig"]["OnFailure"];
    assert_eq!(dest["Type"].as_str(), Some("SQS"));
    assert_eq!(
        intrinsic(&dest["Destination"]),
        "!GetAtt:RelayDeadLetterQueue.Arn"
    );
    resource(&t, "RelayDeadLetterQueue");
    let pattern: serde_json::Value = serde_json::from_str(
        p["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .expect("filter pattern"),
    )
    .expect("pattern is JSON");
    assert_eq!(pattern["dynamodb"]["Keys"]["sk"]["S"][0], "EVENT");
    // No function runs on a schedule to publish events, and no index lists pending ones.
    for (name, f) in functions(&t) {
        if name == "EscalateFunction" {
            continue;
        }
        for (_, e) in f["Properties"]["Events"].as_mapping().into_iter().flatten() {
            assert_ne!(e["Type"].as_str(), Some("ScheduleV2"), "{name} polls");
        }
    }
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template");
    assert!(!text.contains("outbox_pk"), "no outbox index");
}
