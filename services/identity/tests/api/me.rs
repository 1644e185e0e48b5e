//! `GET /api/me`: the caller named by the gateway's `x-user-id`, with their identity score.

use serde_json::json;

use crate::helpers::{TestIdentity, email, json_body};

#[tokio::test]
async fn without_a_user_it_is_401_unauthenticated() {
    let t = TestIdentity::spawn().await;

    let response = t.me(None).await;

    assert_eq!(response.status(), 401);
    assert_eq!(
        json_body(response).await["error"]["code"],
        "unauthenticated"
    );
}

#[tokio::test]
async fn an_unknown_user_is_404_user_not_found() {
    let t = TestIdentity::spawn().await;

    let response = t.me(Some("no-such-user")).await;

    assert_eq!(response.status(), 404);
    assert_eq!(json_body(response).await["error"]["code"], "user_not_found");
}

#[tokio::test]
async fn it_shows_the_profile_with_no_score_before_any_event() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;

    let response = t.me(Some(&user_id)).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(response).await,
        json!({ "userId": user_id, "email": email, "name": "Ada Lovelace", "identityScore": null })
    );
}
