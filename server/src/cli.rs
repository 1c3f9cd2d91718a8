//! The command line, and nothing else: clap's definitions of the global options and of every
//! subcommand. Kept apart so the whole surface a user can type is readable in one place, and
//! the modules that act on it see plain values.

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "phananh",
    version,
    about = "Hệ thống phản ánh hiện trường — embedded runtime"
)]
pub(crate) struct Cli {
    /// Data directory (SQLite database, media files, generated secrets).
    #[arg(
        long,
        global = true,
        default_value = "./data",
        env = "PHANANH_DATA_DIR"
    )]
    pub(crate) data: PathBuf,
    /// City configuration folder (default: the bundled Lai Châu configuration).
    #[arg(long, global = true, env = "PHANANH_CONFIG_DIR")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Start the system (HTTP API, queues, escalation timer).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080", env = "PHANANH_BIND")]
        bind: String,
        /// Public base URL (for signed media URLs); default http://<bind>.
        #[arg(long, env = "PHANANH_BASE_URL")]
        base_url: Option<String>,
        /// Do not create demo accounts on first start.
        #[arg(long)]
        no_demo: bool,
        /// Seconds between escalation checks.
        #[arg(long, default_value_t = 30)]
        escalation_interval: u64,
    },
    /// Manage staff accounts (issued by the organisation, never self-registered: Đ.4.1).
    Accounts {
        #[command(subcommand)]
        action: AccountCmd,
    },
    /// Validate a city configuration.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Export reports of a date range (reporter data masked).
    Export {
        /// First day (local date, inclusive), YYYY-MM-DD.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (local date, inclusive), YYYY-MM-DD.
        #[arg(long)]
        to: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Statistics' aggregates (Đ.9.2).
    Stats {
        #[command(subcommand)]
        action: StatsCmd,
    },
    /// Verify the audit trail (hash and MAC chains, daily anchors; Đ.6.2).
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
}

#[derive(Subcommand)]
pub(crate) enum StatsCmd {
    /// Recompute every figure from the stored reports (after a migration or a repair).
    Rebuild,
}

#[derive(Subcommand)]
pub(crate) enum AuditCmd {
    /// Verify every report's timeline and every daily anchor; exit status 1 on any break.
    Verify {
        /// Only reports with an entry from this UTC day on, and anchors from it, YYYY-MM-DD.
        #[arg(long)]
        from: Option<NaiveDate>,
    },
    /// Append the anchor (Merkle root) of finished days not anchored yet, or of one day.
    Anchor {
        #[arg(long)]
        day: Option<NaiveDate>,
    },
}

#[derive(Subcommand)]
pub(crate) enum AccountCmd {
    /// Create a staff account.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// ioc_operator, ioc_head, unit_staff, unit_head, leader, office_admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: Option<String>,
        /// Password (or PHANANH_NEW_PASSWORD); at least 10 characters.
        #[arg(long, env = "PHANANH_NEW_PASSWORD")]
        password: String,
    },
    /// Disable an account (it can no longer sign in).
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Set a new password.
    Reset {
        #[arg(long)]
        username: String,
        #[arg(long, env = "PHANANH_NEW_PASSWORD")]
        password: String,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
pub(crate) enum ConfigCmd {
    /// Load and validate a configuration folder (default: the bundled one).
    Check { dir: Option<PathBuf> },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Json,
}
