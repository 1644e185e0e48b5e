//! The store against the test Redis: sessions resolve until revoked or expired, junk tokens never
//! reach Redis, what Redis holds is the token's hash, never the token, and a user holds at most
//! the cap of sessions, the oldest revoked first, also under concurrent logins.

use std::time::Duration;

use fred::prelude::{ClientLike, KeysInterface};
use shop_domain::UserId;
use shop_sessions::{SessionStore, TOKEN_LEN};
use shop_streams::{Redis, RedisSettings};

async fn redis() -> Redis {
    Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
        .await
        .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"))
}

/// A store with a prefix no other test uses.
async fn store(ttl: Duration) -> (SessionStore, String) {
    let prefix = format!("{}:", shop_testkit::unique_name("sessions"));
    (
        SessionStore::new(redis().await, prefix.clone(), ttl),
        prefix,
    )
}

fn user() -> UserId {
    UserId::generate()
}

#[tokio::test]
async fn a_created_session_resolves_to_its_user_until_revoked() -> shop_sessions::Result<()> {
    let (sessions, _) = store(Duration::from_secs(60)).await;
    let user = user();

    let created = sessions.create(&user).await?;
    let resolved = sessions.resolve(&created.token).await?;

    assert_eq!(created.token.len(), TOKEN_LEN);
    assert_eq!(resolved.as_ref(), Some(&created.session));
    assert_eq!(created.session.user_id, user);
    assert_eq!(
        created.session.expires_at - created.session.created_at,
        chrono::TimeDelta::seconds(60)
    );

    assert!(
        sessions.revoke(&created.token).await?,
        "the first revoke ends it"
    );
    assert_eq!(sessions.resolve(&created.token).await?, None);
    assert!(
        !sessions.revoke(&created.token).await?,
        "nothing left to end"
    );
    Ok(())
}

#[tokio::test]
async fn each_login_gets_its_own_token_and_session() -> shop_sessions::Result<()> {
    let (sessions, _) = store(Duration::from_secs(60)).await;
    let user = user();

    let first = sessions.create(&user).await?;
    let second = sessions.create(&user).await?;
    sessions.revoke(&first.token).await?;

    assert_ne!(first.token, second.token);
    assert_ne!(first.session.session_id, second.session.session_id);
    assert_eq!(
        sessions.resolve(&second.token).await?,
        Some(second.session),
        "revoking one session leaves the user's others alone"
    );
    Ok(())
}

#[tokio::test]
async fn a_session_stops_resolving_when_its_ttl_has_passed() -> shop_sessions::Result<()> {
    let (sessions, _) = store(Duration::from_secs(1)).await;
    let created = sessions.create(&user()).await?;
    assert!(sessions.resolve(&created.token).await?.is_some());

    tokio::time::sleep(Duration::from_millis(1100)).await;

    assert_eq!(sessions.resolve(&created.token).await?, None);
    Ok(())
}

#[tokio::test]
async fn malformed_and_unknown_tokens_resolve_to_nothing() -> shop_sessions::Result<()> {
    let (sessions, _) = store(Duration::from_secs(60)).await;
    let created = sessions.create(&user()).await?;
    let unknown = "A".repeat(TOKEN_LEN);
    let too_long = format!("{}A", created.token);

    for token in ["", "not-a-token", &too_long, &created.token[1..], &unknown] {
        assert_eq!(sessions.resolve(token).await?, None, "{token:?}");
        assert!(!sessions.revoke(token).await?, "{token:?}");
    }
    assert!(sessions.resolve(&created.token).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn redis_holds_the_hash_of_the_token_never_the_token() -> shop_sessions::Result<()> {
    let (sessions, prefix) = store(Duration::from_secs(60)).await;
    let created = sessions.create(&user()).await?;
    let redis = redis().await;

    let mut keys: Vec<String> = redis
        .pool()
        .custom(fred::cmd!("KEYS"), vec![format!("{prefix}*")])
        .await?;
    keys.sort();
    let value: String = redis.pool().get(&keys[0]).await?;
    let ttl: i64 = redis.pool().ttl(&keys[0]).await?;

    let hash = format!("{:x}", sha256(&created.token));
    let index = format!("{prefix}user-sessions:{}", created.session.user_id.as_str());
    assert_eq!(keys, vec![format!("{prefix}session:{hash}"), index]);
    assert_eq!(keys[0], sessions.key(&created.token));
    assert!(!value.contains(&created.token), "{value}");
    assert!(value.contains(&created.session.session_id), "{value}");
    assert!((1..=60).contains(&ttl), "expires in {ttl} s");
    Ok(())
}

#[tokio::test]
async fn a_stored_value_that_is_not_a_session_is_an_error_not_a_user() -> shop_sessions::Result<()>
{
    let (sessions, _) = store(Duration::from_secs(60)).await;
    let created = sessions.create(&user()).await?;
    let () = redis()
        .await
        .pool()
        .set(
            sessions.key(&created.token),
            "{\"userId\": 42}",
            None,
            None,
            false,
        )
        .await?;

    let resolved = sessions.resolve(&created.token).await;

    assert!(
        matches!(resolved, Err(shop_sessions::SessionError::Corrupt { .. })),
        "{resolved:?}"
    );
    Ok(())
}

/// SHA-256 written out independently of the crate, so the test checks the documented key format
/// rather than the crate against itself.
fn sha256(text: &str) -> Hex {
    use sha2::Digest;
    Hex(sha2::Sha256::digest(text.as_bytes()).to_vec())
}

struct Hex(Vec<u8>);

impl std::fmt::LowerHex for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A store capping each user at `max` sessions, with a prefix no other test uses.
async fn capped_store(max: usize) -> SessionStore {
    let (sessions, _) = store(Duration::from_secs(60)).await;
    sessions.with_max_per_user(max)
}

#[tokio::test]
async fn a_login_beyond_the_cap_revokes_the_users_oldest_sessions() -> shop_sessions::Result<()> {
    let sessions = capped_store(3).await;
    let other = user();
    let user = user();
    let others = sessions.create(&other).await?;

    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(sessions.create(&user).await?);
    }

    let revoked: Vec<u64> = created.iter().map(|c| c.revoked).collect();
    assert_eq!(
        revoked,
        [0, 0, 0, 1, 1],
        "each login past the third revokes one"
    );
    for (i, session) in created.iter().enumerate() {
        let resolved = sessions.resolve(&session.token).await?;
        assert_eq!(
            resolved.is_some(),
            i >= 2,
            "session {i}: the two oldest are gone"
        );
    }
    assert_eq!(sessions.count_of(&user).await?, 3);
    assert!(
        sessions.resolve(&others.token).await?.is_some(),
        "another user's session is not touched"
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_logins_never_leave_a_user_above_the_cap() -> shop_sessions::Result<()> {
    let sessions = capped_store(4).await;
    let user = user();

    let created = futures::future::join_all((0..24).map(|_| sessions.create(&user))).await;

    let mut live = 0;
    let mut revoked = 0;
    for session in created {
        let session = session?;
        revoked += session.revoked;
        live += usize::from(sessions.resolve(&session.token).await?.is_some());
    }
    assert_eq!(live, 4, "exactly the cap survives");
    assert_eq!(revoked, 20, "every other session was revoked once");
    assert_eq!(sessions.count_of(&user).await?, 4);
    Ok(())
}

#[tokio::test]
async fn a_revoked_session_leaves_the_index_and_frees_its_place() -> shop_sessions::Result<()> {
    let sessions = capped_store(2).await;
    let user = user();
    let first = sessions.create(&user).await?;
    let second = sessions.create(&user).await?;

    assert!(sessions.revoke(&second.token).await?);
    let third = sessions.create(&user).await?;

    assert_eq!(third.revoked, 0, "the revoked session's place was free");
    assert!(sessions.resolve(&first.token).await?.is_some());
    assert!(sessions.resolve(&third.token).await?.is_some());
    assert_eq!(sessions.count_of(&user).await?, 2);
    let members: Vec<String> = redis()
        .await
        .pool()
        .custom(
            fred::cmd!("ZRANGE"),
            vec![sessions.index_key(&user), "0".to_owned(), "-1".to_owned()],
        )
        .await?;
    assert_eq!(
        members,
        vec![sessions.key(&first.token), sessions.key(&third.token)],
        "the index lists the live sessions, oldest first"
    );
    Ok(())
}

#[tokio::test]
async fn sessions_that_expired_or_vanished_do_not_count_against_the_cap()
-> shop_sessions::Result<()> {
    let sessions = capped_store(2).await;
    let user = user();
    let first = sessions.create(&user).await?;
    let second = sessions.create(&user).await?;
    // Gone without a logout (expired, evicted, or a logout that died between its two steps).
    let _: u64 = redis().await.pool().del(sessions.key(&first.token)).await?;

    let third = sessions.create(&user).await?;

    assert_eq!(third.revoked, 0, "the vanished session held no place");
    assert!(sessions.resolve(&second.token).await?.is_some());
    assert!(sessions.resolve(&third.token).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn the_index_expires_with_the_sessions() -> shop_sessions::Result<()> {
    let sessions = capped_store(3).await;
    let user = user();
    sessions.create(&user).await?;

    let ttl: i64 = redis().await.pool().ttl(sessions.index_key(&user)).await?;

    assert!((1..=60).contains(&ttl), "the index expires in {ttl} s");
    Ok(())
}
