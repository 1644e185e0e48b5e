//! `/api/auth/*`: registering, logging in and out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use shop_http::ApiJson;

use crate::AppState;
use crate::accounts::{LoggedIn, LoginRequest, RegisteredUser};
use crate::error::Result;
use crate::extract::{BearerToken, ClientInfo};
use crate::registration::{RegisterRequest, Registration};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
}

/// `201 {userId, email, name}`; 409 `email_taken`; 422 `invalid_email`, `weak_password`,
/// `invalid_password`, `invalid_name`.
async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisteredUser>)> {
    let registration = Registration::try_from(request)?;
    let user = state.accounts.register(registration).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `200 {token, userId, expiresAt}`; 401 `invalid_credentials`.
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoggedIn>> {
    Ok(Json(state.accounts.login(request, client).await?))
}

/// `204`; 401 `unauthenticated` without a live bearer token.
async fn logout(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
) -> Result<StatusCode> {
    state.accounts.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}
