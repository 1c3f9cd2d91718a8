//! Đ.7.5 on the console: the city's decision on a unit's deferral in words, and the target
//! date of an accepted one, always labelled apart from the regulated deadline (which still
//! decides "on time" in the statistics).

use maud::{html, Markup};
use phananh_core::model::{Deferral, Report};

/// The label of an accepted deferral's target date.
pub(super) const TARGET_LABEL: &str = "Hạn giải quyết mới (đã chấp nhận gia hạn)";
/// The label of the assignment's deadline when a target date is shown beside it.
pub(super) const REGULATED_LABEL: &str = "Hạn xử lý theo quy định";

/// "dd/mm/yyyy".
fn day(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Where the city's decision on the deferral stands, in words.
pub(super) fn decision_words(d: &Deferral) -> String {
    match &d.decision {
        None => "Chờ Lãnh đạo hoặc Trưởng bộ phận IOC quyết định".to_string(),
        Some(x) if x.accepted => match x.target_date {
            Some(t) => format!("Đã chấp nhận, hạn mới {}", day(t)),
            None => "Đã chấp nhận".to_string(),
        },
        Some(_) => "Không chấp nhận, xử lý theo hạn quy định".to_string(),
    }
}

/// The target date line shown beside the regulated deadline, when the report has one.
pub(super) fn target_line(r: &Report) -> Markup {
    html! {
        @if let Some(t) = r.target_date() {
            span class="target-date" { (TARGET_LABEL) ": " strong { (day(t)) } }
        }
    }
}
