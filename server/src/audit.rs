//! `phananh audit`: the audit trail of every report verified from the command line (hash and
//! MAC chains, Đ.6.2), and the daily anchors: the Merkle root of each UTC day's timeline
//! entries, appended to `anchors.jsonl` in the data directory, a file the database cannot
//! overwrite (opened append-only, one JSON line per day, never rewritten). `serve` appends the
//! anchor of each finished day; `audit verify` recomputes every anchored day and reports any
//! difference, which catches a chain recomputed with the key-less hash, or with a stolen key.

use crate::accounts::refusal;
use crate::config::load_rules;
use crate::system::{build_app, open_embedded};
use crate::{BoxError, LOG_TARGET};
use chrono::{DateTime, Days, NaiveDate, Utc};
use phananh_core::app::App;
use phananh_core::audit::Anchor;
use std::io::{BufRead, Write};
use std::path::Path;
use tracing::{error, info};

/// The append-only anchor file in the data directory.
pub(crate) const ANCHORS_FILE: &str = "anchors.jsonl";
/// At most this many missed days are anchored in one pass (a server down for a month).
const MAX_CATCH_UP_DAYS: u64 = 31;

/// Every anchor in the file, in the order written.
pub(crate) fn read_anchors(data: &Path) -> Result<Vec<Anchor>, BoxError> {
    let path = data.join(ANCHORS_FILE);
    let f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

/// Appends one anchor (opened in append mode, synced to disk).
pub(crate) fn append_anchor(data: &Path, a: &Anchor) -> Result<(), BoxError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(data.join(ANCHORS_FILE))?;
    let mut line = serde_json::to_string(a)?;
    line.push('\n');
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Anchors every finished UTC day not anchored yet (from the day after the last anchor, or
/// yesterday on a first run; at most [`MAX_CATCH_UP_DAYS`]). Answers how many were written.
pub(crate) async fn anchor_pending(app: &App, data: &Path) -> Result<usize, BoxError> {
    let yesterday = app.now().date_naive() - Days::new(1);
    let anchors = read_anchors(data)?;
    let first = match anchors.iter().map(|a| a.day).max() {
        Some(last) => last + Days::new(1),
        None => yesterday,
    };
    let first = first.max(yesterday - Days::new(MAX_CATCH_UP_DAYS));
    let mut n = 0;
    let mut day = first;
    while day <= yesterday {
        let a = app.anchor_day(day).await.map_err(refusal)?;
        append_anchor(data, &a)?;
        info!(target: LOG_TARGET, day = %a.day, root = %a.root, entries = a.entries, "audit anchor written");
        n += 1;
        day = day + Days::new(1);
    }
    Ok(n)
}

/// `phananh audit anchor [--day D]`: writes the anchor of one finished day (default: every
/// pending one). A day already anchored is never written again.
pub(crate) async fn anchor(
    data: &Path,
    config: Option<&Path>,
    day: Option<NaiveDate>,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?)?;
    match day {
        None => {
            let n = anchor_pending(&app, data).await?;
            println!("Đã ghi {n} bản neo.");
        }
        Some(d) => {
            if d >= app.now().date_naive() {
                return Err(format!("ngày {d} chưa kết thúc (giờ UTC)").into());
            }
            if read_anchors(data)?.iter().any(|a| a.day == d) {
                return Err(format!("ngày {d} đã có bản neo (tệp chỉ ghi thêm)").into());
            }
            let a = app.anchor_day(d).await.map_err(refusal)?;
            append_anchor(data, &a)?;
            println!("Bản neo ngày {}: {} ({} mục)", a.day, a.root, a.entries);
        }
    }
    emb.store.close();
    Ok(())
}

/// `phananh audit verify [--from D]`: every report with an entry from day `from` on (all
/// without it) has its chains verified, and every anchored day from `from` on is recomputed.
/// Any break is printed with the report id and the first bad entry; the exit status is then
/// non-zero.
pub(crate) async fn verify(
    data: &Path,
    config: Option<&Path>,
    from: Option<NaiveDate>,
) -> Result<(), BoxError> {
    let emb = open_embedded(data, "http://127.0.0.1")?;
    let app = build_app(&emb, load_rules(config)?)?;
    let from_t: Option<DateTime<Utc>> = from
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let checks = app.verify_all(from_t).await.map_err(refusal)?;
    let mut broken = 0usize;
    for c in &checks {
        if let Some(bad) = &c.first_bad {
            broken += 1;
            println!(
                "HỎNG  phản ánh {}: mục #{} ({}, {}) — {}",
                c.report_id,
                bad.seq,
                bad.action,
                bad.at.to_rfc3339(),
                bad.reason.message_vi()
            );
        }
    }
    let mut anchors_bad = 0usize;
    let anchors = read_anchors(data)?;
    for a in anchors.iter().filter(|a| from.is_none_or(|f| a.day >= f)) {
        let now = app.anchor_day(a.day).await.map_err(refusal)?;
        if now.root != a.root || now.entries != a.entries {
            anchors_bad += 1;
            println!(
                "HỎNG  bản neo ngày {}: đã neo {} ({} mục), nay tính được {} ({} mục)",
                a.day, a.root, a.entries, now.root, now.entries
            );
        }
    }
    emb.store.close();
    println!(
        "Đã kiểm tra {} phản ánh ({}), {} bản neo: {} phản ánh hỏng, {} bản neo không khớp.",
        checks.len(),
        if app.audit_keyed() {
            "chuỗi băm và MAC"
        } else {
            "chỉ chuỗi băm"
        },
        anchors.len(),
        broken,
        anchors_bad
    );
    if broken + anchors_bad > 0 {
        error!(target: LOG_TARGET, broken, anchors_bad, "audit verification failed");
        return Err(format!(
            "kiểm tra toàn vẹn thất bại: {broken} phản ánh hỏng, {anchors_bad} bản neo không khớp"
        )
        .into());
    }
    Ok(())
}
