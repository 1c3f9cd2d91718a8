//! `phananh serve`: the running system in one process — the HTTP API and signed media routes,
//! the in-process queue consumers, the escalation timer, demo accounts on first start — and
//! its orderly shutdown on Ctrl-C or SIGTERM.

use crate::config::load_rules;
use crate::demo::{create_demo_accounts, DEMO_FILE};
use crate::secrets::secret;
use crate::system::{build_app, open_embedded};
use crate::{BoxError, LOG_TARGET};
use phananh_core::app::Consumer;
use phananh_embedded::handler;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info};

/// Serves on `bind` until a shutdown signal, then stops the timer and the queue pumps and
/// closes the store.
pub(crate) async fn run(
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
    let app = build_app(&emb, rules)?;
    crate::system::seal_personal_data(&emb).await?;
    // A database from before the statistics' aggregates: count its reports once.
    if emb.store.stats_need_rebuild().await? {
        let n = app
            .rebuild_stats(&phananh_core::model::Actor::system())
            .await?;
        info!(target: LOG_TARGET, reports = n, "statistics rebuilt from the stored reports");
    }
    for consumer in Consumer::ALL {
        let app = app.clone();
        emb.consumers.register(
            consumer.as_str(),
            &consumer.kind_names(),
            handler(move |env| {
                let app = app.clone();
                async move {
                    app.handle_event(consumer, &env)
                        .await
                        .map_err(|e| format!("{}: {e}", e.code()))
                }
            }),
        );
    }
    let pumps = emb.spawn_pumps();
    let token_secret = secret(data, "PHANANH_TOKEN_SECRET", "token.secret")?;
    let tokens = TokenService::new(&token_secret);
    // The public site's tracking links and visitor cookies (phananh_http::site::keys).
    phananh_http::site::configure(&secret(data, "PHANANH_SITE_SECRET", "site.secret")?);
    let state = HttpState {
        app: app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens, base_url.starts_with("https://")),
    };
    let demo = if no_demo {
        None
    } else {
        create_demo_accounts(&app, data).await?
    };

    // Escalation timer: finds due thresholds by index, sends each exactly once.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let media_stop = stop_rx.clone();
    let esc_app = app.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(escalation_interval.max(1)));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    match esc_app.run_escalations(200).await {
                        Ok(0) => {}
                        Ok(n) => info!(target: LOG_TARGET, count = n, "escalations sent"),
                        Err(e) => error!(target: LOG_TARGET, error = %e, "escalation pass failed"),
                    }
                    // Failed recipients whose backoff is over (each claimed, sent once).
                    match esc_app.run_delivery_retries(200).await {
                        Ok(0) => {}
                        Ok(n) => info!(target: LOG_TARGET, count = n, "notifications retried"),
                        Err(e) => error!(target: LOG_TARGET, error = %e, "notification retry pass failed"),
                    }
                }
                _ = stop_rx.changed() => break,
            }
        }
    });

    let media_worker = crate::media_worker::spawn(emb.media.clone(), app.clone(), media_stop);
    // Daily audit anchors: each finished UTC day's Merkle root, appended once (checked hourly).
    let anchor_app = app.clone();
    let anchor_dir = data.to_path_buf();
    let mut anchor_stop = stop_tx.subscribe();
    let anchorer = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = crate::audit::anchor_pending(&anchor_app, &anchor_dir).await {
                        error!(target: LOG_TARGET, error = %e, "audit anchor failed");
                    }
                }
                _ = anchor_stop.changed() => break,
            }
        }
    });

    let router = router(state).merge(emb.media_routes());
    println!("phananh đang chạy tại {base_url}");
    println!("  Trang công khai cho người dân: {base_url}/");
    println!("  Trang quản trị cho cán bộ: {base_url}/console");
    println!("  Tài liệu API (OpenAPI): {base_url}/v1/openapi.yaml");
    println!("  Dữ liệu: {}", data.display());
    match demo {
        Some(table) => {
            println!(
                "  Tài khoản demo (đã lưu ở {}):",
                data.join(DEMO_FILE).display()
            );
            for line in table.lines().skip(1) {
                println!("    {line}");
            }
        }
        None if !no_demo => println!("  Tài khoản demo: xem {}", data.join(DEMO_FILE).display()),
        None => {}
    }
    let _ = std::io::stdout().flush();
    // The peer address reaches the handlers (sign-in guards and rate limits per client).
    let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!(target: LOG_TARGET, "shutting down");
    let _ = stop_tx.send(true);
    let _ = ticker.await;
    let _ = media_worker.await;
    let _ = anchorer.await;
    pumps.stop().await;
    emb.store.close();
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
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
