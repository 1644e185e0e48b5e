//! Failed-login throttling per account and per client, with exponential backoff, in Redis so every
//! identity replica shares it. A throttled attempt is refused before anything is looked up or
//! hashed: it costs one Redis round trip.
//!
//! Each key (an account: the SHA-256 of the email's normal form; a client: its IPv4 address or
//! its IPv6 /64) has a failure count that expires `window` after its last counted attempt, and a
//! block that expires on its own. The gate counts an attempt **before** its password is checked
//! (pessimistically: as a failure), so a burst of concurrent guesses is cut at the threshold
//! rather than after all of them were hashed; a success, or an attempt that was never answered
//! (shed, a broken dependency), gives it back.

use std::net::IpAddr;
use std::time::Duration;

use fred::prelude::ClientLike;
use fred::types::Value;
use sha2::{Digest, Sha256};
use shop_config::{Env, EnvError};
use shop_streams::Redis;

/// The gate, atomic: refuse while either key is blocked (answering the longer wait, in ms);
/// otherwise count the attempt on both and, where a count reaches its threshold, block that key
/// for `base · 2^(count − threshold)`, capped. Throttled attempts are not counted, so waiting
/// out a block is all it takes to be let through again.
///
/// KEYS: account count, account block, client count, client block. ARGV: window ms, base delay
/// ms, account threshold, account cap ms, client threshold, client cap ms.
const GATE_SCRIPT: &str = r"
local wait = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[4]))
if wait > 0 then
  return wait
end
for i = 0, 1 do
  local count_key, block_key = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  local threshold, cap = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local count = redis.call('INCR', count_key)
  redis.call('PEXPIRE', count_key, ARGV[1])
  if count >= threshold then
    local delay = tonumber(ARGV[2]) * 2 ^ math.min(count - threshold, 40)
    redis.call('SET', block_key, count, 'PX', math.floor(math.max(1, math.min(delay, cap))))
  end
end
return 0
";

/// Settling an admitted attempt, atomic. `success` clears the account (a user who proved the
/// password starts afresh) and gives the client its attempt back; `release` gives both their
/// attempt back. A key whose count falls below its threshold loses the block that count set.
///
/// KEYS as for the gate. ARGV: `success` or `release`, account threshold, client threshold.
const SETTLE_SCRIPT: &str = r"
local function give_back(count_key, block_key, threshold)
  local count = tonumber(redis.call('GET', count_key) or '0')
  if count > 0 then
    count = redis.call('DECR', count_key)
  end
  if count < threshold then
    redis.call('DEL', block_key)
  end
end
if ARGV[1] == 'success' then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  give_back(KEYS[1], KEYS[2], tonumber(ARGV[2]))
end
give_back(KEYS[3], KEYS[4], tonumber(ARGV[3]))
return 0
";

/// One kind of key's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimit {
    /// Failures within the window before the key is blocked (at least 1).
    pub failures: u32,
    /// The longest block one failure can cause.
    pub max_delay: Duration,
}

/// How failed logins are throttled (`LOGIN_THROTTLE_*`).
///
/// The account's cap is short on purpose: anyone can fail logins for someone else's email, so a
/// long account block would let an attacker lock a real user out cheaply. With a 60 s cap, keeping
/// an account blocked costs a fresh failure every minute, forever, and buys at most one guess a
/// minute. The client's cap is long: a client is the attacker's own address (or /64), and blocking
/// it hurts no one else, except the other users of a shared address, which is why its threshold
/// is higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// `LOGIN_THROTTLE_WINDOW_SECS`, default 900: a count is forgotten this long after its last
    /// counted attempt.
    pub window: Duration,
    /// `LOGIN_THROTTLE_BASE_DELAY_MS`, default 1000: the first block; each further failure doubles it.
    pub base_delay: Duration,
    /// `LOGIN_THROTTLE_ACCOUNT_FAILURES` (default 5), `LOGIN_THROTTLE_ACCOUNT_MAX_DELAY_SECS`
    /// (default 60).
    pub account: ThrottleLimit,
    /// `LOGIN_THROTTLE_CLIENT_FAILURES` (default 20), `LOGIN_THROTTLE_CLIENT_MAX_DELAY_SECS`
    /// (default 900).
    pub client: ThrottleLimit,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(900),
            base_delay: Duration::from_secs(1),
            account: ThrottleLimit {
                failures: 5,
                max_delay: Duration::from_secs(60),
            },
            client: ThrottleLimit {
                failures: 20,
                max_delay: Duration::from_secs(900),
            },
        }
    }
}

impl ThrottleSettings {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let defaults = Self::default();
        let secs = |name: &str, default: Duration| -> Result<Duration, EnvError> {
            env.or(name, default.as_secs()).map(Duration::from_secs)
        };
        let failures = |name: &str, default: u32| -> Result<u32, EnvError> {
            let failures = env.or(name, default)?;
            if failures == 0 {
                return Err(EnvError::Invalid {
                    name: name.to_owned(),
                    value: "0".to_owned(),
                    reason: "at least one failure must be allowed".to_owned(),
                });
            }
            Ok(failures)
        };
        Ok(Self {
            window: secs("LOGIN_THROTTLE_WINDOW_SECS", defaults.window)?,
            base_delay: env
                .millis_or("LOGIN_THROTTLE_BASE_DELAY_MS", defaults.base_delay)?
                .max(Duration::from_millis(1)),
            account: ThrottleLimit {
                failures: failures("LOGIN_THROTTLE_ACCOUNT_FAILURES", defaults.account.failures)?,
                max_delay: secs(
                    "LOGIN_THROTTLE_ACCOUNT_MAX_DELAY_SECS",
                    defaults.account.max_delay,
                )?,
            },
            client: ThrottleLimit {
                failures: failures("LOGIN_THROTTLE_CLIENT_FAILURES", defaults.client.failures)?,
                max_delay: secs(
                    "LOGIN_THROTTLE_CLIENT_MAX_DELAY_SECS",
                    defaults.client.max_delay,
                )?,
            },
        })
    }
}

/// What the gate said.
#[derive(Debug)]
pub enum Admission {
    /// Counted; settle it with [`LoginThrottle::succeeded`] or [`LoginThrottle::release`], or
    /// leave it counted (a failure).
    Admitted(Attempt),
    /// Blocked for this long (at least a millisecond).
    Refused { retry_after: Duration },
}

/// An admitted attempt: the keys it was counted on.
#[derive(Debug, Clone)]
pub struct Attempt {
    keys: [String; 4],
}

/// The throttle over Redis. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    redis: Redis,
    key_prefix: String,
    settings: ThrottleSettings,
}

impl LoginThrottle {
    /// Keys are `<key_prefix>login-throttle:{account,client}:<key>:{failures,blocked}`.
    pub fn new(redis: Redis, key_prefix: impl Into<String>, settings: ThrottleSettings) -> Self {
        Self {
            redis,
            key_prefix: key_prefix.into(),
            settings,
        }
    }

    /// Counts a login for the account `email_key` (its normal form) from the client `ip`, or
    /// says how long both must wait.
    pub async fn admit(&self, email_key: &str, ip: &str) -> Result<Admission, fred::error::Error> {
        let account = hex::encode(Sha256::digest(email_key.as_bytes()));
        let client = client_bucket(ip);
        let key = |kind: &str, id: &str, what: &str| {
            format!("{}login-throttle:{kind}:{id}:{what}", self.key_prefix)
        };
        let keys = [
            key("account", &account, "failures"),
            key("account", &account, "blocked"),
            key("client", &client, "failures"),
            key("client", &client, "blocked"),
        ];
        let s = &self.settings;
        let wait: i64 = self
            .eval(
                GATE_SCRIPT,
                &keys,
                [
                    millis(s.window),
                    millis(s.base_delay),
                    i64::from(s.account.failures),
                    millis(s.account.max_delay),
                    i64::from(s.client.failures),
                    millis(s.client.max_delay),
                ]
                .map(Value::from),
            )
            .await?;
        Ok(match u64::try_from(wait) {
            Ok(wait) if wait > 0 => Admission::Refused {
                retry_after: Duration::from_millis(wait),
            },
            _ => Admission::Admitted(Attempt { keys }),
        })
    }

    /// The password was right: the account starts afresh, the client gets its attempt back.
    pub async fn succeeded(&self, attempt: &Attempt) -> Result<(), fred::error::Error> {
        self.settle(attempt, "success").await
    }

    /// The attempt was never answered (shed, a dependency failed): it does not count.
    pub async fn release(&self, attempt: &Attempt) -> Result<(), fred::error::Error> {
        self.settle(attempt, "release").await
    }

    async fn settle(&self, attempt: &Attempt, how: &str) -> Result<(), fred::error::Error> {
        let s = &self.settings;
        let _: i64 = self
            .eval(
                SETTLE_SCRIPT,
                &attempt.keys,
                [
                    Value::from(how),
                    i64::from(s.account.failures).into(),
                    i64::from(s.client.failures).into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn eval<const N: usize>(
        &self,
        script: &str,
        keys: &[String; 4],
        args: [Value; N],
    ) -> Result<i64, fred::error::Error> {
        let mut command: Vec<Value> = Vec::with_capacity(2 + keys.len() + N);
        command.push(script.into());
        command.push(Value::from(4_i64));
        command.extend(keys.iter().map(|key| Value::from(key.as_str())));
        command.extend(args);
        self.redis.pool().custom(fred::cmd!("EVAL"), command).await
    }
}

/// Whole seconds to wait, rounded up and at least 1: `Retry-After: 0` would invite a retry that is
/// refused again.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The client a login is counted against: an IPv4 address as it is, an IPv6 address by its /64
/// (one subscriber's network: rotating addresses inside it does not escape the count), anything
/// else by a hash of what was sent, so a key stays short whatever the header held.
pub fn client_bucket(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => format!("ip4:{v4}"),
        Ok(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("ip6:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Err(_) => format!(
            "other:{}",
            &hex::encode(Sha256::digest(ip.as_bytes()))[..32]
        ),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_ones_stand_alone() {
        assert_eq!(client_bucket("203.0.113.7"), "ip4:203.0.113.7");
        assert_ne!(client_bucket("203.0.113.7"), client_bucket("203.0.113.8"));
        assert_eq!(client_bucket("2001:db8:1:2::1"), "ip6:2001:db8:1:2::/64");
        assert_eq!(
            client_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            client_bucket("2001:db8:1:2::1")
        );
        assert_ne!(
            client_bucket("2001:db8:1:3::1"),
            client_bucket("2001:db8:1:2::1")
        );
        assert_eq!(client_bucket("::ffff:10.0.0.1"), "ip4:10.0.0.1");
        let junk = client_bucket(&"x".repeat(10_000));
        assert!(junk.starts_with("other:") && junk.len() == 38, "{junk}");
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn settings_come_from_the_environment_with_documented_defaults() -> Result<(), EnvError> {
        let defaults = ThrottleSettings::from_env(&Env::from_pairs::<_, &str, &str>([]))?;
        let set = ThrottleSettings::from_env(&Env::from_pairs([
            ("LOGIN_THROTTLE_WINDOW_SECS", "60"),
            ("LOGIN_THROTTLE_BASE_DELAY_MS", "250"),
            ("LOGIN_THROTTLE_ACCOUNT_FAILURES", "3"),
            ("LOGIN_THROTTLE_ACCOUNT_MAX_DELAY_SECS", "10"),
            ("LOGIN_THROTTLE_CLIENT_FAILURES", "7"),
            ("LOGIN_THROTTLE_CLIENT_MAX_DELAY_SECS", "120"),
        ]))?;

        assert_eq!(defaults, ThrottleSettings::default());
        assert_eq!(defaults.account.failures, 5);
        assert_eq!(defaults.account.max_delay, Duration::from_secs(60));
        assert_eq!(defaults.client.failures, 20);
        assert_eq!(defaults.client.max_delay, Duration::from_secs(900));
        assert_eq!(
            set,
            ThrottleSettings {
                window: Duration::from_secs(60),
                base_delay: Duration::from_millis(250),
                account: ThrottleLimit {
                    failures: 3,
                    max_delay: Duration::from_secs(10)
                },
                client: ThrottleLimit {
                    failures: 7,
                    max_delay: Duration::from_secs(120)
                },
            }
        );
        for name in [
            "LOGIN_THROTTLE_ACCOUNT_FAILURES",
            "LOGIN_THROTTLE_CLIENT_FAILURES",
        ] {
            let error = ThrottleSettings::from_env(&Env::from_pairs([(name, "0")])).err();
            assert!(
                matches!(&error, Some(EnvError::Invalid { name: got, .. }) if got == name),
                "{name}: {error:?}"
            );
        }
        Ok(())
    }
}
