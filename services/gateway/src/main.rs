//! The `gateway` binary: read the configuration, build the application, serve until SIGINT/SIGTERM.

use anyhow::Context;
use gateway::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _logs = shop_telemetry::init("gateway");

    let config = Config::from_env().context("reading the configuration")?;
    tracing::info!(bind_addr = %config.bind_addr, "starting gateway");
    let app = Application::build(config)
        .await
        .context("building the gateway application")?;
    shop_http::shutdown_on_signals(app.shutdown_token());

    app.run_until_stopped().await.context("running gateway")?;
    tracing::info!("gateway stopped");
    Ok(())
}
