//! What a client does with a presigned upload: a `PUT` of the raw bytes with the given
//! headers, or a `POST` of a multipart form (the fields in order, then the file as `file`),
//! as the public site's script does.

use phananh_core::ports::PresignedUrl;

/// Sends `bytes` to `url`; returns the HTTP status and body.
pub async fn upload(url: &PresignedUrl, bytes: Vec<u8>, content_type: &str) -> (u16, String) {
    let http = reqwest::Client::new();
    let req = match url.method.as_str() {
        "POST" => {
            let boundary = format!("----phananh{}", uuid::Uuid::new_v4().simple());
            let mut body = Vec::with_capacity(bytes.len() + 2048);
            for (k, v) in &url.fields {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                    )
                    .as_bytes(),
                );
            }
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(&bytes);
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            http.post(&url.url)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
        }
        _ => {
            let mut r = http.put(&url.url).body(bytes);
            for (k, v) in &url.headers {
                r = r.header(k, v);
            }
            r
        }
    };
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}
