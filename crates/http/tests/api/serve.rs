//! `serve` over a real socket: cancelling the token stops the server, after in-flight requests finish.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn start(
    router: Router,
) -> (
    String,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let token = CancellationToken::new();
    let server = tokio::spawn(shop_http::serve(listener, router, token.clone()));
    (address, token, server)
}

#[tokio::test]
async fn cancelling_the_token_makes_serve_return() {
    let (address, token, server) = start(Router::new().route("/", get(|| async { "hi" }))).await;
    let response = reqwest::get(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(response.status().is_success());

    token.cancel();

    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_still_completes() {
    let slow = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }),
    );
    let (address, token, server) = start(slow).await;
    let in_flight = tokio::spawn(reqwest::get(format!("{address}/slow")));
    tokio::time::sleep(Duration::from_millis(100)).await;

    token.cancel();

    let response = in_flight
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.text().await.unwrap_or_default(), "done");
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}
