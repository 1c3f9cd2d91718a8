//! One form per action the signed-in person may take now, with the fields of core's command,
//! what was typed and the message next to the field core named.

use super::*;

// ---------------------------------------------------------------------------------------------
// Action forms

/// The fields each form shows (messages for other fields go on top of the form).
pub(super) fn form_fields(a: Action) -> &'static [&'static str] {
    match a {
        Action::Assign | Action::Reassign => &["lead_unit", "coordinating_units", "note"],
        Action::Refer
        | Action::Accept
        | Action::Resume
        | Action::Urge
        | Action::MarkSecret
        | Action::ClearSecretFlag
        | Action::Close
        | Action::AddNote => &["note"],
        Action::Progress => &["note", "attachments"],
        Action::Reject | Action::RevealReporter | Action::FlagSecret => &["reason"],
        Action::Reclassify => &["category", "note"],
        Action::Resolve => &["summary", "evidence", "attachments"],
        Action::Defer => &["reason", "expected_date"],
        Action::DecideDeferral => &["accept", "target_date", "note"],
        Action::Return => &["reason", "suggested_category"],
        Action::Publish => &["public_answer", "public_attachments"],
        Action::Directive => &["text"],
        _ => &[],
    }
}

pub(super) fn textarea(
    a: Action,
    name: &str,
    label: &str,
    f: &FormState,
    initial: Option<&str>,
    required: bool,
) -> Markup {
    let id = format!("{}-{name}", a.as_str());
    let value = f.value(name).or(if f.typed_any() { None } else { initial });
    html! {
        label for=(id) { (label) @if !required { " " span.muted { "(không bắt buộc)" } } }
        textarea id=(id) name=(name) required[required] { (value.unwrap_or_default()) }
        (field_error(f.error(&[name])))
    }
}

pub(super) fn unit_selects(
    a: Action,
    rules: &CityRules,
    f: &FormState,
    lead: Option<&str>,
    coordinating: &[String],
) -> Markup {
    let lead_id = format!("{}-lead_unit", a.as_str());
    let coord_id = format!("{}-coordinating_units", a.as_str());
    let chosen_lead = f.value("lead_unit").or(lead);
    let chosen_coord: Vec<String> = if f.typed_any() {
        f.values("coordinating_units")
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        coordinating.to_vec()
    };
    html! {
        label for=(lead_id) { "Đơn vị chủ trì" }
        select id=(lead_id) name="lead_unit" required {
            option value="" { "— Chọn đơn vị —" }
            @for u in &rules.config.units {
                option value=(u.id) selected[chosen_lead == Some(u.id.as_str())] { (u.name) }
            }
        }
        (field_error(f.error(&["lead_unit"])))
        label for=(coord_id) { "Đơn vị phối hợp " span.muted { "(chọn nhiều bằng Ctrl/⌘)" } }
        select id=(coord_id) name="coordinating_units" multiple size="5" {
            @for u in &rules.config.units {
                option value=(u.id) selected[chosen_coord.iter().any(|c| c == &u.id)] { (u.name) }
            }
        }
        (field_error(f.error(&["coordinating_units"])))
    }
}

pub(super) fn category_select(
    a: Action,
    name: &str,
    label: &str,
    rules: &CityRules,
    f: &FormState,
    current: Option<&str>,
    optional: bool,
) -> Markup {
    let id = format!("{}-{name}", a.as_str());
    let chosen = f.value(name).or(current);
    html! {
        label for=(id) { (label) @if optional { " " span.muted { "(không bắt buộc)" } } }
        select id=(id) name=(name) required[!optional] {
            option value="" { "— Chọn lĩnh vực —" }
            @for c in &rules.config.categories {
                option value=(c.code) selected[chosen == Some(c.code.as_str())] { (c.name) }
            }
        }
        (field_error(f.error(&[name])))
    }
}

/// An upload input (through the console script) filling a hidden field of upload ids.
pub(super) fn upload(
    prefix: &str,
    name: &str,
    label: &str,
    f: &FormState,
    aliases: &[&str],
) -> Markup {
    let hidden = format!("{prefix}-ids");
    html! {
        label for=(format!("{prefix}-file")) { (label) }
        input id=(format!("{prefix}-file")) type="file" accept="image/*,video/*,audio/*,application/pdf" capture="environment" multiple
            data-upload=(hidden) data-progress=(format!("{prefix}-progress")) data-list=(format!("{prefix}-list"));
        input id=(hidden) type="hidden" name=(name) value=(f.values(name).join(","));
        progress id=(format!("{prefix}-progress")) max="100" value="0" hidden {}
        ul id=(format!("{prefix}-list")) class="uploads" {}
        (field_error(f.error(aliases)))
    }
}

pub(super) fn action_form(
    v: &StaffView,
    a: Action,
    proposal: Option<&Proposal>,
    f: FormState,
    csrf: &str,
    rules: &CityRules,
) -> Markup {
    let r = &v.report;
    let name = a.as_str();
    let fields = form_fields(a);
    let body = match a {
        Action::Assign => {
            let lead = proposal.and_then(|p| p.lead_unit.as_deref());
            let coord = proposal
                .map(|p| p.coordinating_units.clone())
                .unwrap_or_default();
            html! {
                @if let Some(p) = proposal {
                    p class="proposal" {
                        "Đề xuất: " strong { (lead.map(|u| unit_name(rules, u)).unwrap_or_else(|| "chưa xác định đơn vị".into())) }
                        " — " (p.reason)
                    }
                    p class="due-if-now" {
                        @match p.due_at {
                            Some(d) => { "Hạn xử lý nếu giao bây giờ: " strong { (rules.format_local(d)) } }
                            None => "Lĩnh vực này không có thời hạn xử lý quy định.",
                        }
                    }
                }
                (unit_selects(a, rules, &f, lead, &coord))
                (textarea(a, "note", "Ghi chú", &f, None, false))
            }
        }
        Action::Reassign => {
            let lead = r.lead_unit();
            let coord = r
                .assignment
                .as_ref()
                .map(|x| x.coordinating_units.clone())
                .unwrap_or_default();
            html! {
                (unit_selects(a, rules, &f, lead, &coord))
                (textarea(a, "note", "Lý do giao lại", &f, None, true))
            }
        }
        Action::Refer => textarea(a, "note", "Nội dung xin ý kiến lãnh đạo", &f, None, true),
        Action::Urge => textarea(a, "note", "Nội dung đôn đốc", &f, None, true),
        Action::MarkSecret => textarea(a, "note", "Căn cứ đánh dấu bí mật", &f, None, true),
        Action::FlagSecret => textarea(
            a,
            "reason",
            "Căn cứ cho rằng phản ánh có thể liên quan bí mật nhà nước (IOC hoặc Lãnh đạo quyết định)",
            &f,
            None,
            true,
        ),
        Action::ClearSecretFlag => textarea(a, "note", "Lý do bỏ cờ", &f, None, true),
        Action::AddNote => textarea(
            a,
            "note",
            "Ghi chú nội bộ (người phản ánh không thấy)",
            &f,
            None,
            true,
        ),
        Action::Accept | Action::Resume | Action::Close => {
            textarea(a, "note", "Ghi chú", &f, None, false)
        }
        Action::Progress => html! {
            (textarea(a, "note", "Tiến độ", &f, None, true))
            (upload("progress", "attachments", "Ảnh, tài liệu kèm theo", &f, &["attachments"]))
        },
        Action::Reject => textarea(
            a,
            "reason",
            "Lý do từ chối (người phản ánh sẽ thấy)",
            &f,
            None,
            true,
        ),
        Action::RevealReporter => textarea(
            a,
            "reason",
            "Lý do cần xem (được ghi nhật ký)",
            &f,
            None,
            true,
        ),
        Action::Reclassify => html! {
            (category_select(a, "category", "Lĩnh vực mới", rules, &f, None, false))
            (textarea(a, "note", "Ghi chú", &f, None, false))
        },
        Action::Resolve => html! {
            (textarea(a, "summary", "Kết quả xử lý", &f, None, true))
            (upload("evidence", "evidence", "Hồ sơ, hình ảnh kết quả (chụp từ điện thoại hoặc chọn tệp)", &f, &["evidence", "attachments"]))
        },
        Action::Defer => {
            let id = "defer-expected_date";
            html! {
                (textarea(a, "reason", "Lý do chưa giải quyết được", &f, None, true))
                label for=(id) { "Ngày dự kiến giải quyết" }
                input id=(id) type="date" name="expected_date" required value=(f.value("expected_date").unwrap_or_default());
                (field_error(f.error(&["expected_date"])))
            }
        }
        Action::DecideDeferral => {
            // Đ.7.5: the unit's reason and date, then the decision (two buttons below).
            let id = "decide_deferral-target_date";
            html! {
                @if let Some(d) = &r.deferral {
                    p class="proposal" {
                        "Đơn vị đề nghị: " (d.reason) " — dự kiến giải quyết "
                        strong { (d.expected_date.format("%d/%m/%Y")) }
                    }
                }
                label for=(id) { "Hạn giải quyết mới " span.muted { "(để trống: theo ngày dự kiến của đơn vị)" } }
                input id=(id) type="date" name="target_date" value=(f.value("target_date").unwrap_or_default());
                (field_error(f.error(&["target_date", "accept"])))
                (textarea(a, "note", "Ý kiến", &f, None, false))
                p.muted { "Khi không chấp nhận, cần ghi lý do để đơn vị biết và tiếp tục xử lý theo hạn quy định." }
            }
        }
        Action::Return => html! {
            (textarea(a, "reason", "Lý do trả lại", &f, None, true))
            (category_select(a, "suggested_category", "Lĩnh vực đề nghị", rules, &f, None, true))
        },
        Action::Publish => {
            let initial = r
                .public_answer
                .as_deref()
                .or(r.resolution.as_ref().map(|x| x.summary.as_str()));
            let chosen = f.values("public_attachments");
            html! {
                (textarea(a, "public_answer", "Trả lời công khai (người dân sẽ thấy)", &f, initial, true))
                fieldset class="public-media" {
                    legend { "Tệp được công khai (Điều 8.1)" }
                    @if r.attachments.is_empty() { p.muted { "Không có tệp đính kèm." } }
                    @for att in &r.attachments {
                        @let checked = if f.typed_any() { chosen.contains(&att.id.as_str()) } else { att.public };
                        label class="check" {
                            // Only files with a metadata-free copy can be public (issue 11).
                            input type="checkbox" name="public_attachments" value=(att.id) checked[checked && att.public_key.is_some()] disabled[att.public_key.is_none()];
                            " " (att.id) " (" (att.content_type) ")"
                            @if att.public_key.is_none() { " · không công khai được (âm thanh, video hoặc ảnh chưa có bản đã xóa siêu dữ liệu)" }
                            " · " a href=(attachment_href(&r.id, &att.id)) target="_blank" rel="noopener" { "xem" }
                        }
                    }
                    (field_error(f.error(&["public_attachments"])))
                }
            }
        }
        Action::Directive => textarea(
            a,
            "text",
            "Nội dung chỉ đạo (ký bằng tài khoản của bạn, không sửa được sau khi ban hành)",
            &f,
            None,
            true,
        ),
        _ => html! {},
    };
    html! {
        details class="action" data-action=(name) open[f.typed_any()] {
            summary { (action_label(a)) }
            form method="post" action=(format!("{}/actions", report_url(&r.id))) data-action=(name) {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="action" value=(name);
                // The version on screen: acting on what someone else has just changed is
                // refused with the current state instead of applied blind.
                input type="hidden" name=(VERSION_FIELD) value=(r.version);
                @if let Some(m) = f.general(fields) {
                    p class="error" role="alert" { (m) }
                }
                (body)
                @if a == Action::DecideDeferral {
                    button type="submit" name="accept" value="true" { "Chấp nhận gia hạn" }
                    " "
                    button type="submit" name="accept" value="false" class="danger" { "Không chấp nhận" }
                } @else {
                    button type="submit" class=[matches!(a, Action::Reject | Action::MarkSecret).then_some("danger")] { (action_label(a)) }
                }
            }
        }
    }
}

/// The hidden field that carries the report's version shown on the page.
pub(super) const VERSION_FIELD: &str = "_version";
