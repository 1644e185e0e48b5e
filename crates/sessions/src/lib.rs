#![doc = include_str!("../README.md")]

mod per_user;
mod token;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use fred::prelude::KeysInterface;
use serde::{Deserialize, Serialize};
use shop_config::{Env, EnvError};
use shop_domain::UserId;
use shop_streams::Redis;

pub use per_user::{DEFAULT_MAX_PER_USER, MAX_PER_USER_VAR};
pub use token::{TOKEN_BYTES, TOKEN_LEN};

/// `SESSION_TTL_SECS` when unset: a day.
pub const DEFAULT_TTL: Duration = Duration::from_secs(86_400);

/// The variable holding the key prefix (default empty), read by every user of the store alike.
pub const PREFIX_VAR: &str = "SESSION_PREFIX";

/// The variable holding the session lifetime in whole seconds (default [`DEFAULT_TTL`]).
pub const TTL_VAR: &str = "SESSION_TTL_SECS";

/// `SESSION_PREFIX`, default empty: prepended to every session key, so deployments (and tests)
/// can share one Redis. Issuer and resolver must agree on it.
pub fn key_prefix_from_env(env: &Env) -> Result<String, EnvError> {
    env.or(PREFIX_VAR, String::new())
}

/// `SESSION_TTL_SECS`, default 86400: how long a session lives after login. Zero is refused.
pub fn ttl_from_env(env: &Env) -> Result<Duration, EnvError> {
    let seconds: u64 = env.or(TTL_VAR, DEFAULT_TTL.as_secs())?;
    if seconds == 0 {
        return Err(EnvError::Invalid {
            name: TTL_VAR.to_owned(),
            value: seconds.to_string(),
            reason: "a session must live at least one second".to_owned(),
        });
    }
    Ok(Duration::from_secs(seconds))
}

/// `SESSION_MAX_PER_USER`, default 10: how many sessions one user may hold; a login beyond it
/// revokes the user's oldest. Zero is refused (no one could log in).
pub fn max_per_user_from_env(env: &Env) -> Result<usize, EnvError> {
    let max: usize = env.or(MAX_PER_USER_VAR, DEFAULT_MAX_PER_USER)?;
    if max == 0 {
        return Err(EnvError::Invalid {
            name: MAX_PER_USER_VAR.to_owned(),
            value: max.to_string(),
            reason: "a user must be able to hold at least one session".to_owned(),
        });
    }
    Ok(max)
}

/// A logged-in user's session, as stored (JSON, camelCase) under the token's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub user_id: UserId,
    /// Names the session in events and logs; unlike the token, it grants nothing.
    pub session_id: String,
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub created_at: DateTime<Utc>,
    /// `created_at` + the TTL; the Redis key expires at the same moment.
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub expires_at: DateTime<Utc>,
}

/// What [`SessionStore::create`] hands out: the token, shown to the client once and never stored,
/// and the session it opens.
#[derive(Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
    /// How many of the user's older sessions this one revoked to stay within the cap.
    pub revoked: u64,
}

impl fmt::Debug for NewSession {
    /// The token is a credential: it stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("token", &"<redacted>")
            .field("session", &self.session)
            .field("revoked", &self.revoked)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    /// A stored value that is not a session: a bug or a foreign writer. It authenticates no one.
    #[error("{key} does not hold a valid session: {reason}")]
    Corrupt { key: String, reason: String },
    /// Two tokens of 256 random bits collided: in practice, a broken random generator.
    #[error("a session with this token already exists")]
    Collision,
}

pub type Result<T, E = SessionError> = std::result::Result<T, E>;

/// Sessions in Redis, one key per session: `<prefix>session:<sha256 hex of the token>`, holding
/// the [`Session`] as JSON, with a fixed expiry; and per user an index,
/// `<prefix>user-sessions:<user id>`, that caps how many sessions the user holds.
///
/// The lifetime is fixed at login, not sliding: a sliding session would cost a write on every
/// authenticated request, on the gateway's hot path, where resolving is one `GET`.
#[derive(Clone)]
pub struct SessionStore {
    redis: Redis,
    key_prefix: String,
    ttl: Duration,
    max_per_user: usize,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStore")
            .field("key_prefix", &self.key_prefix)
            .field("ttl", &self.ttl)
            .field("max_per_user", &self.max_per_user)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    /// `ttl` is rounded up to whole seconds (Redis `EX`), at least one. Users hold at most
    /// [`DEFAULT_MAX_PER_USER`] sessions; see [`SessionStore::with_max_per_user`].
    pub fn new(redis: Redis, key_prefix: impl Into<String>, ttl: Duration) -> Self {
        let seconds = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        Self {
            redis,
            key_prefix: key_prefix.into(),
            ttl: Duration::from_secs(seconds.max(1)),
            max_per_user: DEFAULT_MAX_PER_USER,
        }
    }

    /// The same store, capping each user at `max` sessions (at least one): a login beyond it
    /// revokes the user's oldest sessions. Only the issuer (identity) needs it; resolving is
    /// unaffected.
    pub fn with_max_per_user(self, max: usize) -> Self {
        Self {
            max_per_user: max.max(1),
            ..self
        }
    }

    /// The lifetime of new sessions, in whole seconds.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The Redis key of `token`'s session (whether or not it exists).
    pub fn key(&self, token: &str) -> String {
        format!("{}session:{}", self.key_prefix, token::digest(token))
    }

    /// The Redis key of `user_id`'s index of sessions: a sorted set of their session keys.
    pub fn index_key(&self, user_id: &UserId) -> String {
        format!("{}user-sessions:{}", self.key_prefix, user_id.as_str())
    }

    /// How many live sessions `user_id` holds.
    pub async fn count_of(&self, user_id: &UserId) -> Result<usize> {
        per_user::live_count(&self.redis, &self.index_key(user_id)).await
    }

    /// Opens a session for `user_id`: a new token, stored as its hash with `SET NX EX` and added to
    /// the user's index; the user's oldest sessions beyond the cap are revoked in the same step.
    pub async fn create(&self, user_id: &UserId) -> Result<NewSession> {
        let token = token::generate()?;
        // Milliseconds, as everywhere in the shop's API: what is stored is what clients are told.
        let created_at = Utc::now()
            .duration_trunc(TimeDelta::milliseconds(1))
            .unwrap_or_else(|_| Utc::now());
        let session = Session {
            user_id: user_id.clone(),
            session_id: ulid::Ulid::new().to_string().to_lowercase(),
            created_at,
            expires_at: created_at + TimeDelta::seconds(self.ttl_seconds()),
        };
        let key = self.key(&token);
        let value = serde_json::to_string(&session).map_err(|error| SessionError::Corrupt {
            key: key.clone(),
            reason: error.to_string(),
        })?;
        // NX inside: a session is never overwritten, however unlikely a second identical token is.
        let stored = per_user::store(
            &self.redis,
            &key,
            &self.index_key(user_id),
            value,
            self.ttl_seconds(),
            created_at.timestamp_millis(),
            self.max_per_user,
        )
        .await?;
        match stored {
            per_user::Stored::New { revoked } => Ok(NewSession {
                token,
                session,
                revoked,
            }),
            per_user::Stored::Collision => Err(SessionError::Collision),
        }
    }

    /// The live session `token` opens, if any: one `GET`. A malformed token is `None` without a
    /// round trip; so is a session past its `expiresAt` that Redis has not evicted yet.
    pub async fn resolve(&self, token: &str) -> Result<Option<Session>> {
        if !token::is_well_formed(token) {
            return Ok(None);
        }
        let key = self.key(token);
        let stored: Option<String> = self.redis.pool().get(&key).await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let session: Session =
            serde_json::from_str(&stored).map_err(|error| SessionError::Corrupt {
                key,
                reason: error.to_string(),
            })?;
        Ok((session.expires_at > Utc::now()).then_some(session))
    }

    /// Ends `token`'s session and takes it out of its user's index. `true` if there was one.
    pub async fn revoke(&self, token: &str) -> Result<bool> {
        if !token::is_well_formed(token) {
            return Ok(false);
        }
        // A value that is not a session is still deleted; its user (if any) cannot be named, and
        // the index drops the dangling key at that user's next login.
        per_user::remove(&self.redis, &self.key(token), |stored| {
            let session: Session = serde_json::from_str(stored).ok()?;
            Some(self.index_key(&session.user_id))
        })
        .await
    }

    fn ttl_seconds(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_sets_prefix_and_ttl_with_documented_defaults() -> Result<(), EnvError> {
        let defaults = Env::from_pairs::<_, &str, &str>([]);
        let set = Env::from_pairs([(PREFIX_VAR, "staging:"), (TTL_VAR, "3600")]);

        assert_eq!(key_prefix_from_env(&defaults)?, "");
        assert_eq!(ttl_from_env(&defaults)?, Duration::from_secs(86_400));
        assert_eq!(max_per_user_from_env(&defaults)?, 10);
        assert_eq!(
            max_per_user_from_env(&Env::from_pairs([(MAX_PER_USER_VAR, "3")]))?,
            3
        );
        assert_eq!(key_prefix_from_env(&set)?, "staging:");
        assert_eq!(ttl_from_env(&set)?, Duration::from_secs(3600));
        Ok(())
    }

    #[test]
    fn a_zero_or_malformed_ttl_is_an_error_naming_the_variable() {
        for value in ["0", "1h", "-5"] {
            let error = ttl_from_env(&Env::from_pairs([(TTL_VAR, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name, .. }) if name == TTL_VAR),
                "{value}: {error:?}"
            );
        }
    }

    #[test]
    fn a_cap_of_zero_sessions_is_an_error_naming_the_variable() {
        for value in ["0", "ten"] {
            let error = max_per_user_from_env(&Env::from_pairs([(MAX_PER_USER_VAR, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name, .. }) if name == MAX_PER_USER_VAR),
                "{value}: {error:?}"
            );
        }
    }

    #[test]
    fn a_session_is_stored_as_camel_case_json() -> serde_json::Result<()> {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap_or_default();
        let session = Session {
            user_id: UserId::parse("u1").unwrap_or_else(|error| panic!("{error}")),
            session_id: "s1".to_owned(),
            created_at: at,
            expires_at: at + TimeDelta::seconds(60),
        };

        let json = serde_json::to_value(&session)?;

        assert_eq!(
            json,
            serde_json::json!({
                "userId": "u1",
                "sessionId": "s1",
                "createdAt": "2023-11-14T22:13:20.000Z",
                "expiresAt": "2023-11-14T22:14:20.000Z",
            })
        );
        assert_eq!(serde_json::from_value::<Session>(json)?, session);
        Ok(())
    }
}
