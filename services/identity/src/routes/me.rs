//! `GET /api/me`: the caller's profile and identity score.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;
use crate::accounts::Profile;
use crate::error::Result;
use shop_http::CurrentUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me))
}

/// `{userId, email, name, identityScore}`; 401 without `x-user-id`; 404 `user_not_found`.
async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Profile>> {
    Ok(Json(state.accounts.profile(&user).await?))
}
