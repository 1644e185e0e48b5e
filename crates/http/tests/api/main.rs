//! Behaviour of shop-http through its public API: routers are driven in-process with `oneshot`, except
//! where the network is the point (serving and shutdown).

mod health;
mod helpers;
mod json;
mod metrics;
mod request_id;
mod serve;
