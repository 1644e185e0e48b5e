//! `GET /api/order-history`: the caller's orders, newest first, as the streams told them.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use shop_http::ApiJson;
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::history::{HistoryPage, PageRequest, read_page};
use shop_http::CurrentUser;

/// Page size when the query names none, and the largest allowed.
const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 100;

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
    let request = PageRequest {
        page: number(query.page.as_deref(), "page", 1)?,
        page_size: number(query.page_size.as_deref(), "pageSize", DEFAULT_PAGE_SIZE)?,
    };
    if request.page < 1 {
        return Err(ApiError::InvalidQuery("page starts at 1".to_owned()));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&request.page_size) {
        return Err(ApiError::InvalidQuery(format!(
            "pageSize must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    Ok(ApiJson(read_page(&state.store, &user, request).await?))
}

fn number(raw: Option<&str>, name: &str, default: u64) -> Result<u64> {
    raw.map_or(Ok(default), |raw| {
        raw.trim().parse().map_err(|_| {
            ApiError::MalformedQuery(format!("{name} must be a whole number, got {raw:?}"))
        })
    })
}
