//! The products service over HTTP, against the test Redis and MongoDB.

mod health;
mod helpers;
