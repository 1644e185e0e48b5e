//! The gateway over HTTP, against the test Redis and stand-in services (real HTTP servers on port 0).

mod auth;
mod cart;
mod events;
mod failures;
mod health;
mod helpers;
mod limits;
mod openapi;
mod ops;
mod ops_views;
mod paths;
mod proxy;
mod ui;
