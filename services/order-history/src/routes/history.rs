//! `GET /api/order-history`: the caller's orders, newest first, as the streams told them.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use shop_http::ApiJson;
use shop_http::query::Page;
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::history::{HistoryPage, PageRequest, read_page};
use shop_http::CurrentUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/order-history", get(order_history))
}

/// `page` and `pageSize` as text: a number that does not parse is a 400, one out of range a 422.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryQuery {
    page: Option<String>,
    page_size: Option<String>,
}

#[instrument(skip_all, fields(user_id = %user))]
async fn order_history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<ApiJson<HistoryPage>> {
    let Query(query) =
        query.map_err(|rejection| ApiError::MalformedQuery(rejection.body_text()))?;
    let page = Page::parse(query.page.as_deref(), query.page_size.as_deref())?;
    let request = PageRequest {
        page: page.page,
        page_size: page.page_size,
    };
    Ok(ApiJson(read_page(&state.store, &user, request).await?))
}
