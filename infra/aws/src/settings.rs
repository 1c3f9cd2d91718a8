//! Resource names from the environment and the SDK clients built from them.

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

/// Environment variable names (set by `template.yaml` on every function).
pub const ENV_TABLE: &str = "PHANANH_TABLE";
pub const ENV_BUCKET: &str = "PHANANH_BUCKET";
pub const ENV_EVENTS_TOPIC_ARN: &str = "PHANANH_EVENTS_TOPIC_ARN";
pub const ENV_ALERTS_TOPIC_ARN: &str = "PHANANH_ALERTS_TOPIC_ARN";
/// Optional: `1`/`true` makes S3 requests path-style (`http://host/bucket/key`), needed by
/// local emulators. Leave unset on AWS.
pub const ENV_S3_PATH_STYLE: &str = "PHANANH_S3_PATH_STYLE";
/// Optional: SMS sender id (where the destination country supports one).
pub const ENV_SMS_SENDER_ID: &str = "PHANANH_SMS_SENDER_ID";
/// Optional: country calling code for local phone numbers (default `84`, Viet Nam).
pub const ENV_SMS_COUNTRY_CODE: &str = "PHANANH_SMS_COUNTRY_CODE";

/// The staff console's sign-in through the Cognito hosted UI (set by `template.yaml` on the
/// console's API function; see [`ConsoleSettings`]).
pub const ENV_COGNITO_DOMAIN: &str = "COGNITO_DOMAIN";
pub const ENV_COGNITO_CLIENT_ID: &str = "COGNITO_CLIENT_ID";
pub const ENV_COGNITO_USER_POOL_ID: &str = "COGNITO_USER_POOL_ID";
/// Optional: the pool's region (default: the prefix of the pool id, then `AWS_REGION`).
pub const ENV_COGNITO_REGION: &str = "COGNITO_REGION";
/// Where the console is served (`https://<api host>`): the hosted UI's callback is
/// `<base>/console/auth/callback`.
pub const ENV_CONSOLE_BASE_URL: &str = "CONSOLE_BASE_URL";
/// Set by the Lambda runtime.
pub const ENV_AWS_REGION: &str = "AWS_REGION";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("invalid value of environment variable {name}: {value:?}")]
    Invalid { name: &'static str, value: String },
}

/// Names of the AWS resources a function uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table: String,
    pub bucket: String,
    pub events_topic_arn: String,
    pub alerts_topic_arn: String,
    pub s3_path_style: bool,
    pub sms_sender_id: Option<String>,
    pub sms_country_code: String,
    /// E-mail to individuals through SES from this verified address (`PHANANH_SES_FROM`);
    /// None: e-mail goes to the alerts topic.
    pub ses_from: Option<String>,
}

impl AwsSettings {
    /// Reads the settings from the process environment; the error names the missing variable.
    pub fn from_env() -> Result<AwsSettings, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`AwsSettings::from_env`] with any variable source (testable without touching
    /// the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<AwsSettings, SettingsError> {
        let required = |name: &'static str| -> Result<String, SettingsError> {
            match get(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
                _ => Err(SettingsError::Missing(name)),
            }
        };
        let s3_path_style = match get(ENV_S3_PATH_STYLE).as_deref().map(str::trim) {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    name: ENV_S3_PATH_STYLE,
                    value: other.to_string(),
                })
            }
        };
        Ok(AwsSettings {
            table: required(ENV_TABLE)?,
            bucket: required(ENV_BUCKET)?,
            events_topic_arn: required(ENV_EVENTS_TOPIC_ARN)?,
            alerts_topic_arn: required(ENV_ALERTS_TOPIC_ARN)?,
            s3_path_style,
            ses_from: get(crate::ses::ENV_SES_FROM)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            sms_sender_id: get(ENV_SMS_SENDER_ID)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            sms_country_code: match get(ENV_SMS_COUNTRY_CODE).map(|s| s.trim().to_string()) {
                None => "84".to_string(),
                Some(c)
                    if !c.is_empty() && c.len() <= 3 && c.chars().all(|d| d.is_ascii_digit()) =>
                {
                    c
                }
                Some(other) => {
                    return Err(SettingsError::Invalid {
                        name: ENV_SMS_COUNTRY_CODE,
                        value: other,
                    })
                }
            },
        })
    }
}

/// The console's sign-in settings: the user pool, its hosted UI domain, the console's app
/// client and where the console is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// The hosted UI's host, e.g. `phananh-dev-1234.auth.ap-southeast-1.amazoncognito.com`.
    pub cognito_domain: String,
    pub client_id: String,
    pub user_pool_id: String,
    pub region: String,
    /// `https://<host>` without a trailing slash.
    pub base_url: String,
}

impl ConsoleSettings {
    /// Reads the console settings from the process environment: `None` when none of them is
    /// set (no console sign-in on this function), an error naming the first one missing when
    /// only some are.
    pub fn from_env() -> Result<Option<ConsoleSettings>, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`ConsoleSettings::from_env`] with any variable source.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ConsoleSettings>, SettingsError> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let names = [
            ENV_COGNITO_DOMAIN,
            ENV_COGNITO_CLIENT_ID,
            ENV_COGNITO_USER_POOL_ID,
            ENV_CONSOLE_BASE_URL,
        ];
        if names.iter().all(|n| value(n).is_none()) {
            return Ok(None);
        }
        let required = |name: &'static str| value(name).ok_or(SettingsError::Missing(name));
        let cognito_domain = required(ENV_COGNITO_DOMAIN)?;
        let client_id = required(ENV_COGNITO_CLIENT_ID)?;
        let user_pool_id = required(ENV_COGNITO_USER_POOL_ID)?;
        let base_url = required(ENV_CONSOLE_BASE_URL)?
            .trim_end_matches('/')
            .to_string();
        if !base_url.starts_with("https://") && !base_url.starts_with("http://") {
            return Err(SettingsError::Invalid {
                name: ENV_CONSOLE_BASE_URL,
                value: base_url,
            });
        }
        if cognito_domain.contains('/') && !cognito_domain.starts_with("https://") {
            return Err(SettingsError::Invalid {
                name: ENV_COGNITO_DOMAIN,
                value: cognito_domain,
            });
        }
        // Pool ids are `<region>_<id>`.
        let from_pool = user_pool_id
            .split_once('_')
            .map(|(r, _)| r.to_string())
            .filter(|r| r.contains('-'));
        let region = value(ENV_COGNITO_REGION)
            .or(from_pool)
            .or_else(|| value(ENV_AWS_REGION))
            .ok_or(SettingsError::Missing(ENV_COGNITO_REGION))?;
        Ok(Some(ConsoleSettings {
            cognito_domain,
            client_id,
            user_pool_id,
            region,
            base_url,
        }))
    }
}

/// The SDK clients, built once per cold start and cloned (cheaply) into the adapters.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// The credentials the clients sign with (presigned POST uploads sign their policy).
    pub credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    /// The SDK configuration the clients were built from (for clients only some functions
    /// build, such as the Cognito accounts of the staff functions).
    pub config: aws_config::SdkConfig,
    pub sesv2: aws_sdk_sesv2::Client,
}

/// The one HTTPS client of every SDK client: rustls with the ring provider (the TLS stack
/// reqwest uses too), system root certificates, one connector per connector settings, built
/// at the first request. The SDK also asks for a connector when each client is created, only
/// to load the certificates early (`validate_base_client_config`): that one comes without
/// settings and is a plain connector here, so a cold start builds no TLS configuration and
/// reads no certificate before the first request.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::Connector;
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut b = Connector::builder();
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        match settings {
            None => b.build_http(),
            Some(_) => b.tls_provider(Provider::Rustls(CryptoMode::Ring)).build(),
        }
    })
}

impl AwsClients {
    /// Loads the standard SDK configuration (region, credentials, and the endpoint from
    /// `AWS_ENDPOINT_URL` when set) and builds every client.
    pub async fn from_env(settings: &AwsSettings) -> AwsClients {
        let cfg = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .load()
            .await;
        Self::from_sdk_config(&cfg, settings.s3_path_style)
    }

    pub fn from_sdk_config(cfg: &aws_config::SdkConfig, s3_path_style: bool) -> AwsClients {
        // Checksums only when an operation requires them: a presigned PUT must not carry an
        // SDK-computed CRC32 of an empty body (aws-sdk-rust#1240, BadDigest).
        let s3_conf = aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(s3_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        AwsClients {
            dynamodb: aws_sdk_dynamodb::Client::new(cfg),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            sns: aws_sdk_sns::Client::new(cfg),
            sqs: aws_sdk_sqs::Client::new(cfg),
            credentials: cfg.credentials_provider(),
            config: cfg.clone(),
            sesv2: aws_sdk_sesv2::Client::new(cfg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const ALL: [(&str, &str); 4] = [
        (ENV_TABLE, "t"),
        (ENV_BUCKET, "b"),
        (ENV_EVENTS_TOPIC_ARN, "arn:e"),
        (ENV_ALERTS_TOPIC_ARN, "arn:a"),
    ];

    #[test]
    fn every_required_variable_is_named_when_missing() {
        for (skip, (name, _)) in ALL.iter().enumerate() {
            let pairs: Vec<_> = ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p)
                .collect();
            let err = AwsSettings::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(err, SettingsError::Missing(name));
            assert!(err.to_string().contains(name));
        }
    }

    const CONSOLE: [(&str, &str); 4] = [
        (
            ENV_COGNITO_DOMAIN,
            "phananh-dev-1.auth.ap-southeast-1.amazoncognito.com",
        ),
        (ENV_COGNITO_CLIENT_ID, "client123"),
        (ENV_COGNITO_USER_POOL_ID, "ap-southeast-1_AbCdEf"),
        (
            ENV_CONSOLE_BASE_URL,
            "https://abc.execute-api.ap-southeast-1.amazonaws.com/",
        ),
    ];

    #[test]
    fn console_settings_are_all_or_nothing_and_the_region_comes_from_the_pool() {
        assert_eq!(ConsoleSettings::from_lookup(lookup(&ALL)), Ok(None));
        let s = ConsoleSettings::from_lookup(lookup(&CONSOLE))
            .unwrap()
            .unwrap();
        assert_eq!(s.region, "ap-southeast-1");
        assert_eq!(
            s.base_url,
            "https://abc.execute-api.ap-southeast-1.amazonaws.com"
        );
        for (skip, (name, _)) in CONSOLE.iter().enumerate() {
            let pairs: Vec<_> = CONSOLE
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p)
                .collect();
            assert_eq!(
                ConsoleSettings::from_lookup(lookup(&pairs)),
                Err(SettingsError::Missing(name))
            );
        }
        let mut bad = CONSOLE.to_vec();
        bad[3] = (ENV_CONSOLE_BASE_URL, "abc.example");
        assert!(matches!(
            ConsoleSettings::from_lookup(lookup(&bad)),
            Err(SettingsError::Invalid { .. })
        ));
        let mut odd_pool = CONSOLE.to_vec();
        odd_pool[2] = (ENV_COGNITO_USER_POOL_ID, "pool");
        assert_eq!(
            ConsoleSettings::from_lookup(lookup(&odd_pool)),
            Err(SettingsError::Missing(ENV_COGNITO_REGION))
        );
        odd_pool.push((ENV_AWS_REGION, "eu-west-1"));
        assert_eq!(
            ConsoleSettings::from_lookup(lookup(&odd_pool))
                .unwrap()
                .unwrap()
                .region,
            "eu-west-1"
        );
    }

    #[test]
    fn path_style_is_off_unless_asked_and_rejects_garbage() {
        let s = AwsSettings::from_lookup(lookup(&ALL)).unwrap();
        assert!(!s.s3_path_style);
        assert_eq!(s.table, "t");
        let mut with = ALL.to_vec();
        with.push((ENV_S3_PATH_STYLE, "1"));
        assert!(
            AwsSettings::from_lookup(lookup(&with))
                .unwrap()
                .s3_path_style
        );
        with.pop();
        with.push((ENV_S3_PATH_STYLE, "yes please"));
        assert!(matches!(
            AwsSettings::from_lookup(lookup(&with)),
            Err(SettingsError::Invalid { .. })
        ));
    }
}
