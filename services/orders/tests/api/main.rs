//! The orders service over HTTP, against the test Redis and MongoDB and a real `products`.

mod concurrency;
mod create;
mod events;
mod health;
mod helpers;
mod idempotency;
mod payments;
mod placements;
mod reads;
