#![doc = include_str!("../README.md")]

use std::collections::HashMap;
use std::env::VarError;
use std::fmt::Display;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

/// `REDIS_URL` when unset: a local server, as in development.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A variable that could not be turned into the value a service needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{name} is required but not set")]
    Missing { name: String },
    #[error("{name} is not valid unicode")]
    NotUnicode { name: String },
    #[error("{name}={value:?}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

/// Where variables come from: the process environment, or a fixed map (tests).
#[derive(Debug, Clone, Default)]
pub struct Env {
    fixed: Option<HashMap<String, String>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self { fixed: None }
    }

    /// Exactly these variables and no others.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let fixed = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self { fixed: Some(fixed) }
    }

    /// The raw value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Result<Option<String>, EnvError> {
        let value = match &self.fixed {
            Some(fixed) => fixed.get(name).cloned(),
            None => match std::env::var(name) {
                Ok(value) => Some(value),
                Err(VarError::NotPresent) => None,
                Err(VarError::NotUnicode(_)) => {
                    return Err(EnvError::NotUnicode {
                        name: name.to_owned(),
                    });
                }
            },
        };
        Ok(value.filter(|value| !value.is_empty()))
    }

    /// The variable parsed as `T`, or `default` when unset.
    pub fn or<T>(&self, name: &str, default: T) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name)? {
            Some(raw) => parse(name, raw),
            None => Ok(default),
        }
    }

    /// The variable parsed as `T`; unset is an error.
    pub fn required<T>(&self, name: &str) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name)? {
            Some(raw) => parse(name, raw),
            None => Err(EnvError::Missing {
                name: name.to_owned(),
            }),
        }
    }

    /// A secret (a URL with a password, a key), or `default` when unset.
    pub fn secret_or(&self, name: &str, default: &str) -> Result<SecretString, EnvError> {
        Ok(SecretString::from(
            self.get(name)?.unwrap_or_else(|| default.to_owned()),
        ))
    }

    /// `BIND_ADDR`, the listen address every service reads; by default all interfaces on
    /// `default_port`, the service's port in the shop's port plan. Port 0 picks a free port (tests).
    pub fn bind_addr(&self, default_port: u16) -> Result<SocketAddr, EnvError> {
        self.or(
            "BIND_ADDR",
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, default_port)),
        )
    }

    /// `REDIS_URL`, by default [`DEFAULT_REDIS_URL`]. Secret: it may carry a password.
    pub fn redis_url(&self) -> Result<SecretString, EnvError> {
        self.secret_or("REDIS_URL", DEFAULT_REDIS_URL)
    }

    /// A duration given in whole milliseconds (`MONGODB_SERVER_SELECTION_TIMEOUT_MS=2000`).
    pub fn millis_or(&self, name: &str, default: Duration) -> Result<Duration, EnvError> {
        match self.get(name)? {
            Some(raw) => parse::<u64>(name, raw).map(Duration::from_millis),
            None => Ok(default),
        }
    }
}

fn parse<T>(name: &str, raw: String) -> Result<T, EnvError>
where
    T: FromStr,
    T::Err: Display,
{
    raw.trim()
        .parse()
        .map_err(|error: T::Err| EnvError::Invalid {
            name: name.to_owned(),
            reason: error.to_string(),
            value: raw,
        })
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn unset_and_empty_variables_take_the_default() {
        let env = Env::from_pairs([("EMPTY", "")]);

        assert_eq!(env.or("UNSET", 7_u16), Ok(7));
        assert_eq!(env.or("EMPTY", 7_u16), Ok(7));
        assert_eq!(
            env.secret_or("EMPTY", "dflt")
                .map(|s| s.expose_secret().to_owned()),
            Ok("dflt".into())
        );
    }

    #[test]
    fn a_set_variable_is_parsed_into_its_type() {
        let env = Env::from_pairs([("BIND_ADDR", "127.0.0.1:9000"), ("TIMEOUT_MS", "250")]);

        let addr: SocketAddr = env
            .or("BIND_ADDR", SocketAddr::from(([0, 0, 0, 0], 1)))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(addr.port(), 9000);
        assert_eq!(
            env.millis_or("TIMEOUT_MS", Duration::ZERO),
            Ok(Duration::from_millis(250))
        );
    }

    #[test]
    fn a_parse_error_names_the_variable_and_its_value() {
        let env = Env::from_pairs([("BIND_ADDR", "localhost")]);

        let error = env
            .or("BIND_ADDR", SocketAddr::from(([0, 0, 0, 0], 1)))
            .err();

        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("BIND_ADDR=\"localhost\": "),
            "{message}"
        );
    }

    #[test]
    fn bind_addr_and_redis_url_default_to_all_interfaces_and_a_local_redis() {
        let env = Env::from_pairs::<_, &str, &str>([]);

        assert_eq!(
            env.bind_addr(8081),
            Ok(SocketAddr::from(([0, 0, 0, 0], 8081)))
        );
        assert_eq!(
            env.redis_url().map(|url| url.expose_secret().to_owned()),
            Ok("redis://127.0.0.1:6379".into())
        );
    }

    #[test]
    fn bind_addr_and_redis_url_are_read_from_their_variables() {
        let env = Env::from_pairs([
            ("BIND_ADDR", "127.0.0.1:0"),
            ("REDIS_URL", "redis://cache:6379"),
        ]);

        assert_eq!(
            env.bind_addr(8081),
            Ok(SocketAddr::from(([127, 0, 0, 1], 0)))
        );
        assert_eq!(
            env.redis_url().map(|url| url.expose_secret().to_owned()),
            Ok("redis://cache:6379".into())
        );
    }

    #[test]
    fn a_missing_required_variable_is_an_error_naming_it() {
        let env = Env::from_pairs::<_, &str, &str>([]);

        assert_eq!(
            env.required::<String>("SESSION_KEY"),
            Err(EnvError::Missing {
                name: "SESSION_KEY".into()
            })
        );
    }
}
