//! `spawn_app()`: the application on port 0 with a database of its own.

use payments::{Application, Config};
use secrecy::SecretString;
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

/// A configuration pointing at the test servers, with a database no other test uses.
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("payments"),
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
