//! The `orders` binary: read the configuration, build the application, serve until SIGINT/SIGTERM.

use anyhow::Context;
use orders::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = shop_telemetry::init("orders");

    let config = Config::from_env().context("reading the configuration")?;
    tracing::info!(
        bind_addr = %config.bind_addr,
        database = %config.mongo.database,
        products_url = %config.products_url,
        outbox_relay = config.outbox_relay,
        "starting orders"
    );
    let app = Application::build(config)
        .await
        .context("building the orders application")?;
    shop_http::shutdown_on_signals(app.shutdown_token());

    app.run_until_stopped().await.context("running orders")?;
    tracing::info!("orders stopped");
    Ok(())
}
