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
        .map_request(drop_invalid_request_id::<axum::body::Body>)
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

/// The longest client-chosen request id kept: a UUID, a ULID or a W3C trace id fit many times over.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's `x-request-id` is kept: 1 to [`MAX_REQUEST_ID_LEN`] characters of
/// `[A-Za-z0-9._:-]`. The id is written into every log line and sent to every upstream, so a value
/// that could forge a log field, split a header or grow without bound is replaced, not carried.
pub fn is_valid_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-'))
}

/// Removes a client's request id that [`is_valid_request_id`] refuses, so the next layer generates
/// one, as it does when there is none. Every value but the first is removed too: one request, one id.
fn drop_invalid_request_id<B>(mut request: Request<B>) -> Request<B> {
    let headers = request.headers_mut();
    let mut values = headers.get_all(REQUEST_ID_HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (Some(value), None) => is_valid_request_id(value.as_bytes()),
        _ => false,
    };
    if !keep {
        headers.remove(REQUEST_ID_HEADER);
    }
    request
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_short_and_plain() {
        for id in [
            "r-1",
            "01M8T3TM3X9W4BH4WTWEYXC95B",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "a.b_c:d-e",
        ] {
            assert!(is_valid_request_id(id.as_bytes()), "{id}");
        }
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for id in [
            "",
            "a b",
            "a\"b",
            "id=1 level=error",
            "é",
            "a/b",
            long.as_str(),
        ] {
            assert!(!is_valid_request_id(id.as_bytes()), "{id}");
        }
    }

    #[test]
    fn an_invalid_or_repeated_request_id_is_removed() {
        let with = |values: &[&str]| {
            let mut request = Request::new(());
            for value in values {
                request.headers_mut().append(
                    REQUEST_ID_HEADER,
                    http::HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")),
                );
            }
            drop_invalid_request_id(request)
                .headers()
                .get_all(REQUEST_ID_HEADER)
                .iter()
                .count()
        };
        assert_eq!(with(&["r-1"]), 1);
        assert_eq!(with(&["r 1"]), 0);
        assert_eq!(with(&["r-1", "r-2"]), 0);
        assert_eq!(with(&[]), 0);
    }
}
