#![doc = include_str!("../README.md")]

pub mod caller;
pub mod edge;
pub mod error;
pub mod health;
pub mod json;
pub mod layers;
pub mod metrics;
pub mod query;
pub mod server;
pub mod shutdown;

pub use caller::{CurrentUser, USER_ID_HEADER};
pub use error::{ErrorBody, ErrorDetail, error_response};
pub use health::{Readiness, ReadinessCheck};
pub use json::ApiJson;
pub use layers::with_common_layers;
pub use metrics::Metrics;
pub use server::Server;
pub use shutdown::{serve, shutdown_on_signals};
