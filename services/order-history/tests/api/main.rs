//! The order-history service over HTTP, against the test Redis and MongoDB: events are published to
//! the test's own streams, and the test reads the history the service serves.

mod health;
mod helpers;
mod projection;
mod reads;
mod rebuild;
mod store;
