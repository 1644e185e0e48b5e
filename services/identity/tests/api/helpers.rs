//! `spawn_app()` for the health tests, and `TestIdentity`: the application on its own database,
//! streams and session prefix, typed requests to it, and readers of what it wrote.

use std::time::Duration;

use bson::{Document, doc};
use identity::{
    Application, Config, ConsumerTuning, HashingLimits, IdentityRecord, ThrottleLimit,
    ThrottleSettings,
};
use mongodb::Collection;
use reqwest::Response;
use secrecy::SecretString;
use serde_json::{Value, json};
use shop_domain::events::OrderCreated;
use shop_sessions::SessionStore;
use shop_streams::{Event, Fields, Publisher, Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

pub use shop_testkit::eventually;

/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery";

/// A configuration pointing at the test servers, with a database, streams and session keys no
/// other test uses, and retries fast enough for a test.
pub fn test_config() -> Config {
    let prefix = format!("{}:", shop_testkit::unique_name("s"));
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("identity"),
        streams: StreamNames::with_prefix(&prefix),
        stream_max_len: 10_000,
        session_ttl: Duration::from_secs(3600),
        session_prefix: prefix,
        max_sessions_per_user: 10,
        // Low thresholds and short blocks, so a test reaches and waits out a block quickly.
        throttle: ThrottleSettings {
            window: Duration::from_secs(60),
            base_delay: Duration::from_secs(1),
            account: ThrottleLimit {
                failures: 3,
                max_delay: Duration::from_secs(2),
            },
            client: ThrottleLimit {
                failures: 6,
                max_delay: Duration::from_secs(2),
            },
        },
        hashing: HashingLimits::per_core(),
        consumer: ConsumerTuning {
            concurrency: 8,
            ..ConsumerTuning::fast_retries()
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config)
        .await
        .unwrap_or_else(|error| panic!("building the app: {error:#}"));
    TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped())
}

/// A unique email, so tests never meet each other's accounts.
pub fn email() -> String {
    format!("{}@example.com", shop_testkit::unique_name("user"))
}

/// Where a login comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub ip: &'a str,
    pub agent: &'a str,
}

pub const LAPTOP: Origin<'static> = Origin {
    ip: "203.0.113.7",
    agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
};

pub const PHONE_ELSEWHERE: Origin<'static> = Origin {
    ip: "198.51.100.23",
    agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1",
};

/// One test's identity service and its surroundings.
#[derive(Debug)]
pub struct TestIdentity {
    pub app: TestApp,
    pub config: Config,
    pub redis: Redis,
    /// The store the gateway would resolve tokens with: same Redis, same prefix.
    pub sessions: SessionStore,
    pub records: Collection<Document>,
    pub users: Collection<Document>,
    publisher: Publisher,
}

impl TestIdentity {
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
        let db = config
            .mongo
            .connect("identity-tests")
            .await
            .unwrap_or_else(|error| panic!("configuring MongoDB: {error}"));
        Self {
            app: spawn_app_with(config.clone()).await,
            sessions: SessionStore::new(
                redis.clone(),
                config.session_prefix.clone(),
                config.session_ttl,
            ),
            records: db.collection("identity_records"),
            users: db.collection("users"),
            publisher: Publisher::new(redis.clone(), 10_000),
            redis,
            config,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.app
            .client
            .post(format!("{}{path}", self.app.address))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Response {
        self.post(
            "/api/auth/register",
            &json!({ "email": email, "password": password, "name": name }),
        )
        .await
    }

    /// Registers an account with [`PASSWORD`]; returns its user id.
    pub async fn registered(&self, email: &str) -> String {
        let response = self.register(email, PASSWORD, "Ada Lovelace").await;
        assert_eq!(response.status(), 201, "registering {email}");
        let body: Value = json_body(response).await;
        body["userId"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn login(&self, email: &str, password: &str, from: Origin<'_>) -> Response {
        self.app
            .client
            .post(format!("{}/api/auth/login", self.app.address))
            .header("x-forwarded-for", format!("{}, 10.0.0.2", from.ip))
            .header("user-agent", from.agent)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/auth/login: {error}"))
    }

    /// Logs in with [`PASSWORD`]; returns the token.
    pub async fn logged_in(&self, email: &str, from: Origin<'_>) -> String {
        let response = self.login(email, PASSWORD, from).await;
        assert_eq!(response.status(), 200, "logging in {email}");
        let body: Value = json_body(response).await;
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn logout(&self, token: Option<&str>) -> Response {
        let mut request = self
            .app
            .client
            .post(format!("{}/api/auth/logout", self.app.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/auth/logout: {error}"))
    }

    pub async fn me(&self, user_id: Option<&str>) -> Response {
        let mut request = self.app.client.get(format!("{}/api/me", self.app.address));
        if let Some(user_id) = user_id {
            request = request.header("x-user-id", user_id);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/me: {error}"))
    }

    /// The session id behind a token, as the gateway would see it.
    pub async fn session_id(&self, token: &str) -> String {
        self.sessions
            .resolve(token)
            .await
            .unwrap_or_else(|error| panic!("resolving a token: {error}"))
            .map(|session| session.session_id)
            .unwrap_or_else(|| panic!("the token resolves to no session"))
    }

    /// Waits for the identity record `id` and returns it.
    pub async fn record(&self, id: &str) -> Document {
        eventually(&format!("the identity record {id}"), || async {
            self.records
                .find_one(doc! { "_id": id })
                .await
                .unwrap_or_else(|error| panic!("reading {id}: {error}"))
        })
        .await
    }

    /// Logs in and waits for the login's record; returns the token and the record.
    pub async fn recorded_login(&self, email: &str, from: Origin<'_>) -> (String, Document) {
        let token = self.logged_in(email, from).await;
        let id = IdentityRecord::login_id(&self.session_id(&token).await);
        (token, self.record(&id).await)
    }

    pub async fn records_of(&self, user_id: &str) -> u64 {
        self.records
            .count_documents(doc! { "userId": user_id })
            .await
            .unwrap_or_else(|error| panic!("counting records: {error}"))
    }

    /// Publishes `order` to the test's orders stream, as `orders` would.
    pub async fn publish_order(&self, order: &OrderCreated) {
        self.publish(&self.config.streams.orders, order.to_fields())
            .await;
    }

    pub async fn publish(&self, stream: &str, fields: Fields) {
        self.publisher
            .publish_fields(stream, fields)
            .await
            .unwrap_or_else(|error| panic!("publishing to {stream}: {error}"));
    }

    /// Every entry of the test's identity stream.
    pub async fn identity_entries(&self) -> Vec<Fields> {
        let stream = &self.config.streams.identity;
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        self.app
            .get("/metrics")
            .await
            .text()
            .await
            .unwrap_or_default()
    }
}

/// The value of the counter `name` (a whole line `name value` in the exposition), 0 when absent.
pub fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

pub async fn json_body(response: Response) -> Value {
    response
        .json()
        .await
        .unwrap_or_else(|error| panic!("a JSON body: {error}"))
}
