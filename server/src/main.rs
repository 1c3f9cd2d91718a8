//! `phananh`: the whole field-report system in one process, on SQLite, local files and
//! in-process durable queues. No cloud account needed.
//!
//! Subcommands: `serve` (the default), `accounts`, `config check`, `export`. This file only
//! sets up logging and the async runtime and sends each subcommand to its module.

/// `accounts`: staff accounts from the command line, through core's account policy.
mod accounts;
/// `audit`: verifying the audit trail, and the daily anchors.
mod audit;
/// The command line: clap's definitions of the options and subcommands.
mod cli;
/// Loading the city configuration, and `config check`.
mod config;
/// The demo accounts created on the first start of a fresh system.
mod demo;
/// `export`: reports of a date range as CSV or JSON.
mod export;
/// The embedded media worker: upload checks and the expiry sweep.
mod media_worker;
/// Secrets from the environment or generated into 0600 files in the data directory.
mod secrets;
/// `serve`: HTTP API, queue consumers, escalation timer and graceful shutdown.
mod serve;
/// Opening the embedded adapters on a data directory and wiring the `App` to them.
mod system;

use clap::Parser;
use cli::{AuditCmd, Cli, Command, ConfigCmd, StatsCmd};

/// The error every subcommand returns; `main` prints it and exits with failure.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The target of the binary's own log lines: `phananh` from every module, as when all of them
/// lived in this file, so log filters and JSON log consumers see no change.
const LOG_TARGET: &str = "phananh";

fn main() -> std::process::ExitCode {
    let json_logs = std::env::var("PHANANH_LOG_JSON").is_ok_and(|v| v == "1");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // No phone number or e-mail address leaves in a log line (Đ.4.2).
        .with_writer(|| phananh_core::redact::RedactingWriter::new(std::io::stderr()));
    if json_logs {
        sub.json().init();
    } else {
        sub.init();
    }
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Dispatch: runs the chosen subcommand (`serve` with its defaults when none is given).
async fn run(cli: Cli) -> Result<(), BoxError> {
    let command = cli.command.unwrap_or(Command::Serve {
        bind: "127.0.0.1:8080".into(),
        base_url: None,
        no_demo: false,
        escalation_interval: 30,
    });
    match command {
        Command::Config {
            action: ConfigCmd::Check { dir },
        } => config::check(dir.or(cli.config).as_deref()),
        Command::Serve {
            bind,
            base_url,
            no_demo,
            escalation_interval,
        } => {
            serve::run(
                &cli.data,
                cli.config.as_deref(),
                &bind,
                base_url,
                no_demo,
                escalation_interval,
            )
            .await
        }
        Command::Accounts { action } => {
            accounts::run(&cli.data, cli.config.as_deref(), action).await
        }
        Command::Export {
            from,
            to,
            format,
            out,
        } => export::run(&cli.data, cli.config.as_deref(), from, to, format, out).await,
        Command::Stats {
            action: StatsCmd::Rebuild,
        } => export::rebuild_stats(&cli.data, cli.config.as_deref()).await,
        Command::Audit {
            action: AuditCmd::Verify { from },
        } => audit::verify(&cli.data, cli.config.as_deref(), from).await,
        Command::Audit {
            action: AuditCmd::Anchor { day },
        } => audit::anchor(&cli.data, cli.config.as_deref(), day).await,
    }
}
