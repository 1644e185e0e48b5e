#![doc = include_str!("../README.md")]

mod auth;
mod client;
pub mod config;
mod error;
pub mod events;
pub mod openapi;
pub mod ops;
mod proxy;
pub mod routes;
mod startup;
mod state;
pub mod ui;
pub mod upstream;

pub use config::{AllowedOrigins, Config, RateLimit};
pub use error::ApiError;
pub use routes::router;
pub use routes::table::{Access, ROUTES, Route, Verb};
pub use startup::Application;
pub use state::AppState;
pub use upstream::{Upstream, UpstreamUrls};
