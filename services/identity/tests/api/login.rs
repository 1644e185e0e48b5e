//! `POST /api/auth/login` and `/logout`: tokens the gateway can resolve, one answer for every
//! wrong credential, the `UserLoggedIn` announcement, and revocation.

use serde_json::json;

use crate::helpers::{LAPTOP, PASSWORD, TestIdentity, email, json_body};

#[tokio::test]
async fn login_returns_a_token_the_session_store_resolves_to_the_user() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;

    let response = t.login(&email.to_uppercase(), PASSWORD, LAPTOP).await;

    assert_eq!(response.status(), 200);
    let body = json_body(response).await;
    assert_eq!(body["userId"], user_id.as_str());
    let token = body["token"].as_str().unwrap_or_default();
    let session = t
        .sessions
        .resolve(token)
        .await
        .expect("resolving the token")
        .expect("the token opens a session");
    assert_eq!(session.user_id.as_str(), user_id);
    let expires_at = session
        .expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(body["expiresAt"], expires_at.as_str());
    assert_eq!(
        session.expires_at - session.created_at,
        chrono::TimeDelta::seconds(3600)
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_are_the_same_401() {
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;

    let wrong_password = t.login(&email, "not the password", LAPTOP).await;
    let unknown_email = t.login(&self::email(), PASSWORD, LAPTOP).await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let wrong_password = json_body(wrong_password).await;
    assert_eq!(wrong_password["error"]["code"], "invalid_credentials");
    assert_eq!(wrong_password, json_body(unknown_email).await);
    assert!(
        t.identity_entries().await.is_empty(),
        "failed logins announce nothing"
    );
    let metrics = t.metrics().await;
    assert!(
        metrics.contains("logins_total{outcome=\"invalid_credentials\"} 2\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn login_publishes_user_logged_in_with_the_forwarded_address_and_user_agent() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;

    let token = t.logged_in(&email, LAPTOP).await;

    let entries = t.identity_entries().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.get("type"), Some("UserLoggedIn"));
    assert_eq!(entry.get("userId"), Some(user_id.as_str()));
    assert_eq!(
        entry.get("sessionId"),
        Some(t.session_id(&token).await.as_str())
    );
    assert_eq!(
        entry.get("ipAddress"),
        Some(LAPTOP.ip),
        "the first x-forwarded-for entry"
    );
    assert_eq!(entry.get("browserAgent"), Some(LAPTOP.agent));
    assert!(entry.get("createdAt").is_some_and(|at| at.ends_with('Z')));
    assert!(entry.get("traceparent").is_some());
    assert!(
        t.metrics()
            .await
            .contains("logins_total{outcome=\"success\"} 1\n")
    );
}

#[tokio::test]
async fn without_x_forwarded_for_the_address_is_the_peers() {
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;

    let response = t
        .post(
            "/api/auth/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;

    assert_eq!(response.status(), 200);
    let entries = t.identity_entries().await;
    assert_eq!(entries[0].get("ipAddress"), Some("127.0.0.1"));
}

#[tokio::test]
async fn logout_ends_the_session_and_a_second_logout_is_401() {
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;
    let token = t.logged_in(&email, LAPTOP).await;

    let first = t.logout(Some(&token)).await;
    let second = t.logout(Some(&token)).await;

    assert_eq!(first.status(), 204);
    assert_eq!(t.sessions.resolve(&token).await.expect("resolving"), None);
    assert_eq!(second.status(), 401);
    assert_eq!(json_body(second).await["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn logout_without_a_token_or_with_a_made_up_one_is_401() {
    let t = TestIdentity::spawn().await;

    for token in [None, Some("made-up"), Some(&*"A".repeat(43))] {
        let response = t.logout(token).await;

        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(
            json_body(response).await["error"]["code"],
            "unauthenticated"
        );
    }
}
