#![doc = include_str!("../README.md")]

mod consumer;
mod dead_letters;
mod error;
mod event;
pub mod events;
#[cfg(test)]
mod fuzz;
mod metrics;
mod names;
mod publisher;
mod range;
mod redis;
mod trace;

pub use consumer::{
    Consumer, ConsumerConfig, ConsumerTuning, Delivery, HandlerError, StartFrom,
    dead_letter_stream, unique_consumer_name,
};
pub use dead_letters::{DEAD_LETTER_FIELDS, replay_dead_letters};
pub use error::{DecodeError, StreamsError};
pub use event::{Event, Fields, REANNOUNCED_FIELD, TYPE_FIELD};
pub use metrics::{RunnerMetrics, StreamMetrics};
pub use names::StreamNames;
pub use publisher::{DEFAULT_MAX_LEN, Publisher};
pub use range::{read_all, read_page};
pub use redis::{Redis, RedisSettings};
pub use trace::{TRACEPARENT_FIELD, Traceparent};
