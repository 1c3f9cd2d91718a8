//! `phananh export`: the reports created in a range of local days, written as CSV or JSON
//! (reporter data masked, as an office administrator sees it) to a file or standard output.

use crate::accounts::refusal;
use crate::cli::Format;
use crate::config::load_rules;
use crate::system::{build_app, open_embedded};
use crate::{BoxError, LOG_TARGET};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use phananh_core::app::export::reports_csv;
use phananh_core::model::{Actor, Role};
use phananh_core::views;
use std::io::Write;
use std::path::{Path, PathBuf};
use tracing::warn;

/// The most reports one export writes (two million: years of a province's reports).
const EXPORT_MAX: usize = 2_000_000;

/// Exports the reports created from local day `from` to local day `to` (both inclusive,
/// either open) in `format`, to `out` or standard output.
pub(crate) async fn run(
    data: &Path,
    config: Option<&Path>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Format,
    out: Option<PathBuf>,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let rules = load_rules(config)?;
    let from_t = from.and_then(|d| rules.local_day_start(d));
    let to_t = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| rules.local_day_start(d));
    let app = build_app(&emb, rules)?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} phản ánh đã xuất ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let reports = app
        .collect(from_t, to_t, EXPORT_MAX)
        .await
        .map_err(refusal)?;
    bar.set_position(reports.len() as u64);
    bar.finish();
    let office = Actor::new("export", Role::OfficeAdmin, None);
    let body = match format {
        Format::Csv => reports_csv(&reports, app.now()),
        Format::Json => {
            let now = app.now();
            let v: Vec<_> = reports
                .iter()
                .map(|r| {
                    let mut v = views::staff_view(r, &office, app.rules(), now);
                    // Đ.4.4: no personal data leaves in an export, not even masked; a third
                    // party gets it only through an approved share request.
                    v.report.reporter = None;
                    v
                })
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
        warn!(target: LOG_TARGET, "no report in the range");
    }
    Ok(())
}

/// `phananh stats rebuild`: recomputes the statistics' aggregate rows from the stored reports.
pub(crate) async fn rebuild_stats(data: &Path, config: Option<&Path>) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?)?;
    let n = app
        .rebuild_stats(&phananh_core::model::Actor::system())
        .await?;
    println!("Đã tính lại thống kê từ {n} phản ánh.");
    Ok(())
}
