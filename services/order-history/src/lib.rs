#![doc = include_str!("../README.md")]

mod config;
mod routes;
mod startup;
mod state;

pub use config::Config;
pub use routes::router;
pub use startup::Application;
pub use state::AppState;
