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

/// The SDK clients, built once per cold start and cloned (cheaply) into the adapters.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    /// Loads the standard SDK configuration (region, credentials, and the endpoint from
    /// `AWS_ENDPOINT_URL` when set) and builds every client.
    pub async fn from_env(settings: &AwsSettings) -> AwsClients {
        let cfg = aws_config::defaults(BehaviorVersion::latest()).load().await;
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
