//! The route table: every public path the gateway forwards, to which service, and who may call it.
//! Nothing else reaches a service: a path that is not here (`/internal/*` included) is a 404.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tracing::instrument;

use crate::AppState;
use crate::auth::authenticate;
use crate::client::ClientIp;
use crate::error::Result;
use crate::upstream::Upstream;
use crate::upstream::Upstream::{Identity, OrderHistory, Orders, Products};

use self::Access::{Public, User};
use self::Verb::{Get, Post};

/// The methods the public API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; no `x-user-id` reaches the service.
    Public,
    /// A live session: 401 without one, else forwarded with `x-user-id` = the session's user.
    User,
}

/// One public route.
#[derive(Debug)]
pub struct Route {
    pub verb: Verb,
    /// An axum path template, which is also the OpenAPI one (`/api/orders/{orderId}`).
    pub path: &'static str,
    pub upstream: Upstream,
    pub access: Access,
    /// Whether the client's `Authorization` header goes upstream. Only a service that reads the
    /// token itself gets it: every other one learns the caller from `x-user-id`, and a token that
    /// reached it could be logged or leaked there.
    pub forwards_token: bool,
}

const fn route(verb: Verb, path: &'static str, upstream: Upstream, access: Access) -> Route {
    Route {
        verb,
        path,
        upstream,
        access,
        forwards_token: false,
    }
}

/// Every forwarded route. `/api/openapi.json` documents each one (a test holds the two together).
pub const ROUTES: &[Route] = &[
    route(Post, "/api/auth/register", Identity, Public),
    route(Post, "/api/auth/login", Identity, Public),
    // Identity revokes the token it is sent; the gateway first checks it opens a session.
    Route {
        forwards_token: true,
        ..route(Post, "/api/auth/logout", Identity, User)
    },
    route(Get, "/api/me", Identity, User),
    route(Get, "/api/products", Products, Public),
    route(Get, "/api/products/{productId}", Products, Public),
    route(Post, "/api/orders", Orders, User),
    route(Get, "/api/orders", Orders, User),
    route(Get, "/api/orders/{orderId}", Orders, User),
    route(Get, "/api/order-history", OrderHistory, User),
];

/// The router of the table: one proxying handler per route.
pub fn router() -> Router<AppState> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        // Routing the same path twice merges the methods (`GET` and `POST /api/orders`).
        router.route(route.path, method_router(route))
    })
}

fn method_router(route: &'static Route) -> MethodRouter<AppState> {
    let handler =
        move |State(state): State<AppState>, request: Request| forward(state, route, request);
    match route.verb {
        Get => get(handler),
        Post => post(handler),
    }
}

#[instrument(skip_all, fields(upstream = route.upstream.name(), user_id))]
async fn forward(state: AppState, route: &'static Route, request: Request) -> Result<Response> {
    let user = match route.access {
        Public => None,
        User => {
            let session = authenticate(&state.sessions, request.headers()).await?;
            tracing::Span::current().record("user_id", session.user_id.as_str());
            Some(session.user_id)
        }
    };
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map(|ClientIp(ip)| *ip);
    let outgoing = state
        .proxy
        .outgoing(request, user.as_ref(), client, route.forwards_token)
        .await?;
    state.proxy.send(route.upstream, outgoing).await
}
