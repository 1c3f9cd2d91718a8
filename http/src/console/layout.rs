//! The page shell every console page shares: Vietnamese, mobile-first, the navigation of the
//! signed-in role, the session's expiry (the script warns before it happens), and the
//! security headers (a Content-Security-Policy without inline scripts, no caching of pages).

use super::assets;
use super::session::Session;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use phananh_core::model::Role;

/// The Content-Security-Policy of every console page: scripts and styles only from this
/// origin (no inline code), images also from map tile servers (https) and data URLs, no
/// framing, forms only to this origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob: https:; connect-src 'self' https:; media-src 'self' https: blob:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self' https:; object-src 'none'";

/// A navigation entry: (path, label, roles that see it).
const NAV: &[(&str, &str, &[Role])] = &[
    (
        "/console/ioc",
        "Hàng đợi IOC",
        &[Role::IocOperator, Role::IocHead],
    ),
    (
        "/console/unit",
        "Phản ánh của đơn vị",
        &[Role::UnitStaff, Role::UnitHead],
    ),
    ("/console/leadership", "Lãnh đạo", &[Role::Leader]),
    (
        "/console/office",
        "Thống kê",
        &[Role::OfficeAdmin, Role::Leader, Role::IocHead],
    ),
    (
        "/console/office/accounts",
        "Tài khoản",
        &[Role::OfficeAdmin],
    ),
    ("/console/search", "Tìm kiếm", &Role::STAFF),
    ("/console/map", "Bản đồ", &Role::STAFF),
    (
        "/console/notifications",
        "Tin nhắn",
        &[Role::OfficeAdmin, Role::IocHead, Role::IocOperator],
    ),
];

/// The first page of a role after sign-in.
pub fn home_of(role: Role) -> &'static str {
    NAV.iter()
        .find(|(_, _, roles)| roles.contains(&role))
        .map(|(p, _, _)| *p)
        .unwrap_or("/console/search")
}

/// Vietnamese name of a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Citizen => "Người dân",
        Role::IocOperator => "Cán bộ trực IOC",
        Role::IocHead => "Trưởng bộ phận điều hành IOC",
        Role::UnitStaff => "Cán bộ đơn vị",
        Role::UnitHead => "Lãnh đạo đơn vị",
        Role::Leader => "Lãnh đạo UBND",
        Role::OfficeAdmin => "Văn phòng HĐND và UBND",
        Role::System => "Hệ thống",
    }
}

/// A whole page: head, header with navigation and sign-out, `body`.
pub fn page(
    title: &str,
    session: Option<&Session>,
    csrf: &str,
    current: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { (title) " — Phản ánh hiện trường" }
                link rel="stylesheet" href=(assets::url("console.css"));
                script src=(assets::url("console.js")) defer {}
            }
            body data-expires-at=[session.map(|s| s.expires_at.timestamp())] {
                header.top {
                    a.brand href="/console" { "Phản ánh hiện trường" }
                    @if let Some(s) = session {
                        nav {
                            @for (path, label, roles) in NAV {
                                @if roles.contains(&s.actor.role) {
                                    a href=(path) class=[(current == *path).then_some("current")] { (label) }
                                }
                            }
                        }
                        div.who {
                            span.name { (s.name) }
                            " · " span.role { (role_name(s.actor.role)) }
                            @if let Some(u) = &s.actor.unit { " · " span.unit { (u) } }
                            " · " a.security href="/console/security" { "Bảo mật" }
                            form.logout method="post" action="/console/logout" {
                                input type="hidden" name="_csrf" value=(csrf);
                                button type="submit" { "Đăng xuất" }
                            }
                        }
                    }
                }
                div id="session-warning" class="warning" hidden { "Phiên đăng nhập sắp hết hạn. Hãy lưu công việc và đăng nhập lại." }
                main { (body) }
            }
        }
    }
}

/// A page response with the console's security headers and any cookies to set.
pub fn respond(markup: Markup, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    let mut r = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        markup.into_string(),
    )
        .into_response();
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}
