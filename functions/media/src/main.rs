//! Media function: checks each new upload on S3 ObjectCreated (type by magic bytes, size, key).
use lambda_runtime::service_fn;
use phananh_lambda::{media_event, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::init_tracing();
    let rt = Runtime::from_env().await?;
    let rt = &rt;
    lambda_runtime::run(service_fn(move |e| media_event(rt, e))).await
}
