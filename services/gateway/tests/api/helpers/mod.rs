//! The gateway as these tests run it: in-process on port 0 against the test Redis, with a session
//! and stream prefix no other test uses, in front of stand-in services (`stand_in.rs`).

mod redis_link;
mod stand_in;

use std::time::Duration;

use fred::prelude::{ClientLike, StreamsInterface};
use gateway::{AllowedOrigins, Application, Config, UpstreamUrls};
use reqwest::{Method, RequestBuilder, Response, Url};
use secrecy::SecretString;
use serde_json::Value;
use shop_domain::UserId;
use shop_sessions::SessionStore;
use shop_streams::{Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp, closed_local_address};

pub use redis_link::RedisLink;
pub use stand_in::{Seen, StandIn, ready};

/// The operators' token of every test gateway.
pub const ADMIN_TOKEN: &str = "gw-7d2e9a4c1f6b8e3d5a0c7f2b9e4d1a6c8f3b5e0d2a7c9f4b";

/// A configuration pointing at the test Redis, with every upstream at `upstreams`, no rate limit,
/// and its own session and stream prefixes.
pub fn test_config(upstreams: UpstreamUrls) -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        upstreams,
        // Generous: the suite runs many servers at once on a small machine.
        upstream_timeout: Duration::from_secs(5),
        health_timeout: Duration::from_secs(1),
        rebuild_timeout: Duration::from_secs(5),
        body_limit: gateway::config::DEFAULT_BODY_LIMIT,
        connection_limits: shop_http::edge::ConnectionLimits {
            header_read_timeout: gateway::config::DEFAULT_HEADER_READ_TIMEOUT,
            per_peer: None,
        },
        rate_limit: None,
        trust_forwarded_for: false,
        cors_allowed_origins: AllowedOrigins::Any,
        ops_allowed_networks: gateway::config::OpsNetworks::Any,
        admin_token: SecretString::from(ADMIN_TOKEN),
        session_prefix: format!("{}:", shop_testkit::unique_name("gw")),
        streams: StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("s"))),
        stream_max_len: 10_000,
        cart_ttl: gateway::config::DEFAULT_CART_TTL,
        order_events_per_user: gateway::config::DEFAULT_ORDER_EVENTS_PER_USER,
    }
}

/// Where nothing listens: a service that is down.
pub async fn closed_url() -> Url {
    parse_url(&format!("http://{}", closed_local_address().await))
}

pub fn parse_url(raw: &str) -> Url {
    Url::parse(raw).unwrap_or_else(|error| panic!("{raw}: {error}"))
}

/// A running gateway and what a test needs to drive it.
#[derive(Debug)]
pub struct TestGateway {
    pub app: TestApp,
    pub config: Config,
    pub redis: Redis,
    /// The same session store the gateway reads, to open sessions as identity would.
    pub sessions: SessionStore,
}

impl TestGateway {
    /// The gateway with every upstream played by `stand_in`.
    pub async fn in_front_of(stand_in: &StandIn) -> Self {
        Self::spawn(test_config(UpstreamUrls::all_at(&stand_in.url))).await
    }

    pub async fn spawn(config: Config) -> Self {
        let app = Application::build(config.clone())
            .await
            .unwrap_or_else(|error| panic!("building the gateway: {error:#}"));
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
        let sessions = SessionStore::new(
            redis.clone(),
            config.session_prefix.clone(),
            Duration::from_secs(60),
        );
        Self {
            app: TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped()),
            config,
            redis,
            sessions,
        }
    }

    /// Opens a session for `user`, as identity does at login; returns its token.
    pub async fn login(&self, user: &str) -> String {
        let user = UserId::parse(user).unwrap_or_else(|error| panic!("{user}: {error}"));
        self.sessions
            .create(&user)
            .await
            .unwrap_or_else(|error| panic!("opening a session: {error}"))
            .token
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{path}", self.app.address))
    }

    pub async fn get(&self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// `method path` with `Authorization: Bearer <token>`.
    pub async fn call_as(&self, token: &str, method: Method, path: &str) -> Response {
        send(self.request(method, path).bearer_auth(token)).await
    }
}

pub async fn send(request: RequestBuilder) -> Response {
    request
        .send()
        .await
        .unwrap_or_else(|error| panic!("sending a request to the gateway: {error}"))
}

pub async fn body(response: Response) -> Value {
    response
        .json()
        .await
        .unwrap_or_else(|error| panic!("a JSON body: {error}"))
}

/// Asserts a shop error response made by the gateway: the status, `{"error":{"code","message"}}`
/// with `code`, and an `x-request-id`. Returns the message.
pub async fn assert_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of a {code} error");
    assert!(
        response.headers().contains_key("x-request-id"),
        "{code} without x-request-id"
    );
    let body = body(response).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

/// `XADD stream * fields...` on the test Redis; returns the entry id.
pub async fn xadd(gateway: &TestGateway, stream: &str, fields: &[(&str, &str)]) -> String {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    gateway
        .redis
        .pool()
        .xadd(stream, false, None, "*", fields)
        .await
        .unwrap_or_else(|error| panic!("XADD {stream}: {error}"))
}

/// A raw Redis command on the test Redis.
pub async fn command(
    gateway: &TestGateway,
    name: &'static str,
    args: Vec<&str>,
) -> fred::types::Value {
    gateway
        .redis
        .pool()
        .custom(fred::cmd!(name), args)
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}
