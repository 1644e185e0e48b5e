//! The payments service against the test Redis and MongoDB: orders are published to the test's own
//! orders stream, and the test reads its payments stream, dead letters and database.

mod charging;
mod duplicates;
mod health;
mod helpers;
mod internal;
mod observability;
mod poison;
mod providers;
mod restart;
mod retries;
