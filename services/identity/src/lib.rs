#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod config;
pub mod consumers;
pub mod digital_identity;
mod error;
mod extract;
pub mod hash_queue;
mod metrics;
pub mod passwords;
pub mod registration;
mod routes;
pub mod score;
mod startup;
mod state;
pub mod store;
pub mod text;
pub mod throttle;

pub use config::Config;
pub use consumers::GROUP;
pub use error::ApiError;
pub use extract::FORWARDED_FOR_HEADER;
pub use hash_queue::HashingLimits;
pub use metrics::{IdentityMetrics, LoginOutcome};
pub use routes::router;
pub use shop_http::USER_ID_HEADER;
pub use shop_streams::ConsumerTuning;
pub use startup::Application;
pub use state::AppState;
pub use store::{IdentityRecord, RecordKind};
pub use throttle::{ThrottleLimit, ThrottleSettings};
