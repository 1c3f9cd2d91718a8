//! `phananh export`: the reports created in a range of local days, written as CSV or JSON
//! (reporter data masked, as an office administrator sees it) to a file or standard output.

use crate::cli::Format;
use crate::config::load_rules;
use crate::system::{build_app, open_embedded};
use crate::{BoxError, LOG_TARGET};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{Clock, ReportQuery, SystemClock};
use phananh_core::views;
use phananh_core::Rules;
use std::io::Write;
use std::path::{Path, PathBuf};
use tracing::warn;

// The CSV export lives in `phananh_http` today; when it moves to core, only this line changes.
use phananh_http::reports_csv;

/// The UTC instant at which local day `d` starts in the city's time zone.
fn local_day_start(rules: &Rules, d: NaiveDate) -> Option<DateTime<Utc>> {
    let naive = d.and_hms_opt(0, 0, 0)?;
    rules
        .tz
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

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
        Format::Csv => reports_csv(&app, &reports),
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
        warn!(target: LOG_TARGET, "no report in the range");
    }
    Ok(())
}
