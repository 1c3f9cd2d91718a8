//! `phananh-aws`: the operator's command on the AWS runtime (issue 12), run with the
//! operator's credentials and the functions' environment (`PHANANH_TABLE`, `PHANANH_BUCKET`,
//! the topics, `PHANANH_AUDIT_KEY`, `PHANANH_ANCHOR_BUCKET`, `PHANANH_PII_WRAPPED_KEYS`):
//!
//! - `phananh-aws audit verify --from YYYY-MM-DD`: every report changed from that day on has
//!   its chains verified, and every finished day since is compared with its S3 Object Lock
//!   anchor; each break is printed with the report id and its first bad entry, or the day;
//!   exit status 1 on any break;
//! - `phananh-aws pii seal`: seals the reporter data of items still in plaintext (or under an
//!   older key), by a paged Scan; idempotent; prints how many items were read and sealed;
//! - `phananh-aws stats rebuild`: forgets the statistics' rows and shares and counts every
//!   stored report again (`App::rebuild_stats`): a repair, and the move of an existing table
//!   to one item per statistics row (issue 10, docs/aws.md); prints how many were counted.
//!
//! Exit status 2: a usage error or a failure to run (settings, AWS, keys).

use chrono::NaiveDate;
use phananh_aws::anchors::S3Anchors;
use phananh_aws::kms::{unwrap_keyring, ENV_PII_WRAPPED_KEYS};
use phananh_aws::ops::{seal_reporters, verify_range};
use phananh_aws::{AwsClients, AwsSettings, DynamoReportStore};
use phananh_lambda::{init_tracing, Runtime};
use std::process::ExitCode;

const USAGE: &str = "cách dùng: phananh-aws audit verify --from YYYY-MM-DD | phananh-aws pii seal | phananh-aws stats rebuild";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["audit", "verify", "--from", day] => match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(from) => audit_verify(from).await,
            Err(_) => {
                eprintln!("ngày không hợp lệ: {day} (YYYY-MM-DD)");
                return ExitCode::from(2);
            }
        },
        ["pii", "seal"] => pii_seal().await,
        ["stats", "rebuild"] => stats_rebuild().await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("lỗi: {e}");
            ExitCode::from(2)
        }
    }
}

/// Ok(false) when a chain or an anchor is broken.
async fn audit_verify(from: NaiveDate) -> Result<bool, BoxError> {
    let rt = Runtime::from_env().await?;
    let clients = AwsClients::from_env(&rt.settings).await;
    let anchors = S3Anchors::from_env(clients.s3);
    if anchors.is_none() {
        eprintln!("PHANANH_ANCHOR_BUCKET chưa đặt: chỉ kiểm tra chuỗi, không so với bản neo");
    }
    let check = verify_range(&rt.app, anchors.as_ref(), from).await?;
    for line in check.lines() {
        println!("{line}");
    }
    Ok(!check.failed())
}

async fn pii_seal() -> Result<bool, BoxError> {
    let settings = AwsSettings::from_env()?;
    let clients = AwsClients::from_env(&settings).await;
    let wrapped = std::env::var(ENV_PII_WRAPPED_KEYS)
        .ok()
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| format!("{ENV_PII_WRAPPED_KEYS} chưa đặt: không có khóa để niêm phong"))?;
    let kms = phananh_aws::aws_sdk_kms::Client::new(&clients.config);
    let ring = unwrap_keyring(&kms, &wrapped).await?;
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let run = seal_reporters(&store, &ring).await?;
    println!(
        "Đã đọc {} phản ánh, niêm phong {} phản ánh.",
        run.scanned, run.sealed
    );
    Ok(true)
}

async fn stats_rebuild() -> Result<bool, BoxError> {
    let rt = Runtime::from_env().await?;
    let n = rt
        .app
        .rebuild_stats(&phananh_core::model::Actor::system())
        .await?;
    println!("Đã tính lại thống kê từ {n} phản ánh.");
    Ok(true)
}
