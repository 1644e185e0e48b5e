//! Per-client rate limiting and CORS.

use std::num::NonZeroU32;

use gateway::{AllowedOrigins, RateLimit, UpstreamUrls};
use reqwest::Method;

use crate::helpers::{StandIn, TestGateway, assert_error, send, test_config};

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

#[tokio::test]
async fn a_client_past_its_burst_gets_429_with_retry_after_while_probes_pass() {
    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.rate_limit = Some(RateLimit {
        per_second: non_zero(1),
        burst: non_zero(3),
    });
    let gateway = TestGateway::spawn(config).await;

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(gateway.get("/api/products").await.status().as_u16());
    }
    let limited = gateway.get("/api/products").await;

    assert_eq!(statuses, [200, 200, 200]);
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {:?}", limited.headers()));
    assert_eq!(retry_after, 1, "a token comes back within the second");
    assert_error(limited, 429, "rate_limited").await;
    assert_eq!(service.calls(), 3);
    for path in ["/health/live", "/health/ready", "/metrics"] {
        assert_eq!(
            gateway.get(path).await.status(),
            200,
            "{path} is never limited"
        );
    }
}

#[tokio::test]
async fn a_cors_preflight_is_answered_without_reaching_a_service() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let preflight = send(
        gateway
            .request(Method::OPTIONS, "/api/orders")
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            ),
    )
    .await;
    let simple = send(
        gateway
            .request(Method::GET, "/api/products")
            .header("origin", "https://shop.example"),
    )
    .await;

    assert_eq!(preflight.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    let methods = header(&preflight, "access-control-allow-methods");
    for method in ["get", "post", "options"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header(&preflight, "access-control-allow-headers");
    for name in [
        "authorization",
        "content-type",
        "idempotency-key",
        "x-request-id",
    ] {
        assert!(headers.contains(name), "{headers}");
    }
    assert!(preflight.headers().contains_key("x-request-id"));
    let exposed = header(&simple, "access-control-expose-headers");
    for name in ["x-request-id", "x-cache", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert_eq!(service.calls(), 1, "only the GET reached the service");
}

#[tokio::test]
async fn only_the_configured_origins_are_allowed() {
    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.cors_allowed_origins = AllowedOrigins::List(vec!["https://shop.example".to_owned()]);
    let gateway = TestGateway::spawn(config).await;

    let allowed_origin = |origin: &'static str| {
        let request = gateway
            .request(Method::GET, "/api/products")
            .header("origin", origin);
        async move {
            send(request)
                .await
                .headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        }
    };

    assert_eq!(
        allowed_origin("https://shop.example").await.as_deref(),
        Some("https://shop.example")
    );
    assert_eq!(allowed_origin("https://evil.example").await, None);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_a_408_and_never_reaches_a_service() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.upstream_timeout = Duration::from_millis(500);
    let gateway = TestGateway::spawn(config).await;
    let token = gateway.login("u-slow").await;

    let address = gateway.app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    // 100 bytes announced, 10 sent, and the connection kept open: a slow sender.
    let head = format!(
        "POST /api/orders HTTP/1.1\r\nhost: shop\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"product"
    );
    stream
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("no answer to a stalled body"))
        .unwrap_or_else(|error| panic!("{error}"));
    let answer = String::from_utf8_lossy(&answer[..read]);

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert_eq!(service.calls(), 0);
}

/// Reads from `stream` until the server closes it (or 30 s pass); what it sent before closing.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .ok()?;
    // A reset is a close too.
    drop(read);
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::AsyncWriteExt;

    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.connection_limits.header_read_timeout = std::time::Duration::from_millis(300);
    let gateway = TestGateway::spawn(config).await;
    let address = gateway.app.address.trim_start_matches("http://");

    let mut slow = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    slow.write_all(b"GET /api/products HTTP/1.1\r\nhost: sh")
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    let answer = until_closed(&mut slow).await;
    assert!(answer.is_some(), "the connection was still open after 30 s");
    assert_eq!(service.calls(), 0);
    assert_eq!(gateway.get("/api/products").await.status(), 200);
}

#[tokio::test]
async fn one_address_holds_at_most_its_cap_of_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.connection_limits.per_peer = Some(2);
    let gateway = TestGateway::spawn(config).await;
    let address = gateway.app.address.trim_start_matches("http://").to_owned();
    let open = || async {
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        // One whole request, answered, and the connection kept alive.
        stream
            .write_all(b"GET /api/products HTTP/1.1\r\nhost: shop\r\n\r\n")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let mut buffer = vec![0u8; 8192];
        let read = stream.read(&mut buffer).await.unwrap_or(0);
        (
            stream,
            String::from_utf8_lossy(&buffer[..read]).into_owned(),
        )
    };

    let (first, answer) = open().await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_second, answer) = open().await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_third, answer) = open().await;
    assert_eq!(
        answer, "",
        "a third connection from one address is closed unanswered"
    );

    drop(first);
    shop_testkit::eventually("a freed slot to admit a new connection", || async {
        let (_stream, answer) = open().await;
        answer.starts_with("HTTP/1.1 200").then_some(())
    })
    .await;
}
