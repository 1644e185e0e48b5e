//! The identity service over HTTP and its streams, against the test Redis and MongoDB.

mod busy;
mod health;
mod helpers;
mod identity_records;
mod login;
mod me;
mod register;
mod sessions;
mod throttle;
