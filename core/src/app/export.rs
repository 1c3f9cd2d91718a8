//! Exports for reports to the Chairman (Đ.9.2): the office's CSV, without any reporter data.
//! Used by the API (`/v1/stats/export.csv`) and by `phananh export`.

use super::App;
use crate::error::DomainError;
use crate::model::{Actor, Report};
use chrono::{DateTime, Utc};

/// One CSV field, quoted where needed; text that a spreadsheet would run as a formula is
/// defused with a leading apostrophe.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The header line of the CSV export.
pub const CSV_HEADER: &str =
    "id,created_at,category,ward,state,lead_unit,assigned_at,due_at,resolved_at,on_time,overdue,title\n";

/// One CSV line of a report (no reporter data), overdue as of `now`.
pub fn csv_row(r: &Report, now: DateTime<Utc>) -> String {
    let a = r.assignment.as_ref();
    let res = r.resolution.as_ref();
    let row = [
        r.id.to_string(),
        r.created_at.to_rfc3339(),
        r.category.clone(),
        r.ward.clone().unwrap_or_default(),
        r.state.as_str().to_string(),
        a.map(|a| a.lead_unit.clone()).unwrap_or_default(),
        a.map(|a| a.assigned_at.to_rfc3339()).unwrap_or_default(),
        a.map(|a| a.due_at.to_rfc3339()).unwrap_or_default(),
        res.map(|x| x.resolved_at.to_rfc3339()).unwrap_or_default(),
        res.map(|x| x.on_time.to_string()).unwrap_or_default(),
        r.is_overdue(now).to_string(),
        r.title.clone(),
    ];
    let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
    let mut out = line.join(",");
    out.push('\n');
    out
}

/// CSV rows of reports (no reporter data), overdue as of `now`.
pub fn reports_csv(reports: &[Report], now: DateTime<Utc>) -> String {
    let mut out = String::from(CSV_HEADER);
    for r in reports {
        out.push_str(&csv_row(r, now));
    }
    out
}

impl App {
    /// The CSV export of reports created in [from, to), for those who may see statistics,
    /// read page by page ([`App::export_page`]), at most about `max` reports.
    pub async fn export_csv(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<String, DomainError> {
        let mut out = String::from(CSV_HEADER);
        let mut cursor = None;
        // Bounded: at most max / page + 1 pages.
        for _ in 0..=(max / super::aggregated::EXPORT_PAGE as usize + 1) {
            let (rows, next) = self.export_page(actor, from, to, cursor.take()).await?;
            out.push_str(&rows);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn spreadsheet_formulas_are_defused_and_separators_quoted() {
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
