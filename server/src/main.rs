//! `phananh`: the whole field-report system in one process, on SQLite, local files and
//! in-process durable queues. No cloud account needed.
//!
//! Subcommands: `serve` (the default), `accounts`, `config check`, `export`.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{AccountStore, Clock, ReportQuery, SystemClock, UuidV7Ids};
use phananh_core::service::{consumers, App};
use phananh_core::views;
use phananh_core::Rules;
use phananh_embedded::{handler, Embedded, EmbeddedConfig, SmtpConfig};
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::{router, HttpState, NewAccount};
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

#[derive(Parser)]
#[command(
    name = "phananh",
    version,
    about = "Hệ thống phản ánh hiện trường — embedded runtime"
)]
struct Cli {
    /// Data directory (SQLite database, media files, generated secrets).
    #[arg(
        long,
        global = true,
        default_value = "./data",
        env = "PHANANH_DATA_DIR"
    )]
    data: PathBuf,
    /// City configuration folder (default: the bundled Lai Châu configuration).
    #[arg(long, global = true, env = "PHANANH_CONFIG_DIR")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
}

#[derive(Subcommand)]
enum AccountCmd {
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
enum ConfigCmd {
    /// Load and validate a configuration folder (default: the bundled one).
    Check { dir: Option<PathBuf> },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> std::process::ExitCode {
    let json_logs = std::env::var("PHANANH_LOG_JSON").is_ok_and(|v| v == "1");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
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

fn load_rules(dir: Option<&Path>) -> Result<Rules, BoxError> {
    Ok(match dir {
        Some(d) => Rules::load_dir(d)?,
        None => Rules::laichau_default()?,
    })
}

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
        } => {
            let dir = dir.or(cli.config);
            let rules = load_rules(dir.as_deref())?;
            println!(
                "Cấu hình hợp lệ: {} — {} lĩnh vực, {} đơn vị, {} xã/phường.",
                rules.config.city.name,
                rules.config.categories.len(),
                rules.config.units.len(),
                rules.config.wards.len()
            );
            Ok(())
        }
        Command::Serve {
            bind,
            base_url,
            no_demo,
            escalation_interval,
        } => {
            serve(
                &cli.data,
                cli.config.as_deref(),
                &bind,
                base_url,
                no_demo,
                escalation_interval,
            )
            .await
        }
        Command::Accounts { action } => accounts(&cli.data, cli.config.as_deref(), action).await,
        Command::Export {
            from,
            to,
            format,
            out,
        } => export(&cli.data, cli.config.as_deref(), from, to, format, out).await,
    }
}

/// A secret from the environment, else one generated on first start and kept (mode 0600)
/// in the data directory.
fn secret(data: &Path, env: &str, file: &str) -> Result<Vec<u8>, BoxError> {
    if let Ok(v) = std::env::var(env) {
        if v.len() < 32 {
            return Err(format!("{env} must be at least 32 characters").into());
        }
        return Ok(v.into_bytes());
    }
    let path = data.join(file);
    if let Ok(v) = std::fs::read_to_string(&path) {
        let v = v.trim().to_string();
        if v.len() >= 32 {
            return Ok(v.into_bytes());
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let v = hex::encode(bytes);
    write_private(&path, &v)?;
    Ok(v.into_bytes())
}

fn write_private(path: &Path, content: &str) -> Result<(), BoxError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn open_embedded(data: &Path, base_url: &str) -> Result<Embedded, BoxError> {
    std::fs::create_dir_all(data)?;
    let media_secret = secret(data, "PHANANH_MEDIA_SECRET", "media.secret")?;
    let mut cfg = EmbeddedConfig::new(data, base_url, media_secret);
    if let Ok(host) = std::env::var("PHANANH_SMTP_HOST") {
        let port = std::env::var("PHANANH_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(25);
        let from =
            std::env::var("PHANANH_SMTP_FROM").unwrap_or_else(|_| "phananh@localhost".into());
        cfg.smtp = Some(SmtpConfig::new(host, port, from));
    }
    Ok(Embedded::open(cfg)?)
}

fn build_app(emb: &Embedded, rules: Rules) -> App {
    App {
        rules: Arc::new(rules),
        store: emb.store.clone(),
        accounts: emb.store.clone(),
        media: emb.media.clone(),
        notifier: emb.notifier.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        publisher: None,
    }
}

/// The demo accounts of a fresh system: one per role (units: the market-prices department,
/// a ward and the city police), with random passwords written to `demo-accounts.txt`.
const DEMO: &[(&str, &str, Role, Option<&str>)] = &[
    (
        "ioc.operator",
        "Cán bộ trực IOC",
        Role::IocOperator,
        Some("ioc"),
    ),
    (
        "ioc.head",
        "Trưởng bộ phận điều hành IOC",
        Role::IocHead,
        Some("ioc"),
    ),
    (
        "leader",
        "Lãnh đạo UBND thành phố",
        Role::Leader,
        Some("lanh_dao_ubnd"),
    ),
    (
        "office",
        "Văn phòng HĐND và UBND",
        Role::OfficeAdmin,
        Some("van_phong"),
    ),
    (
        "kinhte.staff",
        "Cán bộ Phòng Kinh tế",
        Role::UnitStaff,
        Some("phong_kinh_te"),
    ),
    (
        "kinhte.head",
        "Trưởng phòng Kinh tế",
        Role::UnitHead,
        Some("phong_kinh_te"),
    ),
    (
        "vhtt.staff",
        "Cán bộ Phòng Văn hóa và Thông tin",
        Role::UnitStaff,
        Some("phong_vhtt"),
    ),
    (
        "tanphong.staff",
        "Cán bộ UBND phường Tân Phong",
        Role::UnitStaff,
        Some("ubnd_tan_phong"),
    ),
    (
        "congan.staff",
        "Cán bộ Công an thành phố",
        Role::UnitStaff,
        Some("cong_an_tp"),
    ),
];

async fn create_demo_accounts(app: &App, data: &Path) -> Result<Option<String>, BoxError> {
    if !app.accounts.list_accounts().await?.is_empty() {
        return Ok(None);
    }
    let mut table = String::from("# username role unit password\n");
    for (username, name, role, unit) in DEMO {
        let mut pw = [0u8; 9];
        rand::thread_rng().fill_bytes(&mut pw);
        let password = format!("demo-{}", hex::encode(pw));
        phananh_http::create_staff_account(
            app,
            NewAccount {
                username: username.to_string(),
                display_name: name.to_string(),
                role: *role,
                unit: unit.map(str::to_string),
                password: password.clone(),
            },
        )
        .await
        .map_err(|p| format!("{}: {}", p.code, p.detail))?;
        table.push_str(&format!(
            "{username} {} {} {password}\n",
            role.as_str(),
            unit.unwrap_or("-")
        ));
    }
    write_private(&data.join("demo-accounts.txt"), &table)?;
    Ok(Some(table))
}

async fn serve(
    data: &Path,
    config: Option<&Path>,
    bind: &str,
    base_url: Option<String>,
    no_demo: bool,
    escalation_interval: u64,
) -> Result<(), BoxError> {
    let rules = load_rules(config)?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    let base_url = base_url.unwrap_or_else(|| format!("http://{addr}"));
    let emb = open_embedded(data, &base_url)?;
    let app = build_app(&emb, rules);
    for name in consumers::ALL {
        let app = app.clone();
        emb.consumers.register(
            name,
            consumers::kinds(name),
            handler(move |env| {
                let app = app.clone();
                async move {
                    app.handle_event(name, &env)
                        .await
                        .map_err(|e| format!("{}: {e}", e.code()))
                }
            }),
        );
    }
    let pumps = emb.spawn_pumps();
    let token_secret = secret(data, "PHANANH_TOKEN_SECRET", "token.secret")?;
    let tokens = TokenService::new(&token_secret);
    let state = HttpState {
        app: app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens),
    };
    let demo = if no_demo {
        None
    } else {
        create_demo_accounts(&app, data).await?
    };

    // Escalation timer: finds due thresholds by index, sends each exactly once.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let esc_app = app.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(escalation_interval.max(1)));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    match esc_app.run_escalations(200).await {
                        Ok(0) => {}
                        Ok(n) => info!(count = n, "escalations sent"),
                        Err(e) => error!(error = %e, "escalation pass failed"),
                    }
                }
                _ = stop_rx.changed() => break,
            }
        }
    });

    let router = router(state).merge(emb.media_routes());
    println!("phananh đang chạy tại {base_url}");
    println!("  Tài liệu API (OpenAPI): {base_url}/v1/openapi.yaml");
    println!("  Dữ liệu: {}", data.display());
    match demo {
        Some(table) => {
            println!(
                "  Tài khoản demo (đã lưu ở {}):",
                data.join("demo-accounts.txt").display()
            );
            for line in table.lines().skip(1) {
                println!("    {line}");
            }
        }
        None if !no_demo => println!(
            "  Tài khoản demo: xem {}",
            data.join("demo-accounts.txt").display()
        ),
        None => {}
    }
    let _ = std::io::stdout().flush();
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = ticker.await;
    pumps.stop().await;
    emb.store.close();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn accounts(data: &Path, config: Option<&Path>, action: AccountCmd) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?);
    let store = emb.store.clone();
    let result: Result<(), BoxError> = async {
        match action {
            AccountCmd::Create {
                username,
                name,
                role,
                unit,
                password,
            } => {
                let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
                let acc = phananh_http::create_staff_account(
                    &app,
                    NewAccount {
                        username,
                        display_name: name,
                        role,
                        unit,
                        password,
                    },
                )
                .await
                .map_err(|p| format!("{} ({})", p.detail, p.code))?;
                println!("Đã tạo tài khoản {} ({}).", acc.username, acc.role.as_str());
            }
            AccountCmd::Disable { username } => {
                let mut acc = store
                    .account_by_username(&username)
                    .await?
                    .ok_or_else(|| format!("no account {username:?}"))?;
                acc.disabled = true;
                store.save_account(&acc).await?;
                println!("Đã khóa tài khoản {username}.");
            }
            AccountCmd::Reset { username, password } => {
                if password.chars().count() < 10 {
                    return Err("password must have at least 10 characters".into());
                }
                let mut acc = store
                    .account_by_username(&username)
                    .await?
                    .ok_or_else(|| format!("no account {username:?}"))?;
                acc.password_hash =
                    phananh_http::auth::hash_password(&password).map_err(|p| p.detail.clone())?;
                store.save_account(&acc).await?;
                println!("Đã đặt lại mật khẩu cho {username}.");
            }
            AccountCmd::List => {
                for a in store.list_accounts().await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        a.username,
                        a.role.as_str(),
                        a.unit.as_deref().unwrap_or("-"),
                        if a.disabled {
                            "khóa"
                        } else {
                            "hoạt động"
                        },
                        a.display_name
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    emb.store.close();
    result
}

fn local_day_start(rules: &Rules, d: NaiveDate) -> Option<DateTime<Utc>> {
    let naive = d.and_hms_opt(0, 0, 0)?;
    rules
        .tz
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

async fn export(
    data: &Path,
    config: Option<&Path>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Format,
    out: Option<PathBuf>,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let rules = load_rules(config)?;
    let from_t = from.and_then(|d| local_day_start(&rules, d));
    let to_t = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| local_day_start(&rules, d));
    let app = build_app(&emb, rules);
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} phản ánh đã xuất ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut reports = Vec::new();
    let mut cursor = None;
    // Bounded: at most 10,000 pages of 200.
    for _ in 0..10_000 {
        let page = app
            .store
            .query(&ReportQuery {
                created_from: from_t,
                created_to: to_t,
                cursor: cursor.take(),
                limit: 200,
                ..Default::default()
            })
            .await?;
        bar.inc(page.items.len() as u64);
        reports.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    bar.finish();
    let office = Actor::new("export", Role::OfficeAdmin, None);
    let body = match format {
        Format::Csv => phananh_http::reports_csv(&app, &reports),
        Format::Json => {
            let now = SystemClock.now();
            let v: Vec<_> = reports
                .iter()
                .map(|r| views::staff_view(r, &office, &app.rules, now))
                .collect();
            serde_json::to_string_pretty(&v)?
        }
    };
    match out {
        Some(path) => {
            std::fs::write(&path, body)?;
            eprintln!("Đã ghi {} phản ánh vào {}", reports.len(), path.display());
        }
        None => {
            std::io::stdout().write_all(body.as_bytes())?;
        }
    }
    emb.store.close();
    if reports.is_empty() {
        warn!("no report in the range");
    }
    Ok(())
}
