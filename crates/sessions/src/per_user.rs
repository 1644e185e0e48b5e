//! The per-user index of sessions, which caps how many one user holds: a sorted set of the user's
//! session keys by creation order, updated in the same Lua script that stores a new session, so
//! concurrent logins can never leave a user above the cap.

use fred::prelude::{ClientLike, KeysInterface, SortedSetsInterface};
use fred::types::Value;
use shop_streams::Redis;

use crate::Result;

/// `SESSION_MAX_PER_USER` when unset: the sessions one user may hold at once.
pub const DEFAULT_MAX_PER_USER: usize = 10;

/// The variable holding the cap of sessions per user (default [`DEFAULT_MAX_PER_USER`]).
pub const MAX_PER_USER_VAR: &str = "SESSION_MAX_PER_USER";

/// Stores a session and indexes it under its user, then revokes the user's oldest sessions beyond
/// the cap. One script, so one atomic step: no login can see the index between the two.
///
/// KEYS: the session key, the user's index. ARGV: the session JSON, its TTL in seconds, the
/// creation time in milliseconds, the cap. Returns -1 when the session key already existed
/// (nothing written), else how many older sessions were revoked.
///
/// Members are the session keys themselves, so the script touches keys it was not passed in
/// KEYS: fine on the one Redis the shop runs on, not on Redis Cluster (where the index and its
/// sessions would need a common hash tag).
///
/// A member whose key is gone (expired, or revoked by a logout that could not clean the index)
/// is dropped before counting, so only live sessions count against the cap. The score is the
/// creation time, forced above the newest member's, so scripts run in the order of their scores
/// and the session this script stores is never the one it revokes.
const CREATE_SCRIPT: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return -1
end
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', member) == 0 then
    redis.call('ZREM', KEYS[2], member)
  end
end
local score = tonumber(ARGV[3])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then
  score = tonumber(newest[2]) + 1
end
redis.call('ZADD', KEYS[2], score, KEYS[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
local revoked = 0
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], excess)
  for i = 1, #oldest, 2 do
    revoked = revoked + redis.call('DEL', oldest[i])
  end
end
return revoked
";

/// What [`store`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Written; this many of the user's older sessions were revoked to stay within the cap.
    New { revoked: u64 },
    /// A session already had this key: nothing was written.
    Collision,
}

/// Runs [`CREATE_SCRIPT`]. The index expires with the newest session (its TTL is renewed on
/// every login), so an idle user's index does not outlive their sessions.
pub(crate) async fn store(
    redis: &Redis,
    session_key: &str,
    index_key: &str,
    value: String,
    ttl_seconds: i64,
    created_at_millis: i64,
    max_per_user: usize,
) -> Result<Stored> {
    let args: Vec<Value> = vec![
        CREATE_SCRIPT.into(),
        2.into(),
        session_key.into(),
        index_key.into(),
        value.into(),
        ttl_seconds.into(),
        created_at_millis.into(),
        i64::try_from(max_per_user).unwrap_or(i64::MAX).into(),
    ];
    let answer: i64 = redis.pool().custom(fred::cmd!("EVAL"), args).await?;
    Ok(match u64::try_from(answer) {
        Ok(revoked) => Stored::New { revoked },
        Err(_) => Stored::Collision,
    })
}

/// Deletes a session and takes it out of its user's index. `true` if there was one.
///
/// `GETDEL` first (it names the user), then `ZREM`: if the second step is lost, the next login's
/// script drops the dangling member anyway, so the index cannot fill up with dead sessions.
pub(crate) async fn remove(
    redis: &Redis,
    session_key: &str,
    index_key_of: impl FnOnce(&str) -> Option<String>,
) -> Result<bool> {
    let stored: Option<String> = redis.pool().getdel(session_key).await?;
    let Some(stored) = stored else {
        return Ok(false);
    };
    if let Some(index_key) = index_key_of(&stored) {
        let _: u64 = redis.pool().zrem(index_key, session_key).await?;
    }
    Ok(true)
}

/// How many live sessions the index of a user lists (members whose key still exists).
pub(crate) async fn live_count(redis: &Redis, index_key: &str) -> Result<usize> {
    let members: Vec<String> = redis
        .pool()
        .zrange(index_key, 0, -1, None, false, None, false)
        .await?;
    let mut live = 0;
    for member in members {
        let exists: u64 = redis.pool().exists(member).await?;
        live += usize::from(exists > 0);
    }
    Ok(live)
}
