//! The gateway over HTTP, against the test Redis.

mod health;
mod helpers;
