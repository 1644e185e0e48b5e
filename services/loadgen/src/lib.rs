#![doc = include_str!("../README.md")]

pub mod args;
pub mod client;
pub mod config;
pub mod driver;
pub mod machine;
pub mod mix;
pub mod overhead;
mod render;
pub mod report;
pub mod settle;
pub mod setup;
pub mod stats;
pub mod workload;

use std::sync::Arc;

use tokio::time::Instant;

pub use config::{Config, Load, OverheadConfig};
pub use mix::Mix;
pub use report::Report;

use crate::client::Gateway;
use crate::machine::Machine;
use crate::overhead::Targets;
use crate::report::{Parts, SetupInfo};
use crate::setup::SetupError;
use crate::workload::Workload;

/// Connections kept beyond the workers': setup, settling and the overhead loops share the pool.
const SPARE_CONNECTIONS: usize = 16;

/// Why a run could not be made. Errors *during* the load are not among these: they are counted and
/// reported.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("building the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// Sets up (health, users, catalog), drives the load, waits for the orders to settle, measures
/// the gateway's overhead when configured, and reports.
pub async fn run(config: &Config) -> Result<Report, RunError> {
    let machine = Machine::describe();
    let overhead_loops = config.overhead.as_ref().map_or(0, |o| o.concurrency);
    let pool = config.load.workers().max(overhead_loops) + SPARE_CONNECTIONS;
    let http = client::build(pool, config.request_timeout).map_err(RunError::Client)?;
    let gateway = Gateway {
        http: http.clone(),
        base: config.gateway.clone(),
    };

    let setup_started = Instant::now();
    tracing::info!(gateway = %config.gateway, users = config.users, "setting up");
    let fixture = setup::prepare(&gateway, config.users, &config.run_id).await?;
    let targets = match (&config.overhead, fixture.orderable.first()) {
        (Some(overhead), Some(product)) => {
            let targets = Targets::new(
                &config.gateway,
                &overhead.direct_products,
                &product.product_id,
            );
            targets.warm_up(&http).await.map_err(SetupError::Direct)?;
            Some(targets)
        }
        _ => None,
    };
    let setup = SetupInfo {
        catalog_products: fixture.catalog_size,
        orderable_products: fixture.orderable.len(),
        search_terms: fixture.search_urls.len(),
        seconds: setup_started.elapsed().as_secs_f64(),
    };

    tracing::info!(
        load = ?config.load,
        warmup_s = config.warmup.as_secs_f64(),
        duration_s = config.duration.as_secs_f64(),
        mix = %config.mix,
        "driving the load"
    );
    let workload = Arc::new(Workload {
        http: http.clone(),
        fixture,
        mix: config.mix,
        key_prefix: format!("load-{}-{}", config.run_id, started_at_micros()),
    });
    let recorded = driver::drive(
        Arc::clone(&workload),
        config.load,
        config.warmup,
        config.duration,
        config.seed,
    )
    .await;

    tracing::info!(
        orders = recorded.orders.len(),
        "waiting for the recorded orders to settle"
    );
    let settlement = settle::settle(
        &gateway,
        &workload.fixture.sessions,
        &recorded.orders,
        config.settle_timeout,
    )
    .await;

    let overhead = match (&config.overhead, &targets) {
        (Some(overhead), Some(targets)) => {
            tracing::info!(
                duration_s = overhead.duration.as_secs_f64(),
                "measuring the gateway's overhead"
            );
            Some(overhead::measure(&http, targets, overhead).await)
        }
        _ => None,
    };

    Ok(Report::new(
        config,
        Parts {
            machine,
            setup,
            recorded,
            settlement,
            overhead,
        },
    ))
}

fn started_at_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_micros())
}
