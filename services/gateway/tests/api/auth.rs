//! Session authentication: authenticated routes need a live session, decided before any service is
//! called.

use reqwest::Method;

use crate::helpers::{StandIn, TestGateway, assert_error, body, send};

/// Every route that needs a session.
const AUTHENTICATED: [(Method, &str); 6] = [
    (Method::GET, "/api/me"),
    (Method::POST, "/api/orders"),
    (Method::GET, "/api/orders"),
    (Method::GET, "/api/orders/o-1"),
    (Method::GET, "/api/order-history"),
    (Method::POST, "/api/auth/logout"),
];

#[tokio::test]
async fn authenticated_routes_are_401_without_a_live_session_and_no_service_is_called() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let revoked = gateway.login("u-gone").await;
    gateway
        .sessions
        .revoke(&revoked)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let unknown = "A".repeat(shop_sessions::TOKEN_LEN);

    for (method, path) in AUTHENTICATED {
        for authorization in [
            None,
            Some("Basic dTpw".to_owned()),
            Some("Bearer not-a-token".to_owned()),
            Some(format!("Bearer {unknown}")),
            Some(format!("Bearer {revoked}")),
        ] {
            let mut request = gateway.request(method.clone(), path);
            if let Some(authorization) = &authorization {
                request = request.header("authorization", authorization);
            }
            let response = send(request).await;
            assert_eq!(
                response.status(),
                401,
                "{method} {path} with {authorization:?}"
            );
            assert_error(response, 401, "unauthenticated").await;
        }
    }
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn a_live_session_is_forwarded_on_every_authenticated_route() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-carol").await;

    for (method, path) in AUTHENTICATED {
        let response = gateway.call_as(&token, method.clone(), path).await;

        assert_eq!(response.status(), 200, "{method} {path}");
        let seen = body(response).await;
        assert_eq!(seen["path"], path);
        assert_eq!(
            seen["headers"]["x-user-id"][0], "u-carol",
            "{method} {path}"
        );
    }
    assert_eq!(service.calls(), AUTHENTICATED.len());
}
