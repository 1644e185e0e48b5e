//! Every HTTP route of the gateway, merged in one place with the middleware around them.

pub mod cart;
pub mod events;
pub mod ops;
pub mod ops_views;
pub mod shop_health;
pub mod table;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::{Router, middleware};
use shop_http::{Readiness, health, with_common_layers};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::AllowedOrigins;
use crate::error::ApiError;
use crate::{AppState, client, openapi, paths};

/// The whole application router.
///
/// Layer order, outermost first: request id, tracing and metrics (`with_common_layers`, so every
/// answer below, a 429 or a CORS preflight included, carries `x-request-id`), then the path check
/// (an ambiguous path is refused before anything else reads it), then CORS (a preflight
/// is answered before it spends a rate-limit token), then the client's address and rate limit.
pub fn router(state: AppState) -> Router {
    let readiness = Readiness::new([health::redis_check(state.redis.clone())]);
    let router = Router::new()
        .merge(table::router())
        .merge(cart::router())
        .merge(events::router())
        .merge(ops::router())
        .merge(ops_views::router())
        .merge(crate::ui::router())
        .merge(openapi::router())
        .merge(shop_health::router())
        .merge(health::router(readiness))
        .merge(state.metrics.router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client::identify_and_limit,
        ))
        .layer(cors(&state.cors_allowed_origins))
        .layer(middleware::from_fn(paths::refuse_ambiguous))
        .with_state(state.clone());
    with_common_layers(router, &state.metrics)
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!("{} {}", request.method(), request.uri().path()))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} {}", request.method(), request.uri().path()))
}

/// Browsers may call the API from `origins`, with the headers it reads, and may read the headers
/// it answers with. No credentials (cookies): authentication is a bearer token.
fn cors(origins: &AllowedOrigins) -> CorsLayer {
    let allow_origin = match origins {
        AllowedOrigins::Any => AllowOrigin::any(),
        AllowedOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-cache"),
            axum::http::header::RETRY_AFTER,
        ])
}
