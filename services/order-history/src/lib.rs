#![doc = include_str!("../README.md")]

pub mod config;
pub mod consumers;
mod error;
pub mod facts;
pub mod history;
pub mod rebuild;
mod routes;
mod startup;
mod state;
pub mod store;

pub use config::Config;
pub use error::ApiError;
pub use history::{HistoryItem, HistoryPage};
pub use rebuild::{RebuildError, Rebuilder, Rebuilt};
pub use routes::router;
pub use shop_http::USER_ID_HEADER;
pub use shop_streams::ConsumerTuning;
pub use startup::Application;
pub use state::{AppState, HistoryMetrics};
