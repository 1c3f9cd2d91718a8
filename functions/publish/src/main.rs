//! publish consumer (SQS, fed by the events topic): one domain event per message, partial batch failures.
use lambda_runtime::{service_fn, LambdaEvent};
use phananh_lambda::{consume, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::init_tracing();
    let rt = Runtime::from_env().await?;
    let rt = &rt;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<_>| {
        consume(rt, phananh_lambda::consumers::PUBLISH, e)
    }))
    .await
}
