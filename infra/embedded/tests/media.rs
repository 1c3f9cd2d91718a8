//! FileMediaStore specifics: key validation, signature checks, the HTTP routes' refusals.

mod common;

use chrono::Utc;
use common::TempDir;
use phananh_core::ports::{MediaError, MediaStore};
use phananh_embedded::{spawn_media_server, valid_key, FileMediaStore, SignedRequest, UrlError};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &[u8] = b"media-test-secret-0123456789";

async fn serve(dir: &TempDir) -> (Arc<FileMediaStore>, String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let store = Arc::new(FileMediaStore::new(dir.path(), &base, SECRET).unwrap());
    let server = spawn_media_server(listener, store.clone());
    (store, base, server)
}

fn signed(
    store: &FileMediaStore,
    op: &str,
    key: &str,
    exp: i64,
    ct: &str,
    max: u64,
) -> SignedRequest {
    SignedRequest {
        op: op.into(),
        key: key.into(),
        exp,
        ct: ct.into(),
        max,
        sig: store.sign(op, key, exp, ct, max),
    }
}

#[test]
fn keys_are_relative_plain_paths() {
    for ok in ["a", "reports/r1/photo.jpg", "x_y-z.1/2"] {
        assert!(valid_key(ok), "{ok}");
    }
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a/../b",
        "a/./b",
        "a//b",
        "a/",
        "a b",
        "a\\b",
        "ảnh.jpg",
        "a?b",
    ] {
        assert!(!valid_key(bad), "{bad:?}");
    }
}

#[tokio::test]
async fn bad_keys_are_refused_by_every_operation() {
    let dir = TempDir::new("phananh-media-keys");
    let store = FileMediaStore::new(dir.path(), "http://127.0.0.1:1", SECRET).unwrap();
    let ttl = Duration::from_secs(60);
    assert!(matches!(
        store.presign_put("../x", "image/jpeg", 10, ttl).await,
        Err(MediaError::Backend(_))
    ));
    assert!(matches!(
        store.presign_get("/abs", ttl).await,
        Err(MediaError::Backend(_))
    ));
    assert!(matches!(
        store.write("a/../../b", b"x", "text/plain").await,
        Err(MediaError::Backend(_))
    ));
    assert!(matches!(
        store.head("..").await,
        Err(MediaError::Backend(_))
    ));
    assert!(!dir.path().parent().unwrap().join("b").exists());
}

#[test]
fn signatures_bind_op_key_expiry_type_and_size() {
    let dir = TempDir::new("phananh-media-sig");
    let store = FileMediaStore::new(dir.path(), "http://127.0.0.1:1", SECRET).unwrap();
    let now = Utc::now();
    let exp = now.timestamp() + 60;
    let good = signed(&store, "put", "r/a.jpg", exp, "image/jpeg", 1000);
    assert_eq!(store.verify(&good, now), Ok(()));

    let tamper = |f: &dyn Fn(&mut SignedRequest)| {
        let mut r = good.clone();
        f(&mut r);
        store.verify(&r, now)
    };
    assert_eq!(
        tamper(&|r| r.op = "get".into()),
        Err(UrlError::BadSignature)
    );
    assert_eq!(
        tamper(&|r| r.key = "r/b.jpg".into()),
        Err(UrlError::BadSignature)
    );
    assert_eq!(tamper(&|r| r.exp += 3600), Err(UrlError::BadSignature));
    assert_eq!(
        tamper(&|r| r.ct = "text/html".into()),
        Err(UrlError::BadSignature)
    );
    assert_eq!(tamper(&|r| r.max = 10_000_000), Err(UrlError::BadSignature));
    assert_eq!(
        tamper(&|r| r.sig = "zz".into()),
        Err(UrlError::BadSignature)
    );
    assert_eq!(
        tamper(&|r| r.key = "../a.jpg".into()),
        Err(UrlError::BadKey)
    );
    // Past the expiry instant.
    assert_eq!(
        store.verify(&good, now + chrono::Duration::seconds(61)),
        Err(UrlError::Expired)
    );
    // Another secret does not verify.
    let other = FileMediaStore::new(
        dir.path(),
        "http://127.0.0.1:1",
        b"another-secret-0123456789",
    )
    .unwrap();
    assert_eq!(other.verify(&good, now), Err(UrlError::BadSignature));
}

async fn problem(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_refuse_what_the_signature_does_not_allow() {
    let dir = TempDir::new("phananh-media-http");
    let (store, base, server) = serve(&dir).await;
    let http = reqwest::Client::new();
    let ttl = Duration::from_secs(60);

    // Wrong content type.
    let put = store
        .presign_put("r/1.jpg", "image/jpeg", 100, ttl)
        .await
        .unwrap();
    let resp = http
        .put(&put.url)
        .header("Content-Type", "text/html")
        .body("<b>x</b>")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(resp).await;
    assert_eq!(status, 415);
    assert_eq!(body["code"], "media_content_type_mismatch");
    assert_eq!(body["title"], "Loại tệp không khớp");
    assert_eq!(store.head("r/1.jpg").await, Ok(None));

    // Too large: declared length, and a streamed body without a length.
    let resp = http
        .put(&put.url)
        .header("Content-Type", "image/jpeg")
        .body(vec![1u8; 101])
        .send()
        .await
        .unwrap();
    let (status, body) = problem(resp).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "media_too_large");
    assert_eq!(
        chunked_put(&put.url, "image/jpeg", &[&[1u8; 60], &[2u8; 60]]).await,
        413
    );
    assert_eq!(store.head("r/1.jpg").await, Ok(None), "nothing stored");

    // Exactly the limit is fine.
    let resp = http
        .put(&put.url)
        .header("Content-Type", "image/jpeg")
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(store.read("r/1.jpg", 100).await.unwrap(), vec![7u8; 100]);

    // A PUT link does not download; a GET link does not upload.
    let resp = http.get(&put.url).send().await.unwrap();
    let (status, body) = problem(resp).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("media_link_invalid"))
    );
    let get = store.presign_get("r/1.jpg", ttl).await.unwrap();
    let resp = http
        .put(&get.url)
        .header("Content-Type", "")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    // Tampered key in the path.
    let other = get.url.replace("/media/r/1.jpg", "/media/r/2.jpg");
    let resp = http.get(&other).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    // Expired link.
    let exp = Utc::now().timestamp() - 5;
    let sig = store.sign("get", "r/1.jpg", exp, "", 0);
    let url = format!("{base}/media/r/1.jpg?op=get&exp={exp}&ct=&max=0&sig={sig}");
    let (status, body) = problem(http.get(&url).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("media_link_expired"))
    );
    assert_eq!(body["title"], "Liên kết đã hết hạn");

    // Download sends the stored content type; unknown objects are 404.
    let resp = http.get(&get.url).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let missing = store.presign_get("r/none.jpg", ttl).await.unwrap();
    let (status, body) = problem(http.get(&missing.url).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("media_not_found"))
    );

    // A content type with reserved characters survives the URL.
    let svg = store
        .presign_put("r/x.svg", "image/svg+xml", 10, ttl)
        .await
        .unwrap();
    let resp = http
        .put(&svg.url)
        .header("Content-Type", "image/svg+xml")
        .body("<svg/>")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    server.abort();
}

/// Sends a chunked PUT (no Content-Length) by hand and returns the status code.
async fn chunked_put(url: &str, content_type: &str, chunks: &[&[u8]]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in chunks {
        req.extend(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend(*c);
        req.extend(b"\r\n");
    }
    req.extend(b"0\r\n\r\n");
    // The server may answer (and close) before reading everything.
    let _ = s.write_all(&req).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Files left in the store's temp directory (a refused upload must leave none).
fn temp_files(dir: &TempDir) -> usize {
    std::fs::read_dir(dir.path().join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_past_its_limit_leaves_nothing_and_a_finished_one_tells_the_worker() {
    let dir = TempDir::new("phananh-media-stream");
    let (store, _base, server) = serve(&dir).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    store.on_upload(tx);
    let ttl = Duration::from_secs(60);
    let put = store
        .presign_put("uploads/0123456789abcdef/a1", "image/jpeg", 1000, ttl)
        .await
        .unwrap();
    // No Content-Length: the store counts while streaming and stops past 1000 bytes.
    let chunks: Vec<&[u8]> = vec![&[1u8; 600], &[2u8; 600], &[3u8; 600]];
    assert_eq!(chunked_put(&put.url, "image/jpeg", &chunks).await, 413);
    assert_eq!(store.head("uploads/0123456789abcdef/a1").await, Ok(None));
    assert_eq!(temp_files(&dir), 0, "the partial file is removed");
    assert!(rx.try_recv().is_err(), "a refused upload is not announced");

    assert_eq!(
        chunked_put(&put.url, "image/jpeg", &[&[1u8; 500], &[2u8; 500]]).await,
        200
    );
    let key = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("announced")
        .expect("a key");
    assert_eq!(key, "uploads/0123456789abcdef/a1");
    assert_eq!(store.head(&key).await.unwrap().unwrap().size, 1000);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_attachments_that_browsers_must_not_sniff() {
    let dir = TempDir::new("phananh-media-get");
    let (store, _base, server) = serve(&dir).await;
    store
        .write("media/0123456789abcdef/x1", b"<html>", "image/jpeg")
        .await
        .unwrap();
    let get = store
        .presign_get("media/0123456789abcdef/x1", Duration::from_secs(60))
        .await
        .unwrap();
    let resp = reqwest::get(&get.url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let h = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(
        h("content-disposition").as_deref(),
        Some("attachment; filename=\"x1\"")
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_refused_below_the_free_disk_floor() {
    let dir = TempDir::new("phananh-media-disk");
    let (store, _base, server) = serve(&dir).await;
    let ttl = Duration::from_secs(60);
    let put = store
        .presign_put("uploads/0123456789abcdef/d1", "image/jpeg", 10, ttl)
        .await
        .expect("enough space");
    // A floor above any real disk's free space.
    store.set_min_free_bytes(u64::MAX);
    assert_eq!(
        store
            .presign_put("uploads/0123456789abcdef/d2", "image/jpeg", 10, ttl)
            .await,
        Err(MediaError::InsufficientStorage)
    );
    let resp = reqwest::Client::new()
        .put(&put.url)
        .header("Content-Type", "image/jpeg")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    let (status, body) = problem(resp).await;
    assert_eq!(status, 507);
    assert_eq!(body["code"], "storage_full");
    assert!(body["detail"].as_str().unwrap().contains("hết dung lượng"));
    assert_eq!(store.head("uploads/0123456789abcdef/d1").await, Ok(None));
    store.set_min_free_bytes(1);
    assert!(store.free_bytes().unwrap() > 1);
    server.abort();
}

#[tokio::test]
async fn the_sweep_removes_expired_uploads_and_slots_but_never_attached_files() {
    let dir = TempDir::new("phananh-media-sweep");
    let store = FileMediaStore::new(dir.path(), "http://127.0.0.1:1", SECRET).unwrap();
    for key in [
        "uploads/0123456789abcdef/old",
        "slots/0123456789abcdef/old.json",
        "media/0123456789abcdef/kept",
        "public/0123456789abcdef/kept.jpg",
    ] {
        store.write(key, b"x", "image/jpeg").await.unwrap();
    }
    // Nothing is old enough yet.
    assert_eq!(store.sweep(Duration::from_secs(3600)).await, Ok(0));
    assert!(store
        .head("uploads/0123456789abcdef/old")
        .await
        .unwrap()
        .is_some());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    store
        .write("uploads/0123456789abcdef/fresh", b"y", "image/jpeg")
        .await
        .unwrap();
    assert_eq!(store.sweep(Duration::from_secs(1)).await, Ok(2));
    assert_eq!(store.head("uploads/0123456789abcdef/old").await, Ok(None));
    assert_eq!(
        store.head("slots/0123456789abcdef/old.json").await,
        Ok(None)
    );
    assert!(store
        .head("uploads/0123456789abcdef/fresh")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .head("media/0123456789abcdef/kept")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .head("public/0123456789abcdef/kept.jpg")
        .await
        .unwrap()
        .is_some());
}
