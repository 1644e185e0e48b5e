#![doc = include_str!("../README.md")]

pub mod config;
pub mod consumers;
mod error;
mod extract;
pub mod order;
mod place_order;
pub mod products;
pub mod reconciler;
mod routes;
mod startup;
mod state;
pub mod store;

pub use config::{Config, ReconcileConfig};
pub use error::ApiError;
pub use extract::IDEMPOTENCY_KEY_HEADER;
pub use order::{Order, OrderPage};
pub use routes::router;
pub use shop_http::USER_ID_HEADER;
pub use shop_streams::ConsumerTuning;
pub use startup::Application;
pub use state::{AppState, OrderMetrics};
