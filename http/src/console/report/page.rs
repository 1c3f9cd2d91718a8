//! The report page's sections: details, deadline, location, media and the hash-chained
//! timeline, rendered from the staff view only.

use super::*;

// ---------------------------------------------------------------------------------------------
// The page

pub(super) async fn render(
    s: &HttpState,
    ctx: &Ctx,
    id: &ReportId,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let actor = &ctx.session.actor;
    let raw = match s.app.get_for(id, actor).await {
        Ok(r) => r,
        Err(e) => return error_page(ctx, &e),
    };
    let rules = s.app.rules();
    let now = s.app.now();
    // Đ.6.2: every staff read verifies the audit trail; a break is shown loudly.
    let audit = s.app.audit_check(&raw);
    // From here on only what staff may see: the raw report is not used again.
    let v = staff_view(&raw, actor, rules, now);
    drop(raw);
    let r = &v.report;
    let actions = available_actions(r, actor);
    let proposal = actions
        .contains(&Action::Assign)
        .then(|| s.app.propose_assignment(r));
    // Đ.7.2: the office and the IOC see who was told what about the report.
    let deliveries =
        if phananh_core::App::check_delivery_access(actor).is_ok() && s.app.has_delivery_log() {
            s.app.deliveries_for(actor, &r.id).await.ok()
        } else {
            None
        };
    let body = html! {
        @if let Some(bad) = &audit.first_bad {
            div class="audit-broken" role="alert" data-audit="broken" data-audit-seq=(bad.seq) {
                strong { "CẢNH BÁO: NHẬT KÝ XỬ LÝ CỦA PHẢN ÁNH NÀY ĐÃ BỊ CAN THIỆP." }
                " Kiểm tra toàn vẹn thất bại ở " (bad.message)
                ". Không dựa vào nội dung nhật ký cho đến khi Văn phòng đối chiếu với bản neo hằng ngày."
            }
        }
        @if extra.changed {
            p class="notice" role="alert" {
                "Phản ánh vừa được cập nhật bởi người khác — đây là trạng thái hiện tại: "
                strong { (state_name(r.state)) }
            }
        }
        @if let Some(done) = extra.done.as_deref() {
            p class="done" role="status" {
                "Đã thực hiện: "
                (action_by_name(done).map(action_label).unwrap_or("thao tác"))
                "."
            }
        }
        article class="report" data-report-id=(r.id.as_str()) data-state=(r.state.as_str()) {
            (details(&v, rules, now))
            @if let Some(revealed) = &extra.revealed {
                (revealed_block(revealed.as_ref()))
            }
            (location(r, rules))
            (media(r))
            (timeline(r, rules))
            @if let Some(d) = &deliveries {
                section class="deliveries" {
                    h2 { "Thông báo đã gửi" }
                    (crate::console::notifications::table(rules, d, &ctx.csrf, &report_url(&r.id)))
                }
            }
            (super::share::section(r, actor, &ctx.csrf))
            section class="actions" {
                h2 { "Thao tác" }
                @if actions.is_empty() {
                    p.muted { "Bạn không có thao tác nào trên phản ánh này ở trạng thái hiện tại." }
                }
                @for a in &actions {
                    @let typed = extra.typed.as_ref().filter(|t| t.action == a.as_str());
                    (action_form(&v, *a, proposal.as_ref(), FormState { typed }, &ctx.csrf, rules))
                }
                @if let Some(t) = extra.typed.as_ref().filter(|t| !actions.iter().any(|a| a.as_str() == t.action)) {
                    @if let Some(m) = &t.message {
                        p class="error" role="alert" { (m) }
                    }
                }
            }
        }
    };
    let mut resp = ctx.page(&r.title, "", body);
    *resp.status_mut() = status;
    resp
}

pub(super) fn details(v: &StaffView, rules: &CityRules, now: DateTime<Utc>) -> Markup {
    let r = &v.report;
    html! {
        header class="report-head" {
            h1 { (r.title) }
            p {
                span class="badge state" { (state_name(r.state)) }
                span class="badge" { (category_name(rules, &r.category)) }
                @if r.flags.abusive {
                    span class="badge flag" { "Có ngôn từ không phù hợp" }
                }
                @if r.flags.state_secret {
                    span class="badge flag" { "Bí mật nhà nước" }
                }
                @if r.flags.possibly_secret {
                    span class="badge flag possibly-secret" title="Điều 8.2" { "Có thể liên quan bí mật nhà nước — chờ IOC hoặc Lãnh đạo quyết định" }
                }
            }
        }
        (deadline(v, rules, now))
        section class="details" {
            h2 { "Nội dung" }
            p class="description" { (r.description) }
            dl {
                dt { "Mã phản ánh" } dd { code { (r.id.as_str()) } }
                dt { "Thời điểm gửi" } dd { (rules.format_local(r.created_at)) }
                dt { "Nguồn" }
                dd {
                    @match &r.source {
                        Source::App => "Ứng dụng của người dân",
                        Source::Camera { camera_id } => { "Camera giám sát " code { (camera_id) } }
                    }
                }
                @if r.reported_category != r.category {
                    dt { "Lĩnh vực người phản ánh chọn" }
                    dd { (category_name(rules, &r.reported_category)) }
                }
                @if let Some(w) = &r.ward {
                    dt { "Phường, xã" } dd { (ward_name(rules, w)) }
                }
                @if let Some(addr) = &r.address {
                    dt { "Địa chỉ" } dd { (addr) }
                }
                @if let Some(rep) = &r.reporter {
                    dt { "Người phản ánh" }
                    dd class="reporter-masked" {
                        (rep.name.as_deref().unwrap_or("(không nêu tên)"))
                        @if let Some(p) = &rep.phone { " · " (p) }
                        @if let Some(e) = &rep.email { " · " (e) }
                        " "
                        span.muted { "(đã che; xem đầy đủ cần nêu lý do và được ghi nhật ký)" }
                    }
                }
                @if let Some(a) = &r.assignment {
                    dt { "Đơn vị chủ trì" } dd { (unit_name(rules, &a.lead_unit)) }
                    @if !a.coordinating_units.is_empty() {
                        dt { "Đơn vị phối hợp" }
                        dd {
                            @for (i, u) in a.coordinating_units.iter().enumerate() {
                                @if i > 0 { ", " }
                                (unit_name(rules, u))
                            }
                        }
                    }
                    dt { "Giao lúc" } dd { (rules.format_local(a.assigned_at)) }
                }
                @if let Some(d) = &r.deferral {
                    dt { "Chưa giải quyết được" }
                    dd { (d.reason) " — dự kiến " (d.expected_date.format("%d/%m/%Y")) }
                    dt { "Quyết định gia hạn" }
                    dd.deferral-decision { (crate::console::deferral::decision_words(d)) }
                }
                @if let Some(res) = &r.resolution {
                    dt { "Kết quả xử lý" }
                    dd {
                        (res.summary) " — " (unit_name(rules, &res.unit)) ", "
                        (rules.format_local(res.resolved_at))
                        @if res.on_time { " (đúng hạn)" } @else { " (quá hạn)" }
                    }
                }
                @if let Some(ans) = &r.public_answer {
                    dt { "Trả lời công khai" } dd { (ans) }
                }
                @if let Some(rt) = &r.rating {
                    dt { "Đánh giá của người dân" }
                    dd { (rt.stars) "/5" @if let Some(c) = &rt.comment { " — " (c) } }
                }
            }
        }
    }
}

/// Time left or overdue, coloured by the share of the deadline used.
pub(super) fn deadline(v: &StaffView, rules: &CityRules, now: DateTime<Utc>) -> Markup {
    let r = &v.report;
    let Some(a) = &r.assignment else {
        return html! {};
    };
    let due = rules.format_local(a.due_at);
    if r.target_date().is_some() {
        // Đ.7.5: the accepted target beside the regulated deadline, each labelled.
        return html! {
            p class="deadline" {
                (crate::console::deferral::REGULATED_LABEL) ": " (due)
                br;
                (crate::console::deferral::target_line(r))
            }
        };
    }
    if !r.state.unit_clock_running() {
        return html! {
            p class="deadline" { "Hạn xử lý: " (due) }
        };
    }
    let remaining = v.remaining_minutes;
    let class = if v.overdue || remaining.is_some_and(|m| m < 0) {
        "time-over"
    } else {
        let total = f64::from(a.deadline_minutes.max(1));
        let used = 1.0 - remaining.map(|m| m as f64).unwrap_or(total) / total;
        if used < 0.5 {
            "time-ok"
        } else if used < 0.75 {
            "time-warn"
        } else {
            "time-late"
        }
    };
    html! {
        p class={ "deadline card " (class) } {
            @if class == "time-over" {
                strong { "Quá hạn" }
                @if let Some(m) = remaining.filter(|m| *m < 0) { " " (duration_vi(m)) }
                " — hạn xử lý " (due)
            } @else {
                "Còn " strong { (remaining.map(duration_vi).unwrap_or_default()) }
                " — hạn xử lý " (due)
            }
            " (bây giờ " (rules.format_local(now)) ")"
        }
    }
}

pub(super) fn revealed_block(reporter: Option<&Reporter>) -> Markup {
    html! {
        section class="revealed" role="status" {
            h2 { "Thông tin người phản ánh (đã ghi nhật ký)" }
            @match reporter {
                Some(rep) => {
                    dl {
                        dt { "Họ tên" } dd { (rep.name.as_deref().unwrap_or("(không nêu)")) }
                        dt { "Điện thoại" } dd { (rep.phone.as_deref().unwrap_or("(không nêu)")) }
                        dt { "Thư điện tử" } dd { (rep.email.as_deref().unwrap_or("(không nêu)")) }
                    }
                    p.muted { "Thông tin chỉ hiển thị một lần trên trang này." }
                }
                None => p { "Phản ánh này không có thông tin người phản ánh (ví dụ: tạo từ camera)." }
            }
        }
    }
}

pub(super) fn location(r: &Report, rules: &CityRules) -> Markup {
    html! {
        section class="location" {
            h2 { "Vị trí" }
            @if let Some(p) = r.location {
                @let (lat, lon) = (format!("{:.6}", p.lat), format!("{:.6}", p.lon));
                div class="minimap" data-lat=(lat) data-lon=(lon)
                    data-tiles=(rules.config.city.map_tile_url)
                    data-attribution=(rules.config.city.map_attribution)
                    data-wards-url="/console/map/wards.json" {
                    span.muted { (lat) ", " (lon) }
                }
                (super::super::map::library())
                p {
                    "Tọa độ: " (lat) ", " (lon) " · "
                    a href=(format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}")) rel="noopener noreferrer" target="_blank" {
                        "Mở bản đồ"
                    }
                }
            } @else {
                p.muted { "Không có tọa độ." }
            }
        }
    }
}

pub(super) fn media_item(id: &ReportId, a: &Attachment) -> Markup {
    let href = attachment_href(id, &a.id);
    html! {
        figure class="media-item" data-attachment-id=(a.id) {
            @match a.kind {
                MediaKind::Photo => {
                    a href=(href) { img src=(href) alt="Ảnh đính kèm" loading="lazy"; }
                }
                MediaKind::Audio => { audio controls preload="none" src=(href) {} }
                MediaKind::Video => { video controls preload="none" src=(href) {} }
                MediaKind::Document => { a href=(href) { "Tài liệu (" (a.content_type) ")" } }
            }
            figcaption.muted {
                (a.id)
                @if a.public { " · công khai" }
                // Read from the photo's EXIF before its public copy was stripped (issue 11).
                @if let Some(p) = a.location_hint {
                    br;
                    span class="location-hint" data-lat=(p.lat) data-lon=(p.lon) {
                        "Gợi ý vị trí chụp (theo ảnh, chỉ cán bộ thấy): "
                        (format!("{:.5}, {:.5}", p.lat, p.lon))
                    }
                }
            }
        }
    }
}

pub(super) fn media(r: &Report) -> Markup {
    html! {
        section class="media" {
            h2 { "Hình ảnh, âm thanh, video" }
            @if r.attachments.is_empty() {
                p.muted { "Không có tệp đính kèm." }
            } @else {
                div class="media-grid" {
                    @for a in &r.attachments { (media_item(&r.id, a)) }
                }
            }
        }
    }
}

pub(super) fn entry_actor(e: &TimelineEntry, rules: &CityRules) -> Markup {
    html! {
        span class="who" {
            (role_name(e.role))
            @if let Some(u) = &e.unit { " · " (unit_name(rules, u)) }
            // A citizen's id is personal data: only staff accounts are named.
            @if e.role != Role::Citizen && e.role != Role::System { " (" (e.actor_id) ")" }
        }
    }
}

pub(super) fn timeline(r: &Report, rules: &CityRules) -> Markup {
    let intact = r.verify_timeline();
    html! {
        section class="history" {
            h2 { "Diễn biến xử lý" }
            @match intact {
                Ok(()) => p.muted { "Nhật ký liên kết bằng mã băm: toàn vẹn, không thể sửa." },
                Err(seq) => p.error role="alert" { "Cảnh báo: nhật ký bị thay đổi từ mục " (seq) "." },
            }
            ol class="timeline" {
                @for e in &r.timeline {
                    li class=[(e.action == Action::Directive).then_some("directive")] data-action=(e.action.as_str()) {
                        time datetime=(e.at.to_rfc3339()) { (rules.format_local(e.at)) }
                        " — " strong { (action_label(e.action)) } " — " (entry_actor(e, rules))
                        @if let Some(from) = e.from_state.filter(|f| *f != e.to_state) {
                            " " span.muted { "(" (state_name(from)) " → " (state_name(e.to_state)) ")" }
                        }
                        @if let Some(lead) = e.data.get("lead_unit").and_then(Value::as_str) {
                            div { "Giao cho: " (unit_name(rules, lead))
                                @if let Some(due) = e.data.get("due_at").and_then(Value::as_str).and_then(|d| d.parse::<DateTime<Utc>>().ok()) {
                                    ", hạn " (rules.format_local(due))
                                }
                            }
                        }
                        @if let Some(note) = &e.note {
                            @if e.action == Action::Directive {
                                blockquote class="directive-text" { (note) }
                            } @else {
                                div class="note" { (note) }
                            }
                        }
                        @if !e.attachments.is_empty() {
                            div {
                                "Tệp: "
                                @for (i, a) in e.attachments.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(attachment_href(&r.id, a)) { (a) }
                                }
                            }
                        }
                        @if e.action == Action::Directive {
                            div class="signature" {
                                "Chỉ đạo đã ký, không thể sửa đổi · mã băm "
                                code class="hash" { (e.hash) }
                                " · nối tiếp " code class="hash" { (e.prev_hash.get(..16).unwrap_or(&e.prev_hash)) "…" }
                            }
                        }
                    }
                }
            }
        }
    }
}
