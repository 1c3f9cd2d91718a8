//! The media pipeline end to end (issue 11) on a real media store: uploads through the
//! store's own presigned URLs, the check a worker runs, attachment, publication. Run against
//! the embedded files store (over HTTP) and S3 on the emulator; reports live in memory (the
//! report store has its own contract).

use crate::upload::upload;
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::config::MediaConfig;
use phananh_core::error::DomainError;
use phananh_core::lifecycle::NewReport;
use phananh_core::media::{SlotState, UploadCheck};
use phananh_core::model::*;
use phananh_core::ports::{MediaStore, PresignedUrl, ReportStore};
use phananh_core::slots::UploadSlots;
use phananh_testkit::fakes::{FastPasswords, MemoryStore, RecordingNotifier, SeqIds};
use phananh_testkit::fixtures::rules;
use phananh_testkit::samples;
use std::sync::Arc;

/// An app on `media`, with reports in memory and the `[media]` config changed by `tweak`.
pub fn app_on(
    media: Arc<dyn MediaStore>,
    tweak: impl FnOnce(&mut MediaConfig),
) -> (App, Arc<MemoryStore>) {
    app_with_slots(media, None, tweak)
}

/// [`app_on`], or with `slots` the AWS runtime's setup: upload slots in `slots` (DynamoDB
/// items) instead of the media store, and attached uploads left for the store to expire.
pub fn app_with_slots(
    media: Arc<dyn MediaStore>,
    slots: Option<Arc<dyn UploadSlots>>,
    tweak: impl FnOnce(&mut MediaConfig),
) -> (App, Arc<MemoryStore>) {
    let mut r = rules().clone();
    tweak(&mut r.config.city.media);
    let store = Arc::new(MemoryStore::default());
    let app = App::new(
        Arc::new(r),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media,
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(phananh_core::ports::SystemClock),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    // The AWS runtime's setup: slot items, attached uploads left to the bucket's lifecycle.
    let app = match slots {
        Some(slots) => app
            .with_upload_slots(slots)
            .with_uploads_left_to_expire(true),
        None => app,
    };
    (app, store)
}

/// The object key a presigned upload writes (`key` field of a POST, URL path of a PUT).
pub fn key_of(url: &PresignedUrl) -> String {
    if let Some((_, k)) = url.fields.iter().find(|(k, _)| k == "key") {
        return k.clone();
    }
    let path = url.url.split('?').next().unwrap_or_default();
    let i = path.find("/uploads/").expect("an upload key in the URL");
    path[i + 1..].to_string()
}

fn citizen() -> Actor {
    Actor::new("pipeline-citizen", Role::Citizen, None)
}

fn input() -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

/// Asks for a slot, uploads `bytes` (declaring `declared` bytes), runs the worker's check.
async fn put(
    app: &App,
    actor: &Actor,
    ct: &str,
    bytes: Vec<u8>,
    declared: u64,
) -> (String, String, u16, Result<UploadCheck, DomainError>) {
    let t = app
        .request_upload(actor, ct, declared)
        .await
        .expect("upload slot");
    let key = key_of(&t.upload);
    let (status, _) = upload(&t.upload, bytes, ct).await;
    let check = app.check_upload(&key).await;
    (t.attachment_id, key, status, check)
}

fn invalid_text(e: &DomainError) -> String {
    match e {
        DomainError::Invalid { message, .. } => message.clone(),
        other => panic!("expected an input refusal, got {other:?}"),
    }
}

async fn pump(app: &App, store: &MemoryStore) {
    for _ in 0..10 {
        let pending = store.pending_events(100).await.expect("pending");
        if pending.is_empty() {
            break;
        }
        for env in &pending {
            for c in Consumer::ALL {
                app.handle_event(c, env).await.expect("consumer");
            }
        }
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        store.mark_published(&ids).await.expect("mark");
    }
}

/// A photo with GPS EXIF: accepted, its public copy has no EXIF at all and its orientation
/// applied, the GPS position is a staff hint; the reporter's view carries no hint; a unit's
/// evidence photo is published through its derivative only; a second attach is refused.
pub async fn gps_photo_is_published_only_as_a_clean_copy(media: Arc<dyn MediaStore>) {
    gps_photo_is_published_only_as_a_clean_copy_with(media, None).await
}

/// [`gps_photo_is_published_only_as_a_clean_copy`] with the upload slots in `slots`.
pub async fn gps_photo_is_published_only_as_a_clean_copy_with(
    media: Arc<dyn MediaStore>,
    slots: Option<Arc<dyn UploadSlots>>,
) {
    let aws = slots.is_some();
    let (app, store) = app_with_slots(media.clone(), slots, |_| {});
    let me = citizen();
    // 64 × 48 pixels, orientation 6: displayed as 48 × 64.
    let photo = samples::jpeg_with_gps(64, 48, samples::SAMPLE_LAT, samples::SAMPLE_LON, 6);
    let n = photo.len() as u64;
    let (id, key, status, check) = put(&app, &me, "image/jpeg", photo, n).await;
    assert!((200..300).contains(&status), "upload answered {status}");
    assert!(
        matches!(check, Ok(UploadCheck::Accepted { .. })),
        "{check:?}"
    );
    // A redelivered S3 event changes nothing.
    assert!(matches!(
        app.check_upload(&key).await,
        Ok(UploadCheck::Accepted { .. })
    ));
    assert_eq!(
        app.upload_status(&me, &id).await.expect("status").state,
        SlotState::Ready
    );

    let (r, _) = app
        .submit(&me, input(), std::slice::from_ref(&id), None)
        .await
        .expect("submit with the photo");
    // Nor does one after the upload was attached: the slot stays attached (the check writes
    // its verdict only over a pending slot), so the upload still attaches once.
    assert!(matches!(
        app.check_upload(&key).await,
        Ok(UploadCheck::Accepted { .. })
    ));
    assert!(matches!(
        app.upload_status(&me, &id).await.expect("status").state,
        SlotState::Attached { .. }
    ));
    let a = &r.attachments[0];
    let hint = a
        .location_hint
        .expect("the GPS position kept as a staff hint");
    assert!((hint.lat - samples::SAMPLE_LAT).abs() < 1e-4, "{hint:?}");
    assert!((hint.lon - samples::SAMPLE_LON).abs() < 1e-4, "{hint:?}");
    if aws {
        // Copied, and left for the bucket's lifecycle rule to expire with uploads/.
        assert!(media.head(&key).await.expect("head").is_some());
    } else {
        assert_eq!(
            media.head(&key).await.expect("head"),
            None,
            "upload moved to permanent storage"
        );
    }
    assert!(media.head(&a.key).await.expect("head").is_some());

    let public_key = a.public_key.clone().expect("a public copy");
    let clean = media
        .read(&public_key, 10 << 20)
        .await
        .expect("public copy");
    assert!(
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&clean))
            .is_err(),
        "the public copy carries no EXIF"
    );
    assert!(
        !clean.windows(4).any(|w| w == b"Exif") && !clean.windows(10).any(|w| w == b"PhoneMaker"),
        "no metadata segment or camera make in the public copy"
    );
    let img = image::load_from_memory(&clean).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (48, 64), "orientation applied");
    // No thumbnail is written at upload (issue 10): it is made on its first request.
    assert_eq!(
        media
            .head(a.thumb_key.as_deref().expect("where the thumbnail goes"))
            .await
            .expect("head"),
        None,
        "no thumbnail before it is asked for"
    );

    // The reporter sees their file, without the staff hint.
    let rv = phananh_core::views::reporter_view(&r, app.rules());
    assert_eq!(rv.attachments.len(), 1);
    assert_eq!(rv.attachments[0].location_hint, None);

    // A second attach of the same upload is refused; the first report keeps it.
    let again = app
        .submit(&me, input(), std::slice::from_ref(&id), None)
        .await
        .expect_err("second attach");
    assert!(
        invalid_text(&again).contains("đã được đính kèm"),
        "{again:?}"
    );

    // A unit's evidence photo reaches the published answer through its derivative only.
    pump(&app, &store).await;
    let head = Actor::new("pipeline-head", Role::IocHead, Some("ioc"));
    app.act(
        &r.id,
        &head,
        phananh_core::lifecycle::Command::Assign {
            lead_unit: "trung_tam_y_te".into(),
            coordinating_units: vec![],
            note: None,
        },
    )
    .await
    .expect("assign");
    let unit = Actor::new("pipeline-unit", Role::UnitStaff, Some("trung_tam_y_te"));
    let ev = samples::jpeg_with_gps(40, 30, 21.0, 105.8, 1);
    let (ev_id, _, _, check) = put(&app, &unit, "image/jpeg", ev.clone(), ev.len() as u64).await;
    assert!(
        matches!(check, Ok(UploadCheck::Accepted { .. })),
        "{check:?}"
    );
    let audio = b"ID3\x03\x00\x00\x00\x00\x00\x00 recorded sound".to_vec();
    let (audio_id, _, _, check) =
        put(&app, &unit, "audio/mpeg", audio.clone(), audio.len() as u64).await;
    assert!(
        matches!(check, Ok(UploadCheck::Accepted { .. })),
        "{check:?}"
    );
    app.act_json(
        &r.id,
        &unit,
        serde_json::json!({"action": "resolve", "summary": "Đã xử phạt cơ sở", "evidence": [ev_id, audio_id]}),
    )
    .await
    .expect("resolve with evidence");
    // Audio is never public (no metadata-free copy).
    let refused = app
        .act(
            &r.id,
            &head,
            phananh_core::lifecycle::Command::Publish {
                public_answer: "Đã xử lý".into(),
                public_attachments: vec![ev_id.clone(), audio_id.clone()],
            },
        )
        .await
        .expect_err("audio cannot be published");
    assert!(invalid_text(&refused).contains("không thể công khai"));
    let published = app
        .act(
            &r.id,
            &head,
            phananh_core::lifecycle::Command::Publish {
                public_answer: "Đã xử lý".into(),
                public_attachments: vec![ev_id.clone()],
            },
        )
        .await
        .expect("publish the evidence photo");
    let ev_att = published
        .attachments
        .iter()
        .find(|a| a.id == ev_id)
        .expect("evidence attached");
    let url = app
        .attachment_url(&r.id, &ev_id, None)
        .await
        .expect("public URL");
    let derivative = ev_att.public_key.clone().expect("derivative");
    assert!(
        url.url.contains(&derivative),
        "{} must point at {derivative}",
        url.url
    );
    assert!(!url.url.contains(&ev_att.key), "never at the original");
    let body = reqwest::get(&url.url)
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    assert!(exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(body.as_ref()))
        .is_err());
    assert_eq!(
        app.attachment_url(&r.id, &audio_id, None).await,
        Err(DomainError::NotFound)
    );
    let pv = phananh_core::views::public_view(&published, app.rules()).expect("public");
    assert_eq!(pv.attachments.len(), 1);

    // The thumbnail route: two first requests at once both answer with its URL, and what a
    // viewer downloads is the thumbnail of the public copy, made once and stored (the same
    // bytes on every runtime: the same code from the same copy).
    let thumb_key = ev_att.thumb_key.clone().expect("thumb key");
    assert_eq!(media.head(&thumb_key).await.expect("head"), None);
    let (u1, u2) = tokio::join!(
        app.attachment_url_sized(&r.id, &ev_id, None, true),
        app.attachment_url_sized(&r.id, &ev_id, None, true)
    );
    let (u1, u2) = (u1.expect("thumbnail URL"), u2.expect("thumbnail URL"));
    assert!(
        u1.url.contains(&thumb_key) && u2.url.contains(&thumb_key),
        "{}",
        u1.url
    );
    let resp = reqwest::get(&u1.url).await.expect("download");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    let thumb = resp.bytes().await.expect("body");
    let m = &app.rules().config.city.media;
    let limits = phananh_core::imaging::ImageLimits {
        max_pixels: m.max_image_pixels,
        public_px: m.public_image_px,
        thumbnail_px: m.thumbnail_px,
    };
    let copy = media
        .read(&derivative, 10 << 20)
        .await
        .expect("public copy");
    assert_eq!(
        thumb.as_ref(),
        phananh_core::imaging::make_thumbnail(&copy, &limits)
            .expect("thumbnail")
            .as_slice()
    );
    assert!(exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(thumb.as_ref()))
        .is_err());
    assert_eq!(
        media.read(&thumb_key, 1 << 20).await.expect("stored"),
        thumb.as_ref()
    );
    // Later requests find it.
    let u3 = app
        .attachment_url_sized(&r.id, &ev_id, None, true)
        .await
        .expect("thumbnail URL");
    assert!(u3.url.contains(&thumb_key));
}

/// Every refusal: wrong bytes, a bomb, an empty file, a file over its slot, a key outside the
/// uploader's prefix, too many files of a kind, the daily quota. Refused files are deleted
/// and their slot tells why.
pub async fn bad_uploads_are_refused(media: Arc<dyn MediaStore>) {
    bad_uploads_are_refused_with(media, None).await
}

/// [`bad_uploads_are_refused`] with the upload slots in `slots`.
pub async fn bad_uploads_are_refused_with(
    media: Arc<dyn MediaStore>,
    slots: Option<Arc<dyn UploadSlots>>,
) {
    let (app, _) = app_with_slots(media.clone(), slots, |m| {
        m.daily_uploads = 8;
        m.photo.max_count = 2;
    });
    let me = citizen();

    // Bytes that are not what they claim: deleted, slot failed with a reason.
    let html = samples::not_a_jpeg();
    let (id, key, _, check) = put(&app, &me, "image/jpeg", html.clone(), html.len() as u64).await;
    assert!(
        matches!(&check, Ok(UploadCheck::Rejected { reason }) if reason.contains("không đúng định dạng")),
        "{check:?}"
    );
    assert_eq!(
        media.head(&key).await.expect("head"),
        None,
        "refused bytes are deleted"
    );
    let status = app.upload_status(&me, &id).await.expect("status");
    assert!(
        matches!(&status.state, SlotState::Failed { reason } if reason.contains("image/jpeg")),
        "{status:?}"
    );
    let e = app
        .submit(&me, input(), std::slice::from_ref(&id), None)
        .await
        .expect_err("a refused file cannot be attached");
    assert!(invalid_text(&e).contains("bị từ chối"), "{e:?}");

    // A decompression bomb: 60,000 × 60,000 pixels declared in a few dozen bytes.
    let bomb = samples::png_bomb(60_000, 60_000);
    assert!(bomb.len() < 100);
    let (_, key, _, check) = put(&app, &me, "image/png", bomb.clone(), bomb.len() as u64).await;
    assert!(
        matches!(&check, Ok(UploadCheck::Rejected { reason }) if reason.contains("60000 × 60000")),
        "{check:?}"
    );
    assert_eq!(media.head(&key).await.expect("head"), None);

    // An empty body in a slot: refused by the store or by the check, never kept.
    let (_, key, status, check) = put(&app, &me, "image/jpeg", Vec::new(), 10).await;
    assert!(
        (400..500).contains(&status)
            || matches!(&check, Ok(UploadCheck::Rejected { reason }) if reason.contains("rỗng")),
        "{status} {check:?}"
    );
    assert_eq!(media.head(&key).await.expect("head"), None);
    // ... and no slot for a declared size of 0.
    assert!(app.request_upload(&me, "image/jpeg", 0).await.is_err());

    // More bytes than the slot: refused by the store (embedded, while streaming; S3 by its
    // POST policy, which the emulator does not enforce: then by the check), never kept.
    let big = samples::jpeg(64, 64);
    let (_, key, status, check) =
        put(&app, &me, "image/jpeg", big.clone(), (big.len() / 2) as u64).await;
    assert!(
        status == 413
            || (400..500).contains(&status)
            || matches!(&check, Ok(UploadCheck::Rejected { .. })),
        "{status} {check:?}"
    );
    assert_eq!(media.head(&key).await.expect("head"), None);
    // Over the kind's limit: no slot at all.
    let e = app
        .request_upload(&me, "video/mp4", 101 * 1024 * 1024)
        .await
        .expect_err("over the video limit");
    assert!(invalid_text(&e).contains("100 MB"));

    // A key outside the uploader's prefix: another citizen cannot attach my upload, and
    // object events for keys we did not issue are ignored.
    let good = samples::jpeg(32, 32);
    let (mine, key, _, _) = put(&app, &me, "image/jpeg", good.clone(), good.len() as u64).await;
    let thief = Actor::new("pipeline-other", Role::Citizen, None);
    let e = app
        .submit(&thief, input(), std::slice::from_ref(&mine), None)
        .await
        .expect_err("someone else's upload");
    assert!(invalid_text(&e).contains("chưa tải lên"), "{e:?}");
    assert!(
        media.head(&key).await.expect("head").is_some(),
        "my upload is untouched"
    );
    for foreign in [
        "public/0123456789abcdef/x.jpg",
        "uploads/../slots/x",
        "media/0123456789abcdef/x",
    ] {
        assert!(
            matches!(
                app.check_upload(foreign).await,
                Ok(UploadCheck::Ignored { .. })
            ),
            "{foreign}"
        );
    }

    // Too many photos on one report (max_count = 2 here).
    let (p2, _, _, _) = put(&app, &me, "image/jpeg", good.clone(), good.len() as u64).await;
    let (p3, _, _, _) = put(&app, &me, "image/jpeg", good.clone(), good.len() as u64).await;
    let e = app
        .submit(&me, input(), &[mine.clone(), p2.clone(), p3.clone()], None)
        .await
        .expect_err("three photos");
    assert!(invalid_text(&e).contains("tối đa 2"), "{e:?}");
    // Nothing was attached by the refused submission: the same files attach fine.
    app.submit(&me, input(), &[mine, p2], None)
        .await
        .expect("two photos");

    // Daily quota (8 slots here, 7 used): the 9th is refused until the local day ends.
    app.request_upload(&me, "image/jpeg", 100)
        .await
        .expect("8th slot");
    match app.request_upload(&me, "image/jpeg", 100).await {
        Err(DomainError::QuotaExceeded { retry_after_secs }) => {
            assert!(
                (1..=86_400).contains(&retry_after_secs),
                "{retry_after_secs}"
            )
        }
        other => panic!("expected the quota refusal, got {other:?}"),
    }
    // Another person has their own quota.
    app.request_upload(&thief, "image/jpeg", 100)
        .await
        .expect("another person's slot");
}

/// `url` with its form field or header `name` set to `value`: what a client forging its
/// upload sends.
fn forged(url: &PresignedUrl, name: &str, value: &str) -> PresignedUrl {
    let mut url = url.clone();
    for (k, v) in url.fields.iter_mut().chain(url.headers.iter_mut()) {
        if k.eq_ignore_ascii_case(name) {
            *v = value.to_string();
        }
    }
    url
}

/// A small well-formed PNG.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// Uploads that do not match their slot: another type than the slot's, or more bytes than
/// it allows under a larger limit written into the form. S3 refuses both by its POST policy
/// and the embedded store by its signed URL; where a store lets them through (the emulator
/// does not check POST policies), the check, which no longer reads the slot before it writes
/// its verdict (issue 10), finds that the verdict does not fit the slot: refused, deleted,
/// never attachable.
pub async fn forged_uploads_are_refused_with(
    media: Arc<dyn MediaStore>,
    slots: Option<Arc<dyn UploadSlots>>,
) {
    let (app, _) = app_with_slots(media.clone(), slots, |_| {});
    let me = citizen();
    let small = samples::jpeg(64, 64);
    let cases = [
        // A valid PNG on a slot for a JPEG of the same size.
        (png(16, 16), "Content-Type", "image/png", "image/jpeg"),
        // A JPEG twice the declared size, the form claiming a limit that lets it in.
        (small.clone(), "x-amz-meta-max-size", "10000000", "lớn hơn"),
    ];
    for (bytes, field, value, why) in cases {
        let declared = if field == "Content-Type" {
            bytes.len() as u64
        } else {
            (bytes.len() / 2) as u64
        };
        let t = app
            .request_upload(&me, "image/jpeg", declared)
            .await
            .expect("slot");
        let key = key_of(&t.upload);
        let sent_type = if field == "Content-Type" {
            value
        } else {
            "image/jpeg"
        };
        let (status, _) = upload(&forged(&t.upload, field, value), bytes, sent_type).await;
        let check = app.check_upload(&key).await;
        assert!(
            (400..500).contains(&status)
                || matches!(&check, Ok(UploadCheck::Rejected { reason }) if reason.contains(why)),
            "{field}: {status} {check:?}"
        );
        assert_eq!(media.head(&key).await.expect("head"), None, "{field}");
        let state = app
            .upload_status(&me, &t.attachment_id)
            .await
            .expect("status")
            .state;
        assert!(
            matches!(state, SlotState::Pending | SlotState::Failed { .. }),
            "{field}: {state:?}"
        );
        // A redelivered event leaves the refusal as it is.
        let again = app.check_upload(&key).await;
        assert!(
            !matches!(again, Ok(UploadCheck::Accepted { .. })),
            "{field}: {again:?}"
        );
        app.submit(&me, input(), std::slice::from_ref(&t.attachment_id), None)
            .await
            .expect_err("a forged upload cannot be attached");
    }
}
