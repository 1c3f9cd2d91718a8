//! The IOC queue and camera reports, in process against the whole router: the live region and
//! its fragment (a new arrival appears without reload), the card's markers, and the camera
//! form's errors by their field with what was typed.

mod common;

use axum::http::{header, StatusCode};
use common::{text, world, CSRF};
use phananh_core::model::{ReportId, Source, State};
use phananh_testkit::actors;

#[tokio::test]
async fn the_queue_needs_a_session() {
    let w = world();
    for uri in ["/console/ioc", "/console/ioc/queue", "/console/ioc/camera"] {
        let res = w.get(None, uri).await;
        assert!(res.status().is_redirection(), "{uri}");
        let to = res.headers()[header::LOCATION]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            to,
            format!("/console/login?next={}", urlencoding::encode(uri))
        );
    }
}

#[tokio::test]
async fn a_new_report_appears_in_the_queue_fragment_without_reload() {
    let w = world();
    let op = actors::ioc_operator();
    let res = w.get(Some(&op), "/console/ioc").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let page = text(res).await;
    assert!(
        page.contains(r#"<section id="queue" data-refresh-url="/console/ioc/queue""#),
        "{page}"
    );
    assert!(page.contains("Không có phản ánh mới."));
    assert!(!page.contains(" style="));

    let first = w.submit("Rác thải ùn ứ trước chợ").await;
    let fragment = text(w.get(Some(&op), "/console/ioc/queue").await).await;
    assert!(!fragment.contains("<html"), "only the inner HTML");
    assert!(
        fragment.contains(&format!(
            r#"<article class="card" data-report-id="{first}""#
        )),
        "{fragment}"
    );
    assert!(fragment.contains(&format!(
        r#"<a class="open button" href="/console/reports/{first}""#
    )));

    // Screened: ward, suggestion, proposed unit; a second one near it is a possible duplicate.
    w.state.app.classify(&first).await.expect("screened");
    let second = w.submit("Rác thải ùn ứ trước chợ lần nữa").await;
    w.state.app.classify(&second).await.expect("screened");
    let fragment = text(w.get(Some(&op), "/console/ioc/queue").await).await;
    let at_second = fragment
        .find(&format!(r#"data-report-id="{second}""#))
        .expect("the second");
    let at_first = fragment
        .find(&format!(r#"data-report-id="{first}""#))
        .expect("the first");
    assert!(at_second < at_first, "newest first");
    assert!(fragment.contains("Phường Tân Phong"), "the ward's name");
    assert!(fragment.contains("Đơn vị đề xuất: "));
    let r = w.state.app.load(&second).await.expect("stored");
    for d in &r.flags.possible_duplicates {
        assert!(
            fragment.contains(&format!(r#"href="/console/reports/{d}""#)),
            "a link to the duplicate"
        );
    }
    if let Some(sg) = &r.flags.suggestion {
        assert!(fragment.contains("Gợi ý lĩnh vực: "), "{sg:?}");
    }
    for secret in ["Nguyễn Văn An", "0912345678"] {
        assert!(!fragment.contains(secret));
    }
    // The page renders the same fragment inside the live region.
    let page = text(w.get(Some(&op), "/console/ioc").await).await;
    assert!(page.contains(&format!(r#"data-report-id="{second}""#)));
}

#[tokio::test]
async fn an_operator_creates_a_camera_report_and_errors_keep_what_was_typed() {
    let w = world();
    let op = actors::ioc_operator();
    let form = text(w.get(Some(&op), "/console/ioc/camera").await).await;
    assert!(form.contains(r#"<select id="category" name="category" required>"#));
    assert!(form.contains(r#"<option value="environment">"#));

    let res = w
        .post_form(
            &op,
            "/console/ioc/camera",
            &[
                ("camera_id", "CAM-01"),
                ("category", "environment"),
                ("title", "x"),
                ("description", "y"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no report"
    );

    let res = w
        .post_form(
            &op,
            "/console/ioc/camera",
            &[
                ("_csrf", CSRF),
                ("camera_id", "CAM-01"),
                ("category", "environment"),
                ("title", "  "),
                ("description", "Khói bốc lên từ bãi rác"),
                ("lat", "22,41"),
                ("lon", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("cần nhập cả vĩ độ và kinh độ"), "{html}");
    assert!(
        html.contains("Khói bốc lên từ bãi rác") && html.contains(r#"value="CAM-01""#),
        "typed values kept"
    );
    assert!(html.contains(r#"<option value="environment" selected>"#));

    let res = w
        .post_form(
            &op,
            "/console/ioc/camera",
            &[
                ("_csrf", CSRF),
                ("camera_id", "CAM-01"),
                ("category", "environment"),
                ("title", "  "),
                ("description", "Khói bốc lên từ bãi rác"),
                ("lat", "22.41"),
                ("lon", "103.47"),
            ],
        )
        .await;
    let html = text(res).await;
    let title = html.find(r#"name="title""#).expect("the title");
    let err = html.find("field-error").expect("a message by a field");
    let desc = html.find(r#"name="description""#).expect("the description");
    assert!(title < err && err < desc, "the message is by the title");

    let res = w
        .post_form(
            &op,
            "/console/ioc/camera",
            &[
                ("_csrf", CSRF),
                ("camera_id", "CAM-01"),
                ("category", "environment"),
                ("title", "Cháy bãi rác"),
                ("description", "Khói bốc lên từ bãi rác"),
                ("lat", "22.41"),
                ("lon", "103.47"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[header::LOCATION]
        .to_str()
        .unwrap_or_default()
        .to_string();
    let id = to
        .strip_prefix("/console/reports/")
        .and_then(|rest| rest.strip_suffix("?done=create_from_camera"))
        .expect("the new report's page");
    let r = w
        .state
        .app
        .load(&ReportId(id.to_string()))
        .await
        .expect("stored");
    assert_eq!(
        r.source,
        Source::Camera {
            camera_id: "CAM-01".into()
        }
    );
    assert_eq!(r.state, State::Submitted);
    let page = text(w.get(Some(&op), &to).await).await;
    assert!(page.contains("Đã thực hiện: Tạo phản ánh từ camera") && page.contains("CAM-01"));
}
