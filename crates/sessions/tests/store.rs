//! The store against the test Redis: sessions resolve until revoked or expired, junk tokens never
//! reach Redis, and what Redis holds is the token's hash, never the token.

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

    let keys: Vec<String> = redis
        .pool()
        .custom(fred::cmd!("KEYS"), vec![format!("{prefix}*")])
        .await?;
    let value: String = redis.pool().get(&keys[0]).await?;
    let ttl: i64 = redis.pool().ttl(&keys[0]).await?;

    let hash = format!("{:x}", sha256(&created.token));
    assert_eq!(keys, vec![format!("{prefix}session:{hash}")]);
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
