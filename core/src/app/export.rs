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

/// CSV rows of reports (no reporter data), overdue as of `now`.
pub fn reports_csv(reports: &[Report], now: DateTime<Utc>) -> String {
    let mut out = String::from(
        "id,created_at,category,ward,state,lead_unit,assigned_at,due_at,resolved_at,on_time,overdue,title\n",
    );
    for r in reports {
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
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

impl App {
    /// The CSV export of reports created in [from, to), for those who may see statistics.
    pub async fn export_csv(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        max: usize,
    ) -> Result<String, DomainError> {
        Self::check_stats_access(actor)?;
        let reports = self.collect(from, to, max).await?;
        Ok(reports_csv(&reports, self.now()))
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
