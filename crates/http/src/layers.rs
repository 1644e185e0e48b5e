//! The middleware stack every service puts around its routes: request ids, a tracing span per request
//! and the request metrics.

use axum::Router;
use axum::extract::MatchedPath;
use axum::middleware;
use http::Request;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span};

use crate::metrics::{Metrics, UNMATCHED_ROUTE, record_request};

/// The header carrying the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Wraps every route of `router` in the common stack. Call it last: `Router::layer` only wraps the
/// routes present when it is called, and it wraps each one, which is what gives the span and the
/// metrics the matched route template.
pub fn with_common_layers<S>(router: Router<S>, metrics: &Metrics) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // Outermost first: the id must exist before the span that records it is created, and it is
    // copied onto the response after everything inside has run.
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(RequestSpan)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(middleware::from_fn_with_state(
            metrics.http(),
            record_request,
        ));
    router.layer(stack)
}

/// A span per request with the fields a log search starts from.
#[derive(Debug, Clone, Copy)]
struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
        tracing::info_span!(
            "http_request",
            method = %request.method(),
            route,
            uri = %request.uri(),
            request_id,
        )
    }
}
