//! Forwarding one request to an upstream and relaying its answer: the method, path, query, body and
//! end-to-end headers go out; status, headers and body come back unchanged. Only identity is
//! rewritten: the client's `x-user-id` is always dropped, and set from the session where there is one.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use http_body_util::LengthLimitError;
use reqwest::Url;
use shop_domain::UserId;

use crate::error::{ApiError, Result};
use crate::upstream::{Upstream, UpstreamUrls};

/// The header carrying the authenticated caller's id to the services (`shop_http::CurrentUser`).
pub const USER_ID_HEADER: HeaderName = HeaderName::from_static(shop_http::USER_ID_HEADER);

/// The header carrying the client's address to the services (identity records it on login).
pub const FORWARDED_FOR_HEADER: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded in
/// either direction. `host` and `content-length` are not hop-by-hop but are the client's
/// library's to set for the new request; `expect: 100-continue` was already answered here, and
/// the body it announced is read whole before the request goes on.
const HOP_BY_HOP: [HeaderName; 11] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::HOST,
    header::CONTENT_LENGTH,
    header::EXPECT,
];

/// The HTTP client of every upstream: one connection pool, shared by all requests.
#[derive(Debug, Clone)]
pub struct Proxy {
    http: reqwest::Client,
    urls: UpstreamUrls,
    timeout: Duration,
    body_limit: usize,
}

/// What to send upstream: the parts of the client's request the proxy keeps.
#[derive(Debug)]
pub struct Outgoing {
    pub method: Method,
    /// Path and query, exactly as the client sent them (still percent-encoded).
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: Duration,
}

impl Proxy {
    /// `timeout` bounds each exchange from connecting to the last byte of the answer.
    pub fn new(urls: UpstreamUrls, timeout: Duration, body_limit: usize) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // Relay redirects to the client: following them here would hide them from it.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            urls,
            timeout,
            body_limit,
        })
    }

    /// Reads the client's request into an [`Outgoing`]: its body (413 past the limit, 408 when it
    /// does not arrive within the upstream timeout), its end-to-end headers minus any `x-user-id`
    /// and, unless `forward_token`, `Authorization`; plus `x-user-id` = `user` when given and
    /// `x-forwarded-for` = the client's address.
    pub async fn outgoing(
        &self,
        request: Request,
        user: Option<&UserId>,
        client: Option<IpAddr>,
        forward_token: bool,
    ) -> Result<Outgoing> {
        let (parts, body) = request.into_parts();
        let limit = self.body_limit;
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        // Refuse a declared oversize body before reading a byte of it.
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        // A slow sender holds this task and its buffer; the body gets the same time an upstream
        // gets to answer, then the request is a 408.
        let body = tokio::time::timeout(self.timeout, axum::body::to_bytes(body, limit))
            .await
            .map_err(|_| ApiError::BodyTimeout {
                timeout: self.timeout,
            })?
            .map_err(|error| {
                if is_length_limit(&error) {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::UnreadableBody
                }
            })?;

        let mut headers = end_to_end(&parts.headers);
        headers.remove(USER_ID_HEADER);
        headers.remove(FORWARDED_FOR_HEADER);
        if !forward_token {
            headers.remove(header::AUTHORIZATION);
        }
        if let Some(user) = user
            && let Ok(value) = HeaderValue::from_str(user.as_str())
        {
            headers.insert(USER_ID_HEADER, value);
        }
        if let Some(client) = client
            && let Ok(value) = HeaderValue::from_str(&client.to_string())
        {
            headers.insert(FORWARDED_FOR_HEADER, value);
        }
        Ok(Outgoing {
            method: parts.method,
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string),
            headers,
            body,
            timeout: self.timeout,
        })
    }

    /// Sends `outgoing` to `upstream` and relays the answer: 503 when the service cannot be
    /// reached, 504 when it does not answer in time, 502 when the exchange breaks.
    ///
    /// The answer is buffered, not streamed: the services answer small JSON documents, and a
    /// buffered answer either arrives whole within the deadline or becomes a clean 504, never a
    /// truncated 200.
    pub async fn send(&self, upstream: Upstream, outgoing: Outgoing) -> Result<Response> {
        let url = self.url(upstream, &outgoing.path_and_query)?;
        let timeout = outgoing.timeout;
        let failed = |error: reqwest::Error| classify(upstream, timeout, &error);
        let answer = self
            .http
            .request(outgoing.method, url)
            .headers(outgoing.headers)
            .body(outgoing.body)
            .timeout(timeout)
            .send()
            .await
            .map_err(failed)?;
        let status = answer.status();
        let headers = end_to_end(answer.headers());
        let body = answer.bytes().await.map_err(failed)?;

        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Whether `upstream` answers `GET /health/ready` with 200 within `timeout`.
    pub async fn is_ready(&self, upstream: Upstream, timeout: Duration) -> bool {
        let Ok(url) = self.url(upstream, "/health/ready") else {
            return false;
        };
        match self.http.get(url).timeout(timeout).send().await {
            Ok(answer) => answer.status() == StatusCode::OK,
            Err(error) => {
                tracing::warn!(upstream = upstream.name(), error = %error.without_url(), "not ready");
                false
            }
        }
    }

    /// The upstream's base URL with the client's path (after the base's own path, if it has one)
    /// and query. Built from the parsed base rather than by parsing a string per request: the
    /// host, port and scheme were checked once, at startup.
    ///
    /// The path sent is exactly the path routed, or nothing is sent: the URL library resolves dot
    /// segments and rewrites some bytes, and `paths::refuse_ambiguous` refuses every path it
    /// would change; this check keeps that true if either side changes (400 `invalid_path`).
    fn url(&self, upstream: Upstream, path_and_query: &str) -> Result<Url> {
        let base = self.urls.get(upstream);
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut url = base.clone();
        let prefix = base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}{path}"));
        url.set_query(query);
        let sent = url.path().strip_prefix(prefix).unwrap_or_default();
        if sent != path {
            tracing::warn!(
                routed = path,
                sent,
                "the upstream URL would change the path"
            );
            return Err(ApiError::InvalidPath(
                "bytes the upstream URL would rewrite",
            ));
        }
        Ok(url)
    }
}

/// `headers` without the hop-by-hop ones, including those the `Connection` header names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(name) && !named.contains(name) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Connecting failed: the service is down (503). The deadline passed: it is slow (504). Anything
/// else broke the exchange itself (502), which is logged with its cause chain.
fn classify(upstream: Upstream, timeout: Duration, error: &reqwest::Error) -> ApiError {
    if error.is_connect() {
        ApiError::ServiceUnavailable(upstream)
    } else if error.is_timeout() {
        ApiError::UpstreamTimeout { upstream, timeout }
    } else {
        let mut cause = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            cause.push_str(": ");
            cause.push_str(&inner.to_string());
            source = inner.source();
        }
        ApiError::BadGateway { upstream, cause }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn upstream_urls_keep_the_base_path_and_the_clients_encoded_path_and_query()
    -> anyhow::Result<()> {
        let proxy = |base: &str| -> anyhow::Result<Proxy> {
            let urls = UpstreamUrls::all_at(&Url::parse(base)?);
            Ok(Proxy::new(urls, Duration::from_secs(1), 1024)?)
        };

        let plain = proxy("http://127.0.0.1:8081")?;
        let prefixed = proxy("http://products.internal:80/shop/")?;

        assert_eq!(
            plain
                .url(Upstream::Products, "/api/products?search=caf%C3%A9&page=2")?
                .as_str(),
            "http://127.0.0.1:8081/api/products?search=caf%C3%A9&page=2"
        );
        assert_eq!(
            prefixed
                .url(Upstream::Products, "/api/products/p-1")?
                .as_str(),
            "http://products.internal/shop/api/products/p-1"
        );
        assert_eq!(
            plain.url(Upstream::Products, "/a%2Fb?")?.as_str(),
            "http://127.0.0.1:8081/a%2Fb?"
        );
        for rewritten in [
            "/api/products/..\\..\\metrics",
            "/api/products/%2e%2e/x",
            "/a/./b",
        ] {
            assert!(
                matches!(
                    plain.url(Upstream::Products, rewritten),
                    Err(ApiError::InvalidPath(_))
                ),
                "{rewritten}"
            );
        }
        Ok(())
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let incoming = headers(&[
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("host", "shop.example"),
            ("content-length", "12"),
            ("authorization", "Bearer t"),
            ("x-request-id", "r-1"),
            ("idempotency-key", "k-1"),
        ]);

        let kept = end_to_end(&incoming);

        let mut names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["authorization", "idempotency-key", "x-request-id"]);
    }
}
