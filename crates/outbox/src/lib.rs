#![doc = include_str!("../README.md")]

mod entry;
mod metrics;
mod relay;

pub use entry::{OUTBOX_FIELD, OutboxEntry};
pub use relay::{Outbox, OutboxConfig, OutboxError, Pass};
