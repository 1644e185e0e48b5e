#![doc = include_str!("../README.md")]

mod config;
mod consumers;
mod error;
mod metrics;
mod payment;
mod provider;
mod routes;
mod startup;
mod state;
mod store;

pub use config::{Config, DEFAULT_PAYMENT_MAX_AMOUNT};
pub use consumers::GROUP;
pub use payment::{ChargeError, Charged, Payments};
pub use provider::{
    AMOUNT_LIMIT_EXCEEDED, ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError,
    SimulatedProvider,
};
pub use routes::router;
pub use shop_streams::ConsumerTuning;
pub use startup::Application;
pub use state::AppState;
pub use store::{COLLECTION, PaymentDocument, PaymentStatus, ProviderRecord};
