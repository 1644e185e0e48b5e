//! What the gateway answers itself when a service cannot: down (503), slow (504), or a request it
//! refuses to carry (413).

use std::time::{Duration, Instant};

use gateway::{Upstream, UpstreamUrls};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use secrecy::SecretString;

use crate::helpers::{
    RedisLink, StandIn, TestGateway, assert_error, closed_url, send, test_config,
};

#[tokio::test]
async fn a_service_slower_than_the_deadline_is_504_upstream_timeout() {
    let slow = StandIn::slow(Duration::from_secs(3)).await;
    let mut config = test_config(UpstreamUrls::all_at(&slow.url));
    config.upstream_timeout = Duration::from_millis(300);
    let gateway = TestGateway::spawn(config).await;

    let started = Instant::now();
    let response = gateway.get("/api/products").await;
    let waited = started.elapsed();

    let message = assert_error(response, 504, "upstream_timeout").await;
    assert!(message.contains("products"), "{message}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "answered after {waited:?}"
    );
}

#[tokio::test]
async fn a_service_whose_port_is_closed_is_503_naming_it() {
    let service = StandIn::echo().await;
    let mut upstreams = UpstreamUrls::all_at(&service.url);
    *upstreams.get_mut(Upstream::Orders) = closed_url().await;
    let gateway = TestGateway::spawn(test_config(upstreams)).await;
    let token = gateway.login("u-dave").await;

    let down = gateway.call_as(&token, Method::GET, "/api/orders").await;
    let up = gateway.get("/api/products").await;

    let message = assert_error(down, 503, "service_unavailable").await;
    assert!(message.contains("orders"), "{message}");
    assert_eq!(up.status(), 200, "other services are unaffected");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_without_reaching_the_service() {
    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.body_limit = 1024;
    let gateway = TestGateway::spawn(config).await;
    let fits = "x".repeat(1024);
    let too_big = "x".repeat(1025);

    let accepted = send(
        gateway
            .request(Method::POST, "/api/auth/register")
            .body(fits),
    )
    .await;
    let refused = send(
        gateway
            .request(Method::POST, "/api/auth/register")
            .body(too_big),
    )
    .await;

    assert_eq!(accepted.status(), 200);
    assert_error(refused, 413, "payload_too_large").await;
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_too() {
    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.body_limit = 1024;
    let gateway = TestGateway::spawn(config).await;
    let address = gateway.app.address.trim_start_matches("http://").to_owned();

    // No Content-Length to check up front: the limit has to hold while the body is read.
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .unwrap_or_else(|error| panic!("connecting: {error}"));
    let chunk = "y".repeat(2000);
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nhost: {address}\r\ntransfer-encoding: chunked\r\n\
         connection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|error| panic!("writing: {error}"));
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .unwrap_or_else(|error| panic!("reading: {error}"));

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn redis_down_while_resolving_a_session_is_503_and_public_routes_still_serve() {
    let service = StandIn::echo().await;
    let link = RedisLink::open().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.redis_url = SecretString::from(link.url.clone());
    let gateway = TestGateway::spawn(config).await;
    let token = gateway.login("u-frank").await;
    assert_eq!(
        gateway
            .call_as(&token, Method::GET, "/api/me")
            .await
            .status(),
        200
    );

    link.cut();
    let authenticated = gateway.call_as(&token, Method::GET, "/api/me").await;
    let public = gateway.get("/api/products").await;

    let message = assert_error(authenticated, 503, "service_unavailable").await;
    assert!(message.contains("redis"), "{message}");
    assert_eq!(public.status(), 200, "no session needed, no Redis needed");
    assert_eq!(service.calls(), 2);
}
