//! The media pipeline's core rules on the in-memory fakes (issue 11): images decoded within
//! limits into metadata-free copies; the reporter sees only the files meant for them.

use phananh_core::imaging::{
    make_derivatives, make_public_copy, make_thumbnail, ImageError, ImageLimits,
};
use phananh_core::lifecycle::NewReport;
use phananh_core::media::UploadCheck;
use phananh_core::model::*;
use phananh_core::views::reporter_view;
use phananh_core::DomainError;
use phananh_testkit::app::TestApp;
use phananh_testkit::samples;

const LIMITS: ImageLimits = ImageLimits {
    max_pixels: 50_000_000,
    public_px: 2048,
    thumbnail_px: 320,
};

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bomb = samples::png_bomb(60_000, 60_000);
    assert_eq!(
        make_derivatives(&bomb, "image/png", &LIMITS).map(|_| ()),
        Err(ImageError::TooManyPixels {
            width: 60_000,
            height: 60_000
        })
    );
    // Just over a smaller limit is refused too; a broken file is undecodable.
    let small = ImageLimits {
        max_pixels: 1_000_000,
        ..LIMITS
    };
    let img = samples::jpeg(1001, 1000);
    assert!(matches!(
        make_derivatives(&img, "image/jpeg", &small),
        Err(ImageError::TooManyPixels { .. })
    ));
    let mut broken = samples::jpeg(64, 64);
    broken.truncate(200);
    assert!(matches!(
        make_derivatives(&broken, "image/jpeg", &LIMITS),
        Err(ImageError::Undecodable(_))
    ));
}

#[test]
fn the_public_copy_has_no_metadata_the_orientation_applied_and_a_bounded_size() {
    let photo = samples::jpeg_with_gps(900, 300, -33.8688, 151.2093, 8);
    let limits = ImageLimits {
        public_px: 600,
        thumbnail_px: 120,
        ..LIMITS
    };
    let d = make_derivatives(&photo, "image/jpeg", &limits).expect("derivatives");
    let gps = d.gps.expect("GPS read before stripping");
    assert!(
        (gps.lat + 33.8688).abs() < 1e-4 && (gps.lon - 151.2093).abs() < 1e-4,
        "{gps:?}"
    );
    for copy in [&d.public_jpeg, &d.thumbnail_jpeg] {
        assert!(exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(copy))
            .is_err());
    }
    // Orientation 8 turns 900 × 300 into 300 × 900, then the long side is capped.
    let public = image::load_from_memory(&d.public_jpeg).expect("jpeg");
    assert_eq!((public.width(), public.height()), (200, 600));
    let thumb = image::load_from_memory(&d.thumbnail_jpeg).expect("jpeg");
    assert_eq!(thumb.height(), 120);
}

/// What the upload check makes now (issue 10): the public copy alone, the same bytes as the
/// full derivatives' copy; its thumbnail, made later from that copy, is bounded, upright and
/// without metadata, and the copy is decoded within the same pixel limit.
#[test]
fn the_thumbnail_is_made_from_the_public_copy_within_limits() {
    let photo = samples::jpeg_with_gps(900, 300, -33.8688, 151.2093, 8);
    let limits = ImageLimits {
        public_px: 600,
        thumbnail_px: 120,
        ..LIMITS
    };
    let copy = make_public_copy(&photo, "image/jpeg", &limits).expect("public copy");
    let d = make_derivatives(&photo, "image/jpeg", &limits).expect("derivatives");
    assert_eq!(copy.jpeg, d.public_jpeg);
    assert_eq!(copy.gps, d.gps);
    let thumb = make_thumbnail(&copy.jpeg, &limits).expect("thumbnail");
    assert!(exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(&thumb))
        .is_err());
    let t = image::load_from_memory(&thumb).expect("jpeg");
    assert_eq!((t.width(), t.height()), (40, 120));
    // A copy over the pixel limit is refused from its header, like an upload.
    let tiny = ImageLimits {
        max_pixels: 1000,
        ..limits
    };
    assert!(matches!(
        make_thumbnail(&copy.jpeg, &tiny),
        Err(ImageError::TooManyPixels { .. })
    ));
}

fn input() -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

/// Asks for a slot as `actor`, stores `bytes` as the client would, runs the worker's check.
async fn uploaded(t: &TestApp, actor: &Actor, bytes: &[u8]) -> String {
    let ticket = t
        .app
        .request_upload(actor, "image/jpeg", bytes.len() as u64)
        .await
        .expect("slot");
    let key = ticket
        .upload
        .url
        .trim_start_matches("memory://")
        .to_string();
    t.media
        .upload(&key, bytes, "image/jpeg", ticket.max_size)
        .expect("stored");
    assert!(matches!(
        t.app.check_upload(&key).await,
        Ok(UploadCheck::Accepted { .. })
    ));
    ticket.attachment_id
}

#[tokio::test]
async fn the_reporter_sees_their_files_but_not_those_of_internal_notes() {
    let t = TestApp::new();
    let citizen = Actor::new("dev-media", Role::Citizen, None);
    let mine = uploaded(
        &t,
        &citizen,
        &samples::jpeg_with_gps(20, 20, 22.0, 103.0, 1),
    )
    .await;
    let (r, _) = t
        .app
        .submit(&citizen, input(), std::slice::from_ref(&mine), None)
        .await
        .expect("submit");
    let ioc = Actor::new("acc-ioc", Role::IocOperator, Some("ioc"));
    let internal = uploaded(&t, &ioc, &samples::jpeg(20, 20)).await;
    let r2 = t
        .app
        .act_json(
            &r.id,
            &ioc,
            serde_json::json!({"action": "add_note", "note": "Ảnh nội bộ", "attachments": [internal]}),
        )
        .await
        .expect("internal note with a photo");
    assert_eq!(r2.attachments.len(), 2);
    let view = reporter_view(&r2, t.app.rules());
    let ids: Vec<&str> = view.attachments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec![mine.as_str()]);
    assert!(
        view.attachments[0].location_hint.is_none(),
        "no staff hint for the reporter"
    );
    assert!(t
        .app
        .attachment_url(&r.id, &mine, Some(&citizen))
        .await
        .is_ok());
    assert_eq!(
        t.app.attachment_url(&r.id, &internal, Some(&citizen)).await,
        Err(DomainError::NotFound)
    );
    // Staff see both, and the hint.
    assert!(t
        .app
        .attachment_url(&r.id, &internal, Some(&ioc))
        .await
        .is_ok());
    let staff_copy = r2.attachments.iter().find(|a| a.id == mine).expect("mine");
    assert!(staff_copy.location_hint.is_some());
    // A retried submission with the same Idempotency-Key is still the same report.
    let key = phananh_core::ids::IdempotencyKey::parse("retry-1").expect("key");
    let again = uploaded(&t, &citizen, &samples::jpeg(16, 16)).await;
    let (a, created) = t
        .app
        .submit(&citizen, input(), std::slice::from_ref(&again), Some(&key))
        .await
        .expect("first");
    assert!(created);
    let (b, created) = t
        .app
        .submit(&citizen, input(), std::slice::from_ref(&again), Some(&key))
        .await
        .expect("retried");
    assert!(!created);
    assert_eq!(a.id, b.id);
}

#[test]
fn both_shipped_configs_state_their_media_limits() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let town = phananh_core::config::load_dir(&root.join("example-town")).expect("example-town");
    assert_eq!(town.city.media.daily_uploads, 20);
    assert_eq!(town.city.media.video.max_mb, 100);
    let laichau = phananh_core::config::load_dir(&root.join("laichau")).expect("laichau");
    assert_eq!(
        laichau.city.media,
        phananh_core::config::MediaConfig::default()
    );
    // A bad value is named by file and key.
    let text = std::fs::read_to_string(root.join("laichau/city.toml"))
        .expect("city.toml")
        .replace("thumbnail_px = 320", "thumbnail_px = 5");
    let mut files: Vec<(String, String)> = phananh_core::config::CONFIG_FILES
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read_to_string(root.join("laichau").join(n)).expect("file"),
            )
        })
        .collect();
    for f in files.iter_mut() {
        if f.0 == "city.toml" {
            f.1 = text.clone();
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let err = phananh_core::config::from_sources(&refs).expect_err("refused");
    assert!(err.mentions("city.toml: media.thumbnail_px"), "{err}");
}
