//! API function (intake, citizens, public, staff): the shared HTTP layer through lambda_http.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    phananh_lambda::init_tracing();
    let rt = phananh_lambda::Runtime::from_env().await?;
    lambda_http::run(phananh_http_router(&rt)).await
}

fn phananh_http_router(rt: &phananh_lambda::Runtime) -> phananh_lambda::Router {
    phananh_lambda::router(rt)
}
