//! The OpenAPI 3 document of the public API, generated from the code by utoipa: the forwarded
//! routes (`paths.rs`), the gateway's own endpoints (their handlers carry the annotations), the
//! bodies (`schemas.rs`) and the two bearer schemes. Served at `GET /api/openapi.json`.

mod paths;
pub mod schemas;

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use crate::routes::table::{ROUTES, Verb};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "shop",
        description = "The shop's public API, served by the gateway. Errors are \
            `{\"error\":{\"code\",\"message\"}}`; every response carries `x-request-id`; money is \
            in minor units (cents).",
    ),
    paths(
        paths::register,
        paths::login,
        paths::logout,
        paths::me,
        paths::list_products,
        paths::get_product,
        paths::create_order,
        paths::list_orders,
        paths::get_order,
        paths::order_history,
        crate::routes::cart::get_cart,
        crate::routes::cart::put_cart,
        crate::routes::events::order_events,
        crate::routes::ops::streams,
        crate::routes::ops_views::list_dead_letters,
        crate::routes::ops_views::order_timeline,
        crate::routes::ops::replay_dead_letters,
        crate::routes::ops::rebuild_order_history,
        crate::routes::shop_health::shop_health,
        openapi_json,
    ),
    components(schemas(schemas::ErrorBody)),
    modifiers(&SecuritySchemes, &GatewayAnswers),
    tags(
        (name = "auth", description = "Accounts and sessions (identity)"),
        (name = "products", description = "The catalog (products)"),
        (name = "cart", description = "The signed-in user's cart (gateway, Redis)"),
        (name = "orders", description = "Orders and their history (orders, order-history)"),
        (name = "operations", description = "Streams, dead letters and rebuilds; admin token only"),
        (name = "health", description = "The shop's health and this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
});

pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI_PATH, get(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json"))
)]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// `session`: the token `POST /api/auth/login` returns. `admin`: `SHOP_ADMIN_TOKEN`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "session",
            bearer("The opaque token from `POST /api/auth/login`"),
        );
        components.add_security_scheme(
            "admin",
            bearer("The operators' token, `SHOP_ADMIN_TOKEN` of the gateway"),
        );
    }
}

/// The answers the gateway itself gives, declared once under `components/responses` and referenced
/// from each operation they apply to, so the declarations list only what the services answer:
/// 429 on every `/api` route, and on forwarded ones 413 where there is a body and 503/504 when the
/// service is down or slow.
struct GatewayAnswers;

impl GatewayAnswers {
    const ANSWERS: [(&str, &str, &str); 4] = [
        (
            "413",
            "PayloadTooLarge",
            "`payload_too_large`: the body exceeds `BODY_LIMIT_BYTES`",
        ),
        (
            "429",
            "RateLimited",
            "`rate_limited`: `Retry-After` says in how many seconds to try again",
        ),
        (
            "503",
            "ServiceUnavailable",
            "`service_unavailable`: the service (or Redis) is down",
        ),
        (
            "504",
            "UpstreamTimeout",
            "`upstream_timeout`: the service did not answer within `UPSTREAM_TIMEOUT_MS`",
        ),
    ];
}

impl Modify for GatewayAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in Self::ANSWERS {
            let mut answer = ResponseBuilder::new().description(description).content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            );
            if name == "RateLimited" {
                let seconds = ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1));
                answer = answer.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(seconds)
                        .description(Some("Seconds until a request can succeed"))
                        .build(),
                );
            }
            components
                .responses
                .insert(name.to_owned(), answer.build().into());
        }

        for (path, item) in openapi.paths.paths.iter_mut() {
            for (verb, operation) in [(Verb::Get, &mut item.get), (Verb::Post, &mut item.post)] {
                let Some(operation) = operation else { continue };
                let forwarded = ROUTES.iter().any(|r| r.path == path && r.verb == verb);
                for (status, name, _) in Self::ANSWERS {
                    let applies = match status {
                        "429" => path.starts_with("/api/"),
                        "413" => forwarded && verb == Verb::Post,
                        _ => forwarded,
                    };
                    if applies {
                        operation
                            .responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert_with(|| Ref::from_response_name(name).into());
                    }
                }
            }
        }
    }
}
