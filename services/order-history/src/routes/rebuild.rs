//! `POST /internal/rebuild`: replays both streams into a fresh model and swaps it in. Internal: the
//! gateway exposes it to operators as `POST /api/ops/order-history/rebuild`.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use shop_http::ApiJson;
use tracing::{Instrument, instrument};

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::rebuild::Rebuilt;

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/rebuild", post(rebuild))
}

/// `{events, skipped, generation}` once the new model is active; 409 `rebuild_in_progress` while
/// another rebuild runs.
#[instrument(skip_all)]
async fn rebuild(State(state): State<AppState>) -> Result<ApiJson<Rebuilt>> {
    // A task of its own: a caller that gives up (a proxy timeout) must not cut a rebuild short
    // halfway through, which would leave its attempt blocking others until its deadline.
    let rebuilder = state.rebuilder.clone();
    let rebuilt = tokio::spawn(async move { rebuilder.rebuild().await }.in_current_span())
        .await
        .map_err(|error| ApiError::Internal(format!("the rebuild task failed: {error}")))??;
    Ok(ApiJson(rebuilt))
}
