#![doc = include_str!("../README.md")]

mod errors;

pub use errors::{DUPLICATE_KEY, is_duplicate_key};

use std::time::Duration;

use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use secrecy::{ExposeSecret, SecretString};
use shop_config::{Env, EnvError};
use shop_http::ReadinessCheck;

/// `MONGODB_URI` when unset: a local server, as in development.
pub const DEFAULT_URI: &str = "mongodb://127.0.0.1:27017";

/// `MONGODB_SERVER_SELECTION_TIMEOUT_MS` when unset. The driver's own default is 30 s, which turns a
/// MongoDB outage into requests hanging for 30 s; 5 s still rides out a replica-set election.
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a service's database is and how long to wait for it. Fields are public so tests build one.
#[derive(Debug, Clone)]
pub struct MongoSettings {
    /// `MONGODB_URI`. Secret: it may carry credentials.
    pub uri: SecretString,
    /// `MONGODB_DATABASE`, by default the service's own database.
    pub database: String,
    /// `MONGODB_SERVER_SELECTION_TIMEOUT_MS`. Overrides a `serverSelectionTimeoutMS` in the URI, so one
    /// variable decides how fast a MongoDB outage turns into errors.
    pub server_selection_timeout: Duration,
}

impl MongoSettings {
    /// Reads the `MONGODB_*` variables; `default_database` is used when `MONGODB_DATABASE` is unset.
    pub fn from_env(env: &Env, default_database: &str) -> Result<Self, EnvError> {
        Ok(Self {
            uri: env.secret_or("MONGODB_URI", DEFAULT_URI)?,
            database: env.or("MONGODB_DATABASE", default_database.to_owned())?,
            server_selection_timeout: env.millis_or(
                "MONGODB_SERVER_SELECTION_TIMEOUT_MS",
                DEFAULT_SERVER_SELECTION_TIMEOUT,
            )?,
        })
    }

    /// The configured database on a new client named `app_name` (shown in server logs). The client
    /// connects lazily: this fails only on an invalid URI (or, for `mongodb+srv`, a failed DNS lookup).
    pub async fn connect(&self, app_name: &str) -> Result<Database, mongodb::error::Error> {
        let mut options = ClientOptions::parse(self.uri.expose_secret()).await?;
        options.server_selection_timeout = Some(self.server_selection_timeout);
        options.app_name = Some(app_name.to_owned());
        Ok(Client::with_options(options)?.database(&self.database))
    }
}

/// `"mongodb"`: the `ping` command against the service's database. The readiness timeout cuts it short
/// either way; a server selection timeout below it gets the driver's reason logged.
pub fn readiness_check(db: Database) -> ReadinessCheck {
    ReadinessCheck::new("mongodb", move || {
        let db = db.clone();
        async move {
            db.run_command(mongodb::bson::doc! { "ping": 1 })
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> MongoSettings {
        MongoSettings::from_env(&Env::from_pairs(pairs.iter().copied()), "orders")
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn defaults_are_a_local_server_and_the_given_database() {
        let settings = settings(&[]);

        assert_eq!(settings.uri.expose_secret(), "mongodb://127.0.0.1:27017");
        assert_eq!(settings.database, "orders");
        assert_eq!(settings.server_selection_timeout, Duration::from_secs(5));
    }

    #[test]
    fn variables_override_the_defaults() {
        let settings = settings(&[
            ("MONGODB_URI", "mongodb://db:27017/?replicaSet=rs0"),
            ("MONGODB_DATABASE", "orders_test"),
            ("MONGODB_SERVER_SELECTION_TIMEOUT_MS", "250"),
        ]);

        assert_eq!(
            settings.uri.expose_secret(),
            "mongodb://db:27017/?replicaSet=rs0"
        );
        assert_eq!(settings.database, "orders_test");
        assert_eq!(
            settings.server_selection_timeout,
            Duration::from_millis(250)
        );
    }

    #[test]
    fn a_malformed_timeout_is_an_error_naming_the_variable() {
        let env = Env::from_pairs([("MONGODB_SERVER_SELECTION_TIMEOUT_MS", "5s")]);

        let error = MongoSettings::from_env(&env, "orders").err();

        assert!(
            matches!(&error, Some(EnvError::Invalid { name, .. }) if name == "MONGODB_SERVER_SELECTION_TIMEOUT_MS"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn connect_is_lazy_and_names_the_database() {
        // Port 1 has no server: connecting must still succeed, because nothing is contacted yet.
        let settings = settings(&[("MONGODB_URI", "mongodb://127.0.0.1:1/")]);

        let db = settings.connect("orders").await;

        assert_eq!(
            db.map(|db| db.name().to_owned()).ok().as_deref(),
            Some("orders")
        );
    }

    #[tokio::test]
    async fn connect_rejects_a_uri_that_is_not_mongodb() {
        let settings = settings(&[("MONGODB_URI", "postgres://127.0.0.1/")]);

        assert!(settings.connect("orders").await.is_err());
    }
}
