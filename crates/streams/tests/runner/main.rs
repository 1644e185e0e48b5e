//! Integration tests of the consumer-group runner and the publisher against the real Redis started
//! by `scripts/test.sh`. Each test uses its own stream, so they run in parallel.

mod atomicity;
mod claiming;
mod deleted;
mod delivery;
mod failures;
mod fuzz;
mod helpers;
mod lifecycle;
mod outage;
mod poison;
mod private_redis;
mod publishing;
