//! Serving on the public edge: like [`crate::serve`], plus a deadline on reading each request's
//! head and a cap on the connections one peer address holds open.
//!
//! Hand-written on hyper-util's connection builder because `axum::serve` exposes neither: a client
//! that opens connections and sends its headers a byte at a time (slowloris) would otherwise hold a
//! task and a socket per connection for as long as it likes, and one address could take every file
//! descriptor of the process.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

/// The edge's limits on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a request's head (line and headers), also between
    /// two requests on a kept-alive connection: past it the connection is closed.
    pub header_read_timeout: Duration,
    /// Open connections per peer address; `None` for no cap (behind a proxy every connection
    /// comes from the proxy's address).
    pub per_peer: Option<usize>,
}

/// Open connections per peer address. A slot is held for the life of a connection and given back
/// when it ends, however it ends.
#[derive(Debug, Default, Clone)]
struct PeerCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct PeerSlot {
    counts: PeerCounts,
    peer: IpAddr,
}

impl PeerCounts {
    fn admit(&self, peer: IpAddr, cap: Option<usize>) -> Option<PeerSlot> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let open = counts.entry(peer).or_default();
        if cap.is_some_and(|cap| *open >= cap) {
            return None;
        }
        *open += 1;
        Some(PeerSlot {
            counts: self.clone(),
            peer,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = counts.get_mut(&self.peer) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.peer);
            }
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` is cancelled, then stops
/// accepting and returns once in-flight connections have finished. Handlers can extract
/// `ConnectInfo<SocketAddr>`, as with [`crate::serve`].
pub async fn serve_edge(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    limits: ConnectionLimits,
) -> io::Result<()> {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let peers = PeerCounts::default();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: the listener is fine, the moment is not.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = peers.admit(peer.ip(), limits.per_peer) else {
            tracing::warn!(peer = %peer.ip(), "refusing a connection: the peer holds its maximum");
            drop(stream);
            continue;
        };
        let Ok(router) = make_service
            .call(peer)
            .await
            .map_err(|never: Infallible| never);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
