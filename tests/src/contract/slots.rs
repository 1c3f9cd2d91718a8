//! `UploadSlots` contract: a slot is stored with its count against the uploader's day, or
//! refused and not stored; the quota holds under concurrent requests; a verdict written is
//! what is read back. Run on the media-store records (memory fake, embedded files) and on
//! DynamoDB (moto).

use crate::fixtures::unique;
use chrono::{NaiveDate, TimeZone, Utc};
use phananh_core::media::{SlotState, UploadSlot};
use phananh_core::model::MediaKind;
use phananh_core::slots::{DayLimits, SlotError, SlotVerdict, UploadSlots};
use std::sync::Arc;

fn slot(id: &str, size: u64) -> UploadSlot {
    UploadSlot {
        id: id.to_string(),
        content_type: "image/jpeg".into(),
        kind: MediaKind::Photo,
        max_size: size,
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 29, 4, 0, 0)
            .single()
            .expect("instant"),
        state: SlotState::Pending,
        size: None,
        public_key: None,
        thumb_key: None,
        location_hint: None,
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).expect("day")
}

/// The whole contract on `slots`.
pub async fn upload_slots_contract(slots: Arc<dyn UploadSlots>) {
    issued_slots_are_read_back_with_their_verdict(slots.as_ref()).await;
    a_verdict_is_written_once_and_only_over_what_the_slot_promised(slots.as_ref()).await;
    the_daily_count_and_bytes_refuse_a_slot_without_storing_it(slots.as_ref()).await;
    concurrent_requests_never_pass_the_quota(slots).await;
}

/// Issue, read, verdict, attached: each state as written.
pub async fn issued_slots_are_read_back_with_their_verdict(slots: &dyn UploadSlots) {
    let owner = unique("owner");
    let limits = DayLimits {
        count: 10,
        bytes: 1_000_000,
    };
    assert_eq!(slots.get(&owner, "a1").await, Ok(None));
    let mut s = slot("a1", 1000);
    slots
        .issue(&owner, day(29), &s, limits)
        .await
        .expect("issue");
    assert_eq!(slots.get(&owner, "a1").await, Ok(Some(s.clone())));
    // Another owner does not see it.
    assert_eq!(slots.get(&unique("other"), "a1").await, Ok(None));
    s.state = SlotState::Ready;
    s.size = Some(900);
    s.public_key = Some("public/x/a1.jpg".into());
    slots.put(&owner, &s).await.expect("verdict");
    assert_eq!(slots.get(&owner, "a1").await, Ok(Some(s.clone())));
    s.state = SlotState::Attached {
        by: Some("abc".into()),
    };
    slots.put(&owner, &s).await.expect("attached");
    assert_eq!(slots.get(&owner, "a1").await, Ok(Some(s.clone())));
    let mut f = slot("a2", 10);
    slots
        .issue(&owner, day(29), &f, limits)
        .await
        .expect("issue");
    f.state = SlotState::Failed {
        reason: "Tệp rỗng (0 byte).".into(),
    };
    slots.put(&owner, &f).await.expect("failed");
    assert_eq!(slots.get(&owner, "a2").await, Ok(Some(f)));
}

/// At most `count` slots and `bytes` declared bytes a day; a refused slot is not stored and
/// counts nothing; another day, or another person, has its own quota.
pub async fn the_daily_count_and_bytes_refuse_a_slot_without_storing_it(slots: &dyn UploadSlots) {
    let owner = unique("owner");
    let limits = DayLimits {
        count: 3,
        bytes: 1000,
    };
    slots
        .issue(&owner, day(29), &slot("q1", 400), limits)
        .await
        .expect("1st");
    slots
        .issue(&owner, day(29), &slot("q2", 400), limits)
        .await
        .expect("2nd");
    // 800 + 300 > 1000: refused, not stored, not counted.
    assert_eq!(
        slots.issue(&owner, day(29), &slot("q3", 300), limits).await,
        Err(SlotError::QuotaExceeded)
    );
    assert_eq!(slots.get(&owner, "q3").await, Ok(None));
    // Exactly up to the byte limit is fine.
    slots
        .issue(&owner, day(29), &slot("q4", 200), limits)
        .await
        .expect("3rd, 1000 bytes");
    // The 4th slot of the day is refused whatever its size.
    assert_eq!(
        slots.issue(&owner, day(29), &slot("q5", 1), limits).await,
        Err(SlotError::QuotaExceeded)
    );
    // A slot larger than the whole day's bytes is refused on a fresh day too.
    assert_eq!(
        slots
            .issue(&owner, day(30), &slot("q6", 1001), limits)
            .await,
        Err(SlotError::QuotaExceeded)
    );
    assert_eq!(slots.get(&owner, "q6").await, Ok(None));
    // The next day, and another person, start from zero.
    slots
        .issue(&owner, day(30), &slot("q7", 1000), limits)
        .await
        .expect("next day");
    slots
        .issue(&unique("other"), day(29), &slot("q8", 1000), limits)
        .await
        .expect("another person");
}

/// Twelve requests at once against a quota of five: exactly five slots are issued.
pub async fn concurrent_requests_never_pass_the_quota(slots: Arc<dyn UploadSlots>) {
    let owner = unique("owner");
    let limits = DayLimits {
        count: 5,
        bytes: 1_000_000,
    };
    let mut tasks = Vec::new();
    for i in 0..12 {
        let slots = slots.clone();
        let owner = owner.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("c{i}");
            let r = slots.issue(&owner, day(29), &slot(&id, 10), limits).await;
            (id, r)
        }));
    }
    let mut issued = Vec::new();
    for t in tasks {
        let (id, r) = t.await.expect("task");
        match r {
            Ok(()) => issued.push(id),
            Err(SlotError::QuotaExceeded) => {}
            Err(e) => panic!("{id}: {e}"),
        }
    }
    assert_eq!(issued.len(), 5, "issued {issued:?}");
    for i in 0..12 {
        let id = format!("c{i}");
        let stored = slots.get(&owner, &id).await.expect("get").is_some();
        assert_eq!(stored, issued.contains(&id), "{id}");
    }
}

fn verdict(content_type: &str, size: u64, state: SlotState) -> SlotVerdict {
    SlotVerdict {
        content_type: content_type.into(),
        size,
        state,
        public_key: Some("public/x/v1.jpg".into()),
        thumb_key: None,
        location_hint: None,
    }
}

/// The media check writes its verdict without reading the slot (issue 10): the write
/// happens only over a pending slot, and an acceptance only of an object of the slot's type
/// within its size; a second verdict (a redelivered S3 event) changes nothing, nor does a
/// verdict after the upload was attached; no slot is made up for an unknown id.
pub async fn a_verdict_is_written_once_and_only_over_what_the_slot_promised(
    slots: &dyn UploadSlots,
) {
    let owner = unique("owner");
    let limits = DayLimits {
        count: 10,
        bytes: 1_000_000,
    };
    // No slot: nothing written, nothing created.
    assert_eq!(
        slots
            .record_verdict(&owner, "v0", &verdict("image/jpeg", 10, SlotState::Ready))
            .await,
        Ok(false)
    );
    assert_eq!(slots.get(&owner, "v0").await, Ok(None));

    let s = slot("v1", 1000);
    slots
        .issue(&owner, day(29), &s, limits)
        .await
        .expect("issue");
    // Another type, or more bytes than the slot allows: not accepted, still pending.
    for wrong in [
        verdict("image/png", 900, SlotState::Ready),
        verdict("image/jpeg", 1001, SlotState::Ready),
    ] {
        assert_eq!(
            slots.record_verdict(&owner, "v1", &wrong).await,
            Ok(false),
            "{wrong:?}"
        );
        assert_eq!(slots.get(&owner, "v1").await, Ok(Some(s.clone())));
    }
    // The object the slot promised: accepted, read back with what the check found.
    let ok = verdict("image/jpeg", 1000, SlotState::Ready);
    assert_eq!(slots.record_verdict(&owner, "v1", &ok).await, Ok(true));
    let mut ready = s.clone();
    ready.state = SlotState::Ready;
    ready.size = Some(1000);
    ready.public_key = Some("public/x/v1.jpg".into());
    assert_eq!(slots.get(&owner, "v1").await, Ok(Some(ready.clone())));
    // A redelivered event's verdict, even a refusal: not written, the first one stands.
    let again = verdict("image/jpeg", 1000, SlotState::Failed { reason: "x".into() });
    assert_eq!(slots.record_verdict(&owner, "v1", &again).await, Ok(false));
    assert_eq!(slots.get(&owner, "v1").await, Ok(Some(ready.clone())));
    // Attached, then a late redelivery: still attached.
    let mut attached = ready;
    attached.state = SlotState::Attached {
        by: Some("req".into()),
    };
    slots.put(&owner, &attached).await.expect("attached");
    assert_eq!(slots.record_verdict(&owner, "v1", &ok).await, Ok(false));
    assert_eq!(slots.get(&owner, "v1").await, Ok(Some(attached)));

    // A refusal fits any pending slot, whatever the object turned out to be.
    let s2 = slot("v2", 10);
    slots
        .issue(&owner, day(29), &s2, limits)
        .await
        .expect("issue");
    let refused = SlotVerdict {
        public_key: None,
        ..verdict(
            "text/html",
            5000,
            SlotState::Failed {
                reason: "Nội dung tệp không đúng định dạng image/jpeg.".into(),
            },
        )
    };
    assert_eq!(slots.record_verdict(&owner, "v2", &refused).await, Ok(true));
    let got = slots.get(&owner, "v2").await.expect("get").expect("slot");
    assert_eq!(got.state, refused.state);
    assert_eq!(
        got.content_type, "image/jpeg",
        "the slot keeps what it promised"
    );
    assert_eq!(got.size, Some(5000));
}
