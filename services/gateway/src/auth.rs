//! Who is calling: a user, by the session their bearer token opens, or an operator, by the admin
//! token. Both are decided here, before any upstream is called.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use shop_sessions::{Session, SessionError, SessionStore};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::client::ClientIp;
use crate::error::{ApiError, Result};

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive), if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The live session of the request's bearer token: 401 without one, 503 when Redis fails.
pub async fn authenticate(sessions: &SessionStore, headers: &HeaderMap) -> Result<Session> {
    let token = bearer_token(headers).ok_or(ApiError::Unauthenticated)?;
    resolve(sessions, token)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

async fn resolve(sessions: &SessionStore, token: &str) -> Result<Option<Session>> {
    match sessions.resolve(token).await {
        Ok(session) => Ok(session),
        Err(SessionError::Redis(error)) => Err(ApiError::RedisUnavailable(error.to_string())),
        // A value that is not a session authenticates no one; it is a bug worth an alert.
        Err(error @ SessionError::Corrupt { .. }) => {
            tracing::error!(%error, "corrupt session");
            Ok(None)
        }
        Err(error) => Err(ApiError::Internal(error.to_string())),
    }
}

/// The operators' token, kept only as its SHA-256, compared in constant time.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn new(token: &SecretString) -> Self {
        Self {
            digest: Sha256::digest(token.expose_secret().as_bytes()).into(),
        }
    }

    /// Comparing digests, not the tokens, keeps the comparison constant-time in the length too: a
    /// byte-wise compare of the raw tokens would stop at the first difference, or at a length
    /// mismatch, and leak by timing how much of a guess was right.
    pub fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        self.digest.ct_eq(&candidate).into()
    }
}

/// An operator: the request comes from `OPS_ALLOWED_NETWORKS` (else 403 `forbidden_network`) and
/// carries `Authorization: Bearer $SHOP_ADMIN_TOKEN`. Anything else is a 401 `unauthenticated`, except a live user session, which is a 403 `forbidden`: that caller is
/// known, just not allowed.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        // The network first: from outside `OPS_ALLOWED_NETWORKS` not even a right token opens
        // these endpoints, and a guess learns nothing about it.
        let client = parts.extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip);
        if !client.is_some_and(|client| state.ops_allowed_networks.allows(client)) {
            return Err(ApiError::OpsNetworkRefused);
        }
        let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        if state.admin.matches(token) {
            return Ok(Self);
        }
        match resolve(&state.sessions, token).await? {
            Some(_) => Err(ApiError::Forbidden),
            None => Err(ApiError::Unauthenticated),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn the_bearer_token_is_read_whatever_the_scheme_case() {
        assert_eq!(bearer_token(&with_authorization("Bearer abc")), Some("abc"));
        assert_eq!(
            bearer_token(&with_authorization("bearer  abc ")),
            Some("abc")
        );
        for value in ["", "Bearer", "Bearer ", "Basic abc", "abc"] {
            assert_eq!(bearer_token(&with_authorization(value)), None, "{value:?}");
        }
    }

    #[test]
    fn only_the_exact_admin_token_matches() {
        let admin = AdminToken::new(&SecretString::from("the-operators-token"));

        assert!(admin.matches("the-operators-token"));
        for guess in [
            "",
            "the-operators-toke",
            "the-operators-token!",
            "THE-OPERATORS-TOKEN",
        ] {
            assert!(!admin.matches(guess), "{guess:?}");
        }
        assert_eq!(format!("{admin:?}"), "AdminToken(<redacted>)");
    }
}
