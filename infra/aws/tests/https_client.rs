//! The SDK clients' one HTTPS client: a real request is TLS (the first bytes on the wire are
//! a TLS handshake record), although creating the clients builds no TLS connector (cold
//! start). Only 127.0.0.1: a plain TCP listener that reads the client's first bytes.

use phananh_aws::aws_config::{BehaviorVersion, Region, SdkConfig};
use phananh_aws::aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use phananh_aws::settings::https_client;
use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_through_the_https_client_starts_a_tls_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cfg = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .http_client(https_client())
        .endpoint_url(format!("https://127.0.0.1:{port}"))
        .build();
    let client = phananh_aws::aws_sdk_dynamodb::Client::new(&cfg);
    let call = tokio::spawn(async move { client.list_tables().send().await });
    let first = tokio::task::spawn_blocking(move || {
        listener.set_nonblocking(false).expect("blocking");
        let (mut conn, _) = listener.accept().expect("the client connects");
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 3];
        conn.read_exact(&mut buf).expect("first bytes");
        buf
    })
    .await
    .expect("join");
    // A TLS record of type handshake (22), protocol version 3.x.
    assert_eq!(first[0], 0x16, "TLS handshake record, got {first:?}");
    assert_eq!(first[1], 0x03);
    call.abort();
}
