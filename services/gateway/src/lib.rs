#![doc = include_str!("../README.md")]

pub mod admin_token;
mod auth;
mod client;
pub mod config;
mod error;
pub mod events;
pub mod openapi;
pub mod ops;
pub mod paths;
mod proxy;
pub mod routes;
mod startup;
mod state;
pub mod ui;
pub mod upstream;

pub use config::{AllowedOrigins, Config, OpsNetworks, RateLimit};
pub use error::ApiError;
pub use routes::router;
pub use routes::table::{Access, ROUTES, Route, Verb};
pub use startup::Application;
pub use state::AppState;
pub use upstream::{Upstream, UpstreamUrls};
