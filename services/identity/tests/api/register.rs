//! `POST /api/auth/register`: accounts are created once per email, whatever its case or Unicode
//! form, and invalid input (hidden characters included) is a 422 naming what is wrong.

use bson::doc;
use futures::future::join_all;
use identity::HashingLimits;
use identity::passwords::{PasswordMetrics, Passwords};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{LAPTOP, PASSWORD, TestIdentity, email, json_body};

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

#[tokio::test]
async fn an_email_in_another_unicode_form_is_the_same_account() {
    let t = TestIdentity::spawn().await;
    let user = shop_testkit::unique_name("jose");
    // Composed é and an internationalised domain in Unicode.
    let typed = format!("{user}Jos\u{e9}@B\u{fc}cher.example");
    let registered = t.register(&typed, PASSWORD, "José").await;
    assert_eq!(registered.status(), 201);
    assert_eq!(json_body(registered).await["email"], typed.as_str());

    // Decomposed é, upper case, the domain in punycode, fullwidth @: one normal form.
    let variants = [
        format!("{}JOSE\u{301}@xn--bcher-kva.example", user.to_uppercase()),
        format!("{user}jos\u{e9}\u{ff20}b\u{fc}cher.EXAMPLE"),
    ];
    for variant in &variants {
        let response = t.register(variant, PASSWORD, "Someone Else").await;
        assert_eq!(response.status(), 409, "{variant}");
        assert_eq!(json_body(response).await["error"]["code"], "email_taken");
    }
    let stored = t
        .users
        .find_one(doc! { "_id": format!("{user}jos\u{e9}@xn--bcher-kva.example").to_lowercase() })
        .await
        .expect("reading users");
    assert!(stored.is_some(), "stored under the normal form");

    for variant in &variants {
        assert_eq!(
            t.login(variant, PASSWORD, LAPTOP).await.status(),
            200,
            "{variant}"
        );
    }
}

#[tokio::test]
async fn hidden_characters_in_a_name_or_an_email_are_422_naming_the_field() {
    let t = TestIdentity::spawn().await;
    let cases = [
        // A right-to-left override makes "Ada\u{202E}nimda" read as "Adaadmin".
        (email(), "Ada\u{202E}nimda", "invalid_name"),
        (email(), "Ad\u{200B}a", "invalid_name"),
        (email(), "\u{2067}Ada\u{2069}", "invalid_name"),
        (email(), "Ada\u{FEFF}", "invalid_name"),
        (format!("ad\u{200D}{}", email()), "Ada", "invalid_email"),
        (format!("{}\u{202E}", email()), "Ada", "invalid_email"),
        (
            format!("{}@{}.com", "a".repeat(65), "x"),
            "Ada",
            "invalid_email",
        ),
    ];

    for (email, name, code) in cases {
        let response = t.register(&email, PASSWORD, name).await;

        assert_eq!(response.status(), 422, "{email:?} / {name:?}");
        let body = json_body(response).await;
        assert_eq!(body["error"]["code"], code, "{email:?} / {name:?}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn an_account_stored_before_normalisation_still_logs_in_and_keeps_its_email() {
    let t = TestIdentity::spawn().await;
    let user = shop_testkit::unique_name("legacy");
    // What the service stored before: the email trimmed and lowercased, domain in Unicode.
    let legacy_key = format!("{user}@bücher.example");
    let passwords = Passwords::new(HashingLimits::per_core(), PasswordMetrics::default())
        .await
        .expect("hashing");
    let hash = passwords
        .hash(SecretString::from(PASSWORD))
        .await
        .expect("hashing");
    t.users
        .insert_one(doc! {
            "_id": &legacy_key,
            "userId": shop_testkit::unique_name("u"),
            "email": &legacy_key,
            "name": "Legacy",
            "passwordHash": hash,
            "createdAt": bson::DateTime::now(),
        })
        .await
        .expect("inserting a legacy account");

    let login = t
        .login(&format!("{user}@BÜCHER.example"), PASSWORD, LAPTOP)
        .await;
    let register = t.register(&legacy_key, PASSWORD, "Impostor").await;

    assert_eq!(login.status(), 200, "found under its legacy key");
    assert_eq!(
        register.status(),
        409,
        "the same address gets no second account"
    );
}
