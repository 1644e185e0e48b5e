//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_mongo::MongoSettings;

/// The port of `identity` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8085;

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8085`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `identity`.
    pub mongo: MongoSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_source(&Env::process())
    }

    pub fn from_source(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind_addr: env.bind_addr(DEFAULT_PORT)?,
            redis_url: env.redis_url()?,
            mongo: MongoSettings::from_env(env, "identity")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_port_plan_and_own_database() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs::<_, &str, &str>([]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8085)));
        assert_eq!(config.mongo.database, "identity");
        Ok(())
    }
}
