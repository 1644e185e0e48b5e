#![doc = include_str!("../README.md")]

mod cache;
mod catalog;
mod config;
mod consumers;
mod error;
mod product;
mod reservations;
mod routes;
mod startup;
mod state;
mod store;

pub use config::Config;
pub use error::ApiError;
pub use product::{Product, embedded_catalog, seed_products};
pub use routes::router;
pub use startup::Application;
pub use state::AppState;
