//! The public site's words in Vietnamese (first) and English (for visitors): one small table,
//! a key per text. City data (category and unit names, the guidance of Đ.6.3) stays as the city
//! configured it, in Vietnamese; the English pages add a short English line beside it.

use phananh_core::model::{Action, State};

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (the switch in the header).
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

/// (key, Vietnamese, English).
const MESSAGES: &[(&str, &str, &str)] = &[
    ("site.name", "Phản ánh hiện trường", "Field reports"),
    ("site.tagline", "Gửi phản ánh, theo dõi kết quả xử lý của chính quyền thành phố", "Report a problem in the city and follow what the city does about it"),
    ("lang.switch", "English", "Tiếng Việt"),
    ("nav.report", "Gửi phản ánh", "Report"),
    ("nav.track", "Theo dõi", "Follow"),
    ("nav.results", "Kết quả", "Results"),
    ("nav.map", "Bản đồ", "Map"),
    ("nav.transparency", "Minh bạch", "Transparency"),
    ("nav.main", "Điều hướng chính", "Main navigation"),
    ("skip", "Bỏ qua, đến nội dung chính", "Skip to main content"),
    ("footer.privacy", "Họ tên, số điện thoại, e-mail của người phản ánh được bảo vệ (Điều 4 Quy chế) và không bao giờ được công khai.", "The name, phone and e-mail of a person who reports are protected (Article 4 of the Regulation) and never published."),
    ("home.lead", "Thấy vấn đề ở nơi công cộng: đường hỏng, rác thải, mất an toàn, giá cả bất thường…? Hãy phản ánh để cơ quan có thẩm quyền xử lý.", "Seen a problem in a public place: a broken road, rubbish, a danger, unfair prices…? Report it and the responsible office will act."),
    ("home.report", "Gửi phản ánh mới", "Send a new report"),
    ("home.recent", "Kết quả xử lý mới nhất", "Latest results"),
    ("home.all_results", "Xem tất cả kết quả", "See all results"),
    ("form.title", "Gửi phản ánh", "Send a report"),
    ("form.intro", "Các mục có dấu * là bắt buộc. Phản ánh được chuyển đến Bộ phận điều hành IOC để phân loại và giao đơn vị xử lý.", "Fields marked * are required. Your report goes to the city's operations centre (IOC), which assigns it to the responsible office."),
    ("form.category", "Lĩnh vực *", "Category *"),
    ("form.category_choose", "— Chọn lĩnh vực —", "— Choose a category —"),
    ("form.category_help", "Chọn lĩnh vực gần nhất với vấn đề; mô tả của từng lĩnh vực ở dưới.", "Choose the closest category; each is described below."),
    ("form.categories_list", "Các lĩnh vực tiếp nhận", "Categories received"),
    ("form.subject", "Tiêu đề *", "Title *"),
    ("form.description", "Nội dung phản ánh *", "What is the problem? *"),
    ("form.description_help", "Mô tả rõ sự việc, địa điểm, thời gian (Điều 3.1.b).", "Describe what happens, where and when (Art. 3.1.b)."),
    ("form.location", "Vị trí", "Location"),
    ("form.gps", "Dùng vị trí hiện tại của tôi", "Use my current location"),
    ("form.pick_map", "Chọn trên bản đồ", "Pick on the map"),
    ("form.map_help", "Chạm vào bản đồ để đánh dấu vị trí.", "Tap the map to mark the place."),
    ("form.location_set", "Đã chọn vị trí", "Location set"),
    ("form.gps_failed", "Không lấy được vị trí của thiết bị; hãy chọn trên bản đồ hoặc ghi địa chỉ.", "Could not get your device's location; pick it on the map or type the address."),
    ("form.address", "Địa chỉ, mô tả nơi xảy ra", "Address or description of the place"),
    ("form.ward", "Phường, xã", "Ward or commune"),
    ("form.ward_unknown", "— Không rõ —", "— Not sure —"),
    ("form.media", "Ảnh, ghi âm, video", "Photos, audio, video"),
    ("form.media_help", "Ảnh JPEG/PNG/WebP/HEIC, âm thanh MP3/M4A/AAC, video MP4/MOV. Cần bật JavaScript để tải tệp.", "JPEG/PNG/WebP/HEIC photos, MP3/M4A/AAC audio, MP4/MOV video. Uploading needs JavaScript."),
    ("form.choose_files", "+ Chọn ảnh, ghi âm, video", "+ Choose photos, audio, video"),
    ("form.you", "Thông tin của bạn (không bắt buộc)", "About you (optional)"),
    ("form.name", "Họ và tên", "Name"),
    ("form.phone", "Số điện thoại", "Phone"),
    ("form.email", "E-mail", "E-mail"),
    ("form.privacy", "Bạn có thể gửi phản ánh mà không để lại thông tin cá nhân. Nếu để lại, họ tên, số điện thoại, e-mail chỉ dùng để liên hệ khi cần làm rõ và báo kết quả; chúng không bao giờ được công khai, đơn vị xử lý không nhìn thấy, và chỉ người có thẩm quyền xem được khi cần, mỗi lần xem đều được ghi lại (Điều 4 Quy chế).", "You may report without any personal data. If you give them, your name, phone and e-mail are used only to contact you about this report; they are never published, the office that handles it does not see them, and only authorised staff may view them when needed, every view being recorded (Article 4 of the Regulation)."),
    ("form.send", "Gửi phản ánh", "Send report"),
    ("form.sending", "Đang gửi…", "Sending…"),
    ("form.errors", "Phản ánh chưa được gửi. Hãy sửa các mục được đánh dấu bên dưới.", "The report was not sent. Please correct the fields marked below."),
    ("form.out_of_scope", "Nội dung này không thuộc phạm vi tiếp nhận", "This is not received here"),
    ("form.out_of_scope_en", "Complaints, denunciations and requests for legal advice are not received by the field-report system (Art. 6.3). The official guidance in Vietnamese:", "Complaints, denunciations and requests for legal advice are not received by the field-report system (Art. 6.3). The official guidance in Vietnamese:"),
    ("form.abusive", "Ngôn từ không phù hợp", "Inappropriate language"),
    ("form.abusive_text", "Quy chế nghiêm cấm sử dụng ngôn từ thô lỗ, dung tục, xúc phạm danh dự của tổ chức, cá nhân (Điều 3.1.c). Những từ sau sẽ bị che khi công khai và phản ánh có thể bị từ chối tiếp nhận; hãy viết lại:", "The Regulation forbids rude or vulgar words and insults to people or organisations (Art. 3.1.c). These words will be masked if published and the report may be refused; please rephrase:"),
    ("form.resent", "Phản ánh này đã được gửi trước đó; đây là phản ánh đã gửi.", "This report had already been sent; here it is."),
    ("form.key_reused", "Biểu mẫu này đã được dùng để gửi một phản ánh khác. Hãy kiểm tra lại nội dung rồi gửi lại.", "This form was already used for another report. Check the content and send again."),
    ("form.csrf", "Phiên làm việc đã hết hạn. Hãy tải lại trang và gửi lại.", "The page expired. Reload it and send again."),
    ("form.wait_uploads", "Hãy chờ tải tệp xong (hoặc xoá tệp lỗi) rồi gửi.", "Wait for the files to finish uploading (or remove failed ones), then send."),
    ("upload.uploading", "Đang tải", "Uploading"),
    ("upload.done", "Đã tải lên", "Uploaded"),
    ("upload.retrying", "Mất kết nối, đang thử lại…", "Connection lost, retrying…"),
    ("upload.failed", "Tải lên thất bại", "Upload failed"),
    ("upload.retry", "Thử lại", "Retry"),
    ("upload.remove", "Xoá", "Remove"),
    ("sent.title", "Đã gửi phản ánh", "Report sent"),
    ("sent.text", "Cảm ơn bạn. Hãy lưu đường dẫn hoặc mã tra cứu dưới đây để theo dõi kết quả xử lý; không cần tài khoản.", "Thank you. Keep the link or the tracking code below to follow your report; no account is needed."),
    ("sent.link", "Đường dẫn theo dõi", "Tracking link"),
    ("sent.code", "Mã phản ánh và mã tra cứu", "Report number and tracking code"),
    ("sent.keep", "Ai có đường dẫn này đều xem và đánh giá được phản ánh; đừng chia sẻ nếu không muốn.", "Anyone with this link can see and rate the report; do not share it unless you want to."),
    ("track.title", "Theo dõi phản ánh", "Follow a report"),
    ("track.lookup", "Nhập mã phản ánh và mã tra cứu bạn nhận được khi gửi.", "Enter the report number and tracking code you got when you sent it."),
    ("track.id", "Mã phản ánh", "Report number"),
    ("track.code", "Mã tra cứu", "Tracking code"),
    ("track.open", "Xem phản ánh", "Open"),
    ("track.bad_code", "Mã phản ánh hoặc mã tra cứu không đúng.", "The report number or tracking code is not right."),
    ("track.or_sign_in", "Hoặc đăng nhập bằng số điện thoại hoặc e-mail đã ghi khi gửi để xem các phản ánh của bạn.", "Or sign in with the phone or e-mail you gave to see your reports."),
    ("track.state", "Trạng thái", "Status"),
    ("track.unit", "Đơn vị xử lý", "Handled by"),
    ("track.due", "Hạn xử lý", "Due"),
    ("track.target", "Hạn giải quyết mới (đã chấp nhận gia hạn)", "New target date (postponement accepted)"),
    ("track.sent_at", "Ngày gửi", "Sent on"),
    ("track.timeline", "Quá trình xử lý", "Progress"),
    ("track.answer", "Trả lời của cơ quan chức năng", "The city's answer"),
    ("track.public_page", "Xem trang công khai", "See the public page"),
    ("track.rate", "Đánh giá kết quả xử lý", "Rate the result"),
    ("track.stars", "Số sao (1 = rất không hài lòng, 5 = rất hài lòng)", "Stars (1 = very unhappy, 5 = very happy)"),
    ("track.comment", "Ý kiến (không bắt buộc)", "Comment (optional)"),
    ("track.rate_send", "Gửi đánh giá", "Send rating"),
    ("track.rated", "Bạn đã đánh giá", "Your rating"),
    ("track.reopen", "Chưa hài lòng? Đề nghị xử lý lại", "Not solved? Ask to reopen"),
    ("track.reason", "Lý do *", "Why? *"),
    ("track.reopen_send", "Đề nghị xử lý lại", "Reopen"),
    ("track.done_rate", "Cảm ơn bạn đã đánh giá.", "Thank you for your rating."),
    ("track.done_reopen", "Phản ánh đã được chuyển lại Bộ phận điều hành IOC để xử lý lại.", "The report went back to the operations centre to be handled again."),
    ("me.title", "Phản ánh của tôi", "My reports"),
    ("me.intro", "Nhận mã đăng nhập một lần qua tin nhắn hoặc e-mail đã ghi khi gửi phản ánh.", "Get a one-time sign-in code by SMS or e-mail, to the contact you gave with your report."),
    ("me.contact", "Số điện thoại hoặc e-mail", "Phone or e-mail"),
    ("me.send_code", "Gửi mã", "Send code"),
    ("me.code", "Mã đăng nhập", "Sign-in code"),
    ("me.code_sent", "Đã gửi mã đến", "A code was sent to"),
    ("me.verify", "Đăng nhập", "Sign in"),
    ("me.bad_code", "Mã đăng nhập không đúng hoặc đã hết hạn.", "The code is wrong or has expired."),
    ("me.unavailable", "Đăng nhập bằng mã chưa được cấu hình ở đây; hãy dùng đường dẫn theo dõi.", "Sign-in by code is not set up here; use your tracking link."),
    ("me.none", "Chưa có phản ánh nào gửi với tài khoản này.", "No report was sent with this account yet."),
    ("me.sign_out", "Đăng xuất", "Sign out"),
    ("results.title", "Kết quả xử lý phản ánh", "Results"),
    ("results.intro", "Phản ánh đã được xử lý và công khai (Điều 8 Quy chế). Thông tin cá nhân của người phản ánh không bao giờ được công khai.", "Reports handled and published by the city (Art. 8). Personal data of people who report is never published."),
    ("results.filter", "Lọc", "Filter"),
    ("results.all_categories", "Tất cả lĩnh vực", "All categories"),
    ("results.all_wards", "Tất cả phường, xã", "All wards"),
    ("results.period", "Thời gian", "Period"),
    ("results.p30", "30 ngày qua", "Last 30 days"),
    ("results.p90", "90 ngày qua", "Last 90 days"),
    ("results.p365", "12 tháng qua", "Last 12 months"),
    ("results.pall", "Tất cả", "All time"),
    ("results.apply", "Áp dụng", "Apply"),
    ("results.none", "Chưa có kết quả nào phù hợp.", "No result matches."),
    ("results.more", "Xem thêm", "More"),
    ("results.secret", "Nội dung phản ánh này không được công khai (Điều 8.2 Quy chế).", "The content of this report is not public (Art. 8.2)."),
    ("results.on_time", "Đúng hạn", "On time"),
    ("results.late", "Quá hạn", "Late"),
    ("results.published_at", "Công khai ngày", "Published"),
    ("results.rating", "Đánh giá của người phản ánh", "Reporter's rating"),
    ("results.media", "Hình ảnh, tệp công khai", "Public media"),
    ("results.list", "Xem danh sách", "See the list"),
    ("results.see_map", "Xem trên bản đồ", "See on the map"),
    ("map.title", "Bản đồ kết quả xử lý", "Map of results"),
    ("map.nojs", "Bản đồ cần JavaScript; danh sách kết quả vẫn xem được không cần JavaScript.", "The map needs JavaScript; the list of results works without it."),
    ("map.tiles", "Không tải được nền bản đồ; các điểm phản ánh vẫn hiển thị.", "The map background could not be loaded; the reports still show."),
    ("tr.title", "Minh bạch kết quả xử lý", "Transparency"),
    ("tr.intro", "Số phản ánh tiếp nhận, đã xử lý và tỷ lệ xử lý đúng hạn theo đơn vị và lĩnh vực. Chỉ số liệu tổng hợp, không có thông tin của từng phản ánh hay người phản ánh.", "Reports received, resolved and the on-time rate per office and per category. Aggregates only: nothing about any single report or person."),
    ("tr.this_month", "Tháng này", "This month"),
    ("tr.last12", "12 tháng gần nhất", "Last 12 months"),
    ("tr.month", "Phản ánh tiếp nhận trong tháng", "Reports received in"),
    ("tr.months", "Phản ánh tiếp nhận từ tháng", "Reports received from"),
    ("tr.received", "Tiếp nhận", "Received"),
    ("tr.resolved", "Đã xử lý", "Resolved"),
    ("tr.on_time", "Đúng hạn", "On time"),
    ("tr.rate", "Tỷ lệ đúng hạn", "On-time rate"),
    ("tr.by_unit", "Theo đơn vị", "By office"),
    ("tr.by_category", "Theo lĩnh vực", "By category"),
    ("tr.unit", "Đơn vị", "Office"),
    ("tr.category", "Lĩnh vực", "Category"),
    ("tr.total", "Tổng", "Total"),
    ("nf.title", "Không tìm thấy trang", "Page not found"),
    ("nf.text", "Phản ánh hoặc trang bạn tìm không tồn tại hoặc chưa được công khai. Nếu bạn có đường dẫn theo dõi, hãy kiểm tra lại đường dẫn.", "The report or page you are looking for does not exist or is not public. If you have a tracking link, check that it is complete."),
    ("nf.home", "Về trang chủ", "Back to the home page"),
    ("error.title", "Có lỗi xảy ra", "Something went wrong"),
    ("error.text", "Hệ thống đang bận hoặc gặp sự cố. Hãy thử lại sau ít phút.", "The system is busy or has a problem. Please try again in a few minutes."),
    ("stars", "sao", "stars"),
];

/// The text of `key` in `lang` (the key itself when missing, which a unit test forbids for
/// every key this crate uses).
pub fn t(lang: Lang, key: &str) -> &'static str {
    for (k, vi, en) in MESSAGES {
        if *k == key {
            return match lang {
                Lang::Vi => vi,
                Lang::En => en,
            };
        }
    }
    tracing::warn!(key, "site text missing");
    "?"
}

/// A report state, as the public reads it.
pub fn state_name(lang: Lang, s: State) -> &'static str {
    let (vi, en) = match s {
        State::Submitted => ("Đã gửi", "Sent"),
        State::Screened => ("Đang phân loại", "Being sorted"),
        State::Assigned => ("Đã giao đơn vị xử lý", "Assigned to an office"),
        State::InProgress => ("Đang xử lý", "In progress"),
        State::Resolved => ("Đã xử lý, chờ công khai", "Resolved, to be published"),
        State::Published => ("Đã công khai kết quả", "Result published"),
        State::Closed => ("Đã đóng", "Closed"),
        State::Rejected => ("Không tiếp nhận", "Not received"),
        State::Referred => ("Chờ lãnh đạo chỉ đạo", "Awaiting direction"),
        State::Deferred => ("Chưa giải quyết được, có hẹn", "Postponed"),
        State::Returned => ("Đang phân loại lại", "Being re-sorted"),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A timeline step, as the public reads it.
pub fn action_name(lang: Lang, a: Action) -> &'static str {
    let (vi, en) = match a {
        Action::Submit | Action::CreateFromCamera => ("Tiếp nhận phản ánh", "Report received"),
        Action::Screen => ("Sàng lọc", "Screened"),
        Action::Assign | Action::Reassign => ("Giao đơn vị xử lý", "Assigned"),
        Action::InformLeadership | Action::Refer | Action::Directive => {
            ("Báo cáo lãnh đạo", "Referred to leadership")
        }
        Action::Accept => ("Đơn vị tiếp nhận xử lý", "Accepted by the office"),
        Action::Progress | Action::AddNote => ("Cập nhật tiến độ", "Progress update"),
        Action::Resolve => ("Đã xử lý", "Resolved"),
        Action::Defer => ("Chưa giải quyết được, có hẹn", "Postponed"),
        Action::Resume => ("Tiếp tục xử lý", "Resumed"),
        Action::DecideDeferral => ("Quyết định gia hạn", "Postponement decided"),
        Action::Return => ("Đơn vị trả lại IOC", "Returned to the IOC"),
        Action::Reclassify => ("Phân loại lại", "Reclassified"),
        Action::Urge => ("Đôn đốc", "Urged"),
        Action::Publish => ("Công khai kết quả", "Result published"),
        Action::Reject => ("Không tiếp nhận", "Not received"),
        Action::Close => ("Đóng", "Closed"),
        Action::Reopen => ("Đề nghị xử lý lại", "Reopened"),
        Action::Rate => ("Đánh giá", "Rated"),
        Action::Escalate => ("Nhắc hạn", "Deadline reminder"),
        Action::RevealReporter
        | Action::MarkSecret
        | Action::FlagSecret
        | Action::ClearSecretFlag
        | Action::ViewStats
        | Action::ManageAccounts
        | Action::ManageNotifications
        | Action::RequestShare
        | Action::DecideShare
        | Action::ReleaseShare => ("Cập nhật", "Update"),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_has_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, vi, en) in MESSAGES {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!vi.is_empty() && !en.is_empty(), "{k}");
        }
    }

    /// Every `t(…, "key")` in the site's sources names a key of the table.
    #[test]
    fn every_key_used_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/site");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("site sources") {
            let path = entry.expect("entry").path();
            let src = std::fs::read_to_string(&path).expect("source");
            for part in src.split("lang, \"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }
}
