//! `/api/orders`: place an order, read one, list the caller's.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use shop_domain::OrderId;
use shop_http::ApiJson;
use shop_http::query::Page;
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use shop_http::CurrentUser;

use crate::extract::IdempotencyKey;
use crate::order::{CreateOrderBody, Order, OrderPage, OrderRequest};
use crate::place_order::place_order;
use crate::store::OrderDocument;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orders", get(list_orders).post(create_order))
        .route("/api/orders/{order_id}", get(get_order))
}

#[instrument(skip_all, fields(user_id = %user))]
async fn create_order(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateOrderBody>,
) -> Result<(StatusCode, ApiJson<Order>)> {
    let request = OrderRequest::try_from(body).map_err(ApiError::InvalidOrder)?;
    let order = place_order(&state, &user, &request, key.as_deref()).await?;
    Ok((StatusCode::CREATED, ApiJson(present(&order)?)))
}

#[instrument(skip_all, fields(user_id = %user, order_id = %order_id))]
async fn get_order(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(order_id): Path<String>,
) -> Result<ApiJson<Order>> {
    let not_found = || ApiError::OrderNotFound(order_id.clone());
    // A malformed id names no order; another user's order is as invisible as a missing one.
    let id = OrderId::parse(order_id.as_str()).map_err(|_| not_found())?;
    let order = state
        .store
        .user_order(&user, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(ApiJson(present(&order)?))
}

/// `page` and `pageSize` as text: a number that does not parse is a 400, one out of range a 422.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    page: Option<String>,
    page_size: Option<String>,
}

#[instrument(skip_all, fields(user_id = %user))]
async fn list_orders(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<ApiJson<OrderPage>> {
    let Query(query) =
        query.map_err(|rejection| ApiError::MalformedQuery(rejection.body_text()))?;
    let page = Page::parse(query.page.as_deref(), query.page_size.as_deref())?;
    let (skip, limit) = (page.skip(), page.limit());
    let (orders, total) = state.store.user_orders(&user, skip, limit).await?;
    Ok(ApiJson(OrderPage {
        items: orders.iter().map(present).collect::<Result<_>>()?,
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}

/// The API shape of a stored order.
fn present(order: &OrderDocument) -> Result<Order> {
    order
        .to_order()
        .map_err(|error| ApiError::Internal(format!("order {}: {error}", order.id)))
}
