//! `MediaStore` contract, including the presigned URLs used over plain HTTP.

use crate::fixtures::unique;
use crate::upload::upload;
use phananh_core::ports::{MediaError, MediaStore, ObjectMeta};
use std::time::Duration;

fn jpeg_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..n).map(|i| (i * 31 % 251) as u8));
    v
}

/// Runs against `store` (keys are unique per run, so a shared bucket is fine). The presigned
/// URLs must be reachable from this process (127.0.0.1).
pub async fn media_store_contract(store: &dyn MediaStore) {
    let http = reqwest::Client::new();
    let prefix = unique("contract");

    // Presigned upload, then head and read.
    let key = format!("{prefix}/photo.jpg");
    let bytes = jpeg_bytes(3000);
    let url = store
        .presign_put(&key, "image/jpeg", 10_000, Duration::from_secs(300))
        .await
        .expect("presign put");
    assert!(
        url.method == "PUT" || (url.method == "POST" && !url.fields.is_empty()),
        "an upload is a PUT, or a POST with form fields: {url:?}"
    );
    assert!(url.expires_at > chrono::Utc::now());
    let (status, body) = upload(&url, bytes.clone(), "image/jpeg").await;
    assert!(
        (200..300).contains(&status),
        "presigned upload answered {status}: {body}"
    );

    assert_eq!(
        store.head(&key).await,
        Ok(Some(ObjectMeta {
            size: bytes.len() as u64,
            content_type: Some("image/jpeg".into()),
        }))
    );
    assert_eq!(store.read(&key, 10_000).await, Ok(bytes.clone()));
    assert_eq!(
        store.read(&key, bytes.len() as u64).await,
        Ok(bytes.clone()),
        "max is inclusive"
    );
    assert_eq!(store.read(&key, 100).await, Err(MediaError::TooLarge));

    // Unknown keys.
    let missing = format!("{prefix}/missing.jpg");
    assert_eq!(store.head(&missing).await, Ok(None));
    assert_eq!(store.read(&missing, 1000).await, Err(MediaError::NotFound));

    // Presigned download.
    let get = store
        .presign_get(&key, Duration::from_secs(300))
        .await
        .expect("presign get");
    assert_eq!(get.method, "GET");
    let mut req = http.get(&get.url);
    for (k, v) in &get.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("GET presigned URL");
    assert!(
        resp.status().is_success(),
        "presigned GET answered {}",
        resp.status()
    );
    // A download, never rendered in place.
    assert_eq!(
        resp.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"photo.jpg\"")
    );
    assert_eq!(resp.bytes().await.expect("body").to_vec(), bytes);

    // The first bytes only (type sniffing), fewer when the object is shorter.
    assert_eq!(store.read_head(&key, 4).await, Ok(bytes[..4].to_vec()));
    assert_eq!(store.read_head(&key, 1 << 20).await, Ok(bytes.clone()));
    assert_eq!(
        store.read_head(&missing, 4).await,
        Err(MediaError::NotFound)
    );

    // Copy inside the store keeps bytes and type; delete removes, twice is fine.
    let kept = format!("{prefix}/kept/photo.jpg");
    store.copy(&key, &kept).await.expect("copy");
    assert_eq!(
        store.head(&kept).await,
        Ok(Some(ObjectMeta {
            size: bytes.len() as u64,
            content_type: Some("image/jpeg".into()),
        }))
    );
    assert_eq!(store.read(&kept, 10_000).await, Ok(bytes.clone()));
    assert_eq!(
        store.copy(&missing, &format!("{prefix}/nowhere")).await,
        Err(MediaError::NotFound)
    );
    store.delete(&key).await.expect("delete");
    assert_eq!(store.head(&key).await, Ok(None));
    store.delete(&key).await.expect("delete again");
    assert_eq!(
        store.read(&kept, 10_000).await,
        Ok(bytes.clone()),
        "the copy stays"
    );

    // Server-side write (e.g. a stripped public copy), then read; a second write replaces.
    let public_key = format!("{prefix}/public/photo.jpg");
    store
        .write(&public_key, b"public copy", "image/jpeg")
        .await
        .expect("write");
    assert_eq!(
        store.read(&public_key, 100).await,
        Ok(b"public copy".to_vec())
    );
    store
        .write(&public_key, b"second copy!", "image/png")
        .await
        .expect("rewrite");
    assert_eq!(
        store.head(&public_key).await,
        Ok(Some(ObjectMeta {
            size: 12,
            content_type: Some("image/png".into()),
        }))
    );
    assert_eq!(
        store.read(&public_key, 100).await,
        Ok(b"second copy!".to_vec())
    );
}
