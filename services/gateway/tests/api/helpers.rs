//! `spawn_app()`: the gateway on port 0 against the test Redis.

use gateway::{Application, Config};
use secrecy::SecretString;
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

/// A configuration pointing at the test Redis.
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
    }
}

pub async fn spawn_app() -> TestApp {
    let app = Application::build(test_config())
        .await
        .unwrap_or_else(|error| panic!("building the app: {error:#}"));
    TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped())
}
