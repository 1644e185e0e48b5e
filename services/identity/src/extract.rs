//! Request parts the routes read besides the caller (`shop_http::CurrentUser`): the bearer token,
//! and where a login comes from (address and user agent).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The header the gateway sets to the client's address (first entry: the original client).
pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";

/// Longest user agent kept; longer ones are cut (they are hashed, but also published and logged).
const MAX_USER_AGENT_LEN: usize = 512;

/// The token of `Authorization: Bearer <token>` (scheme in any case). Missing or another scheme: 401.
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthenticated)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::Unauthenticated);
        }
        Ok(Self(token.to_owned()))
    }
}

/// Where a request comes from: the client's address and user agent.
///
/// The address is the first `x-forwarded-for` entry, else the peer's. Trusting the header is right
/// only because the service is reachable through the gateway alone, which sets it; a deployment
/// exposing identity directly would let clients choose their address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// Canonical when it parses as an address (`::ffff:10.0.0.1` → `10.0.0.1`, a port dropped),
    /// as sent otherwise; empty when unknown.
    pub ip: String,
    /// Empty when the client sent none.
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .headers
            .get(FORWARDED_FOR_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|first| !first.is_empty());
        let ip = match forwarded {
            Some(first) => canonical_ip(first),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip().to_canonical().to_string())
                .unwrap_or_default(),
        };
        let mut user_agent = parts
            .headers
            .get(USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .unwrap_or_default();
        if user_agent.len() > MAX_USER_AGENT_LEN {
            let cut = (0..=MAX_USER_AGENT_LEN)
                .rev()
                .find(|&i| user_agent.is_char_boundary(i))
                .unwrap_or(0);
            user_agent.truncate(cut);
        }
        Ok(Self { ip, user_agent })
    }
}

/// `10.0.0.1`, `[2001:db8::1]:443` and `::ffff:10.0.0.1` become bare canonical addresses; what is
/// not an address is kept as sent (cut to 64 characters), so it still compares equal to itself.
fn canonical_ip(raw: &str) -> String {
    let parsed = raw
        .parse::<IpAddr>()
        .or_else(|_| raw.parse::<SocketAddr>().map(|addr| addr.ip()));
    match parsed {
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => raw.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_made_canonical_and_junk_is_kept() {
        assert_eq!(canonical_ip("203.0.113.7"), "203.0.113.7");
        assert_eq!(canonical_ip("203.0.113.7:5000"), "203.0.113.7");
        assert_eq!(canonical_ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(canonical_ip("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(canonical_ip("unknown"), "unknown");
    }
}
