//! The `payments` binary: read the configuration, build the application, serve until SIGINT/SIGTERM.

use anyhow::Context;
use payments::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = shop_telemetry::init("payments");

    let config = Config::from_env().context("reading the configuration")?;
    tracing::info!(
        bind_addr = %config.bind_addr,
        database = %config.mongo.database,
        orders_stream = %config.streams.orders,
        payment_max_amount = %config.payment_max_amount,
        "starting payments"
    );
    let app = Application::build(config)
        .await
        .context("building the payments application")?;
    shop_http::shutdown_on_signals(app.shutdown_token());

    app.run_until_stopped().await.context("running payments")?;
    tracing::info!("payments stopped");
    Ok(())
}
