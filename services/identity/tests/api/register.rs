//! `POST /api/auth/register`: accounts are created once per email, whatever its case, and
//! invalid input is a 422 naming what is wrong.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{PASSWORD, TestIdentity, email, json_body};

#[tokio::test]
async fn register_returns_201_with_the_new_user() {
    let t = TestIdentity::spawn().await;
    let email = email();

    let response = t
        .register(&format!(" {email} "), PASSWORD, " Ada Lovelace ")
        .await;

    assert_eq!(response.status(), 201);
    let body = json_body(response).await;
    let user_id = body["userId"].as_str().unwrap_or_default();
    assert!(!user_id.is_empty(), "{body}");
    assert_eq!(
        body,
        json!({ "userId": user_id, "email": email, "name": "Ada Lovelace" })
    );
    t.app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn the_same_email_in_another_case_is_409_email_taken() {
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;

    let response = t
        .register(&email.to_uppercase(), PASSWORD, "Someone Else")
        .await;

    assert_eq!(response.status(), 409);
    assert_eq!(json_body(response).await["error"]["code"], "email_taken");
}

#[tokio::test]
async fn invalid_email_password_or_name_is_422_naming_the_field() {
    let t = TestIdentity::spawn().await;
    let long_name = "n".repeat(101);
    let cases = [
        ("not-an-email", PASSWORD, "Ada", "invalid_email"),
        ("ada@", PASSWORD, "Ada", "invalid_email"),
        (&email(), "1234567", "Ada", "weak_password"),
        (&email(), PASSWORD, "", "invalid_name"),
        (&email(), PASSWORD, "   ", "invalid_name"),
        (&email(), PASSWORD, &long_name, "invalid_name"),
    ];

    for (email, password, name, code) in cases {
        let response = t.register(email, password, name).await;

        assert_eq!(response.status(), 422, "{email} / {name:?}");
        assert_eq!(
            json_body(response).await["error"]["code"],
            code,
            "{email} / {name:?}"
        );
    }
}

#[tokio::test]
async fn a_body_missing_a_field_is_422_in_the_error_shape() {
    let t = TestIdentity::spawn().await;

    let response = t
        .post(
            "/api/auth/register",
            &json!({ "email": email(), "password": PASSWORD }),
        )
        .await;

    assert_eq!(response.status(), 422);
    assert_eq!(json_body(response).await["error"]["code"], "invalid_body");
}

#[tokio::test]
async fn ten_concurrent_registrations_of_one_email_create_exactly_one_account() {
    let t = TestIdentity::spawn().await;
    let email = email();
    // Different cases too: the key, not the text, is what must be unique.
    let variants: Vec<String> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                email.clone()
            } else {
                email.to_uppercase()
            }
        })
        .collect();

    let responses = join_all(
        variants
            .iter()
            .map(|email| t.register(email, PASSWORD, "Ada")),
    )
    .await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    assert!(
        t.metrics().await.contains("registrations_total 1\n"),
        "one registration counted"
    );
}
