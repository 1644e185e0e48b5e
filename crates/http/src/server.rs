//! `Server`: a bound listener, its port and the shutdown token, the part of an application that is the
//! same in every service. Each service's `Application` owns one next to its own state.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A listener bound at build time and the token that stops it. Binding early is deliberate: a taken
/// port is the cheapest failure, found before any connection is opened, and tests learn the port the
/// OS chose for port 0 before serving starts.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    port: u16,
    shutdown: CancellationToken,
}

impl Server {
    /// Binds `addr`. The error keeps the I/O error's kind and names the address, since "address in
    /// use" alone does not say which one.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let named =
            |error: io::Error| io::Error::new(error.kind(), format!("binding {addr}: {error}"));
        let listener = TcpListener::bind(addr).await.map_err(named)?;
        let port = listener.local_addr().map_err(named)?.port();
        Ok(Self {
            listener,
            port,
            shutdown: CancellationToken::new(),
        })
    }

    /// The port actually bound (the one chosen by the OS when configured as 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling this token stops the server gracefully; share it with every background task.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves `router` until the shutdown token is cancelled and in-flight requests are done.
    pub async fn serve(self, router: Router) -> io::Result<()> {
        tracing::info!(port = self.port, "listening");
        crate::serve(self.listener, router, self.shutdown).await
    }

    /// [`Server::serve`] on the public edge: with a deadline on each request's head and a cap on
    /// connections per peer (see [`crate::edge`]).
    pub async fn serve_edge(
        self,
        router: Router,
        limits: crate::edge::ConnectionLimits,
    ) -> io::Result<()> {
        tracing::info!(port = self.port, ?limits, "listening");
        crate::edge::serve_edge(self.listener, router, self.shutdown, limits).await
    }
}
