//! publish consumer (SQS, fed by the events topic): one domain event per message, partial batch failures.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::run_consumer(phananh_lambda::Consumer::Publish).await
}
