//! The user interface, served from the gateway on the API's own origin: the storefront at `/`, the
//! operations console at `/ops`, their scripts and styles under `/ui/*`, and generated product
//! images under `/img/products/*`. Everything is embedded in the binary, so the Docker image and
//! `scripts/dev.sh` serve it with no build step, and the pages make no request to another origin.

mod assets;
mod placeholder;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::ApiError;

pub use assets::{ASSETS, Asset};

/// Only this origin, for everything: no inline script or style, no plug-ins, no framing. The
/// pages' images are `/img/...` (same origin), so `img-src 'self'` is enough.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(storefront))
        .route("/ops", get(console))
        .route("/ui/{*file}", get(asset))
        .route("/img/products/{image}", get(product_image))
}

async fn storefront(headers: HeaderMap) -> Response {
    serve(assets::page("index.html"), &headers)
}

async fn console(headers: HeaderMap) -> Response {
    serve(assets::page("ops.html"), &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match assets::find(&file) {
        Some(asset) => serve(Some(asset), &headers),
        None => ApiError::NotFound(format!("GET /ui/{file}")).into_response(),
    }
}

/// `GET /img/products/{productId}.svg`: a placeholder drawn from the id (colours) and the optional
/// `?label=` (up to three letters or digits), identical for the same inputs.
async fn product_image(
    Path(image): Path<String>,
    axum::extract::Query(query): axum::extract::Query<placeholder::ImageQuery>,
) -> Response {
    match placeholder::product_svg(&image, query.label.as_deref()) {
        Some(svg) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("image/svg+xml"),
                ),
                // Deterministic per URL: a day of caching costs nothing.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            svg,
        )
            .into_response()
            .with_security_headers(),
        None => ApiError::NotFound(format!("GET /img/products/{image}")).into_response(),
    }
}

/// An embedded file with its validator: `no-cache` makes the browser ask each time, and the
/// `ETag` (a digest of the bytes taken at start-up) turns the answer into an empty 304 while the
/// binary is the same, so a new release is picked up at once without hashed file names.
fn serve(asset: Option<&'static Asset>, headers: &HeaderMap) -> Response {
    let Some(asset) = asset else {
        return ApiError::Internal("an embedded page is missing".to_owned()).into_response();
    };
    let etag = asset.etag();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response.with_security_headers()
}

trait SecurityHeaders {
    fn with_security_headers(self) -> Self;
}

impl SecurityHeaders for Response {
    fn with_security_headers(mut self) -> Self {
        let headers = self.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        self
    }
}
