//! The `order-history` binary: read the configuration, build the application, serve until SIGINT/SIGTERM.

use anyhow::Context;
use order_history::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = shop_telemetry::init("order-history");

    let config = Config::from_env().context("reading the configuration")?;
    tracing::info!(
        bind_addr = %config.bind_addr,
        database = %config.mongo.database,
        "starting order-history"
    );
    let app = Application::build(config)
        .await
        .context("building the order-history application")?;
    shop_http::shutdown_on_signals(app.shutdown_token());

    app.run_until_stopped()
        .await
        .context("running order-history")?;
    tracing::info!("order-history stopped");
    Ok(())
}
