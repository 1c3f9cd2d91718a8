//! How the console names things for people: the city's names of categories, units and wards,
//! Vietnamese names of states and actions, local times and lengths of time in words, and the
//! URL of a report page. One place, so every page says the same thing the same way.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use phananh_core::model::{Action, ReportId, State as RState};
use phananh_core::CityRules;

/// The city's name of a category (its code when unknown).
pub(super) fn category_name(rules: &CityRules, code: &str) -> String {
    rules
        .config
        .category(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// The city's name of a unit (its id when unknown).
pub(super) fn unit_name(rules: &CityRules, id: &str) -> String {
    rules
        .config
        .unit(id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The city's name of a ward (its id when unknown).
pub(super) fn ward_name(rules: &CityRules, id: &str) -> String {
    rules
        .config
        .ward(id)
        .map(|w| w.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Vietnamese name of a state.
pub(super) fn state_name(s: RState) -> &'static str {
    match s {
        RState::Submitted => "Mới tiếp nhận",
        RState::Screened => "Đã sàng lọc",
        RState::Assigned => "Đã giao xử lý",
        RState::InProgress => "Đang xử lý",
        RState::Resolved => "Đã có kết quả",
        RState::Published => "Đã công khai",
        RState::Closed => "Đã đóng",
        RState::Rejected => "Từ chối tiếp nhận",
        RState::Referred => "Chờ lãnh đạo chỉ đạo",
        RState::Deferred => "Chưa giải quyết được",
        RState::Returned => "Đơn vị trả lại",
    }
}

/// Vietnamese name of an action (the submit button's text for those a page offers).
pub(super) fn action_label(a: Action) -> &'static str {
    match a {
        Action::Submit => "Gửi phản ánh",
        Action::CreateFromCamera => "Tạo phản ánh từ camera",
        Action::Screen => "Sàng lọc tự động",
        Action::Assign => "Giao xử lý",
        Action::InformLeadership => "Báo cáo lãnh đạo",
        Action::Refer => "Chuyển lãnh đạo",
        Action::Directive => "Ban hành chỉ đạo",
        Action::Accept => "Tiếp nhận xử lý",
        Action::Progress => "Cập nhật tiến độ",
        Action::AddNote => "Thêm ghi chú",
        Action::Resolve => "Báo cáo kết quả",
        Action::Defer => "Báo cáo chưa giải quyết được",
        Action::Resume => "Tiếp tục xử lý",
        Action::Return => "Trả lại",
        Action::Reclassify => "Đổi lĩnh vực",
        Action::Reassign => "Giao lại",
        Action::Urge => "Đôn đốc",
        Action::Publish => "Duyệt và công khai",
        Action::Reject => "Từ chối tiếp nhận",
        Action::Close => "Đóng phản ánh",
        Action::Reopen => "Mở lại",
        Action::Rate => "Đánh giá",
        Action::Escalate => "Cảnh báo hạn xử lý",
        Action::RevealReporter => "Xem thông tin người phản ánh",
        Action::RequestShare => "Đề nghị chia sẻ cho bên thứ ba",
        Action::DecideShare => "Quyết định chia sẻ cho bên thứ ba",
        Action::ReleaseShare => "Cung cấp cho bên thứ ba",
        Action::MarkSecret => "Đánh dấu bí mật",
        Action::FlagSecret => "Báo có thể liên quan bí mật nhà nước",
        Action::ClearSecretFlag => "Bỏ cờ có thể bí mật",
        Action::DecideDeferral => "Quyết định đề nghị gia hạn",
        Action::ViewStats => "Xem thống kê",
        Action::ManageAccounts => "Quản lý tài khoản",
        Action::ManageNotifications => "Theo dõi gửi thông báo",
    }
}

/// The report's page URL.
pub(super) fn report_url(id: &ReportId) -> String {
    format!("/console/reports/{}", urlencoding::encode(id.as_str()))
}

/// `<time>` of an instant, shown in local time.
pub(super) fn local_time(rules: &CityRules, t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (rules.format_local(t)) } }
}

/// A length of time in words: "1 giờ 20 phút", "35 phút", "2 ngày 3 giờ" (days only on a
/// clock-hours deadline; working-hours deadlines count working hours).
pub(super) fn duration_words(minutes: i64, days: bool) -> String {
    let m = minutes.abs();
    let (d, h, min) = if days {
        (m / 1440, (m % 1440) / 60, m % 60)
    } else {
        (0, m / 60, m % 60)
    };
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} ngày"));
    }
    if h > 0 {
        parts.push(format!("{h} giờ"));
    }
    if min > 0 && d == 0 {
        parts.push(format!("{min} phút"));
    }
    if parts.is_empty() {
        "0 phút".to_string()
    } else {
        parts.join(" ")
    }
}
