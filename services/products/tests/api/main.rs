//! The products service over HTTP, against the test Redis and MongoDB.

mod cache;
mod health;
mod helpers;
mod payments;
mod products;
mod reservations;
mod seeding;
