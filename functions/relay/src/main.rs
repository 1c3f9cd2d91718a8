//! relay function (DynamoDB Streams event source on the table): publishes the events written
//! with each report change to the events topic.
use lambda_runtime::service_fn;
use phananh_lambda::{relay_stream, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::init_tracing();
    let rt = Runtime::from_env().await?;
    let rt = &rt;
    lambda_runtime::run(service_fn(move |e| relay_stream(rt, e))).await
}
