//! escalate function (EventBridge schedule).
use lambda_runtime::service_fn;
use phananh_lambda::{escalate, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    phananh_lambda::init_tracing();
    let rt = Runtime::from_env().await?;
    let rt = &rt;
    lambda_runtime::run(service_fn(move |e| escalate(rt, e))).await
}
