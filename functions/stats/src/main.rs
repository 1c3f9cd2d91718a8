//! stats consumer (SQS, fed by the events topic): counts each changed report in the statistics'
//! aggregate rows (issue 13 item 6); one domain event per message, the batch's shares counted
//! in one transaction (issue 10), else message by message with partial batch failures.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::run_consumer(phananh_lambda::Consumer::Stats).await
}
