//! Sessions per user are capped: a login beyond `SESSION_MAX_PER_USER` revokes the oldest.

use crate::helpers::{LAPTOP, TestIdentity, email, test_config};

#[tokio::test]
async fn a_login_beyond_the_cap_revokes_the_users_oldest_session() {
    let t = TestIdentity::spawn_with(identity::Config {
        max_sessions_per_user: 2,
        ..test_config()
    })
    .await;
    let email = email();
    t.registered(&email).await;

    let first = t.logged_in(&email, LAPTOP).await;
    let second = t.logged_in(&email, LAPTOP).await;
    let third = t.logged_in(&email, LAPTOP).await;

    let t = &t;
    let resolves = |token: String| async move {
        t.sessions
            .resolve(&token)
            .await
            .expect("resolving")
            .is_some()
    };
    assert!(!resolves(first).await, "the oldest was revoked");
    assert!(resolves(second.clone()).await);
    assert!(resolves(third).await);
    assert!(
        t.metrics()
            .await
            .contains("sessions_revoked_by_cap_total 1\n")
    );

    // Logging out frees a place: the next login revokes nothing.
    assert_eq!(t.logout(Some(&second)).await.status(), 204);
    t.logged_in(&email, LAPTOP).await;
    assert!(
        t.metrics()
            .await
            .contains("sessions_revoked_by_cap_total 1\n")
    );
}
