//! One shutdown signal for the whole process: SIGINT or SIGTERM cancels a `CancellationToken` that the
//! HTTP server and every background task watch.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGINT (Ctrl-C) or SIGTERM (what orchestrators send). The task also
/// ends when the token is cancelled some other way, so it never outlives the application.
pub fn shutdown_on_signals(token: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = signalled() => {
                tracing::info!("shutdown signal received, draining");
                token.cancel();
            }
            () = token.cancelled() => {}
        }
    })
}

async fn signalled() {
    // A handler that cannot be installed must not look like a signal: it waits forever instead.
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops accepting and returns once
/// in-flight requests have completed. Handlers can extract `ConnectInfo<SocketAddr>` (the gateway's
/// per-client rate limit needs the peer address).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}
