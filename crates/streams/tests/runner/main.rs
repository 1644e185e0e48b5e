//! Integration tests of the consumer-group runner and the publisher against the real Redis started
//! by `scripts/test.sh`. Each test uses its own stream, so they run in parallel.

mod delivery;
mod failures;
mod helpers;
mod lifecycle;
mod publishing;
