//! `GET /api/products` and `GET /api/products/{productId}`: the public catalog, with `X-Cache`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shop_domain::ProductId;

use shop_http::query::{Page, filter_text, whole_number};

use crate::AppState;
use crate::cache::CacheStatus;
use crate::catalog::{self, ListQuery, ProductFilter};
use crate::error::{ApiError, Result};

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// A longer search is not a product name; refusing it keeps regex work bounded.
const MAX_SEARCH_LEN: usize = 100;
/// The longest category or brand filter: longer than any the catalog has.
const MAX_NAME_LEN: usize = 100;
/// The highest price filter, in cents (10^12 cents is ten billion): far above any product, and a
/// bound a store compares without overflow.
const MAX_PRICE: i64 = 1_000_000_000_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/products", get(list_products))
        .route("/api/products/{product_id}", get(get_product))
}

async fn get_product(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    // An id that is not even valid cannot name a product.
    let id = ProductId::parse(id.as_str()).map_err(|_| ApiError::ProductNotFound(id))?;
    let (product, status) = catalog::get_product(&state, id.as_str()).await?;
    Ok(with_cache_header(status, Json(product)))
}

async fn list_products(
    State(state): State<AppState>,
    query: Result<Query<RawListQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(raw) = query.map_err(|rejection| ApiError::MalformedQuery(rejection.body_text()))?;
    let query = ListQuery::try_from(raw)?;
    let (page, status) = catalog::list_products(&state, &query).await?;
    Ok(with_cache_header(status, Json(page)))
}

fn with_cache_header(status: CacheStatus, body: impl IntoResponse) -> Response {
    ([(X_CACHE, status.as_str())], body).into_response()
}

/// The query string as sent: strings, so a bad number is our `invalid_query`, not axum's
/// plain-text rejection. Empty values (`?search=&page=`) count as absent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawListQuery {
    search: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

impl TryFrom<RawListQuery> for ListQuery {
    type Error = ApiError;

    /// Unparseable numbers are 400, parseable but out-of-range values 422 (see `shop_http::query`).
    fn try_from(raw: RawListQuery) -> Result<Self> {
        let paging = Page::parse(raw.page.as_deref(), raw.page_size.as_deref())?;
        let min_price = whole_number("minPrice", raw.min_price.as_deref(), 0..=MAX_PRICE)?;
        let max_price = whole_number("maxPrice", raw.max_price.as_deref(), 0..=MAX_PRICE)?;
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(ApiError::InvalidQuery(format!(
                "minPrice ({min}) must not exceed maxPrice ({max})"
            )));
        }
        Ok(Self {
            filter: ProductFilter {
                search: filter_text("search", raw.search.as_deref(), MAX_SEARCH_LEN)?,
                category: filter_text("category", raw.category.as_deref(), MAX_NAME_LEN)?,
                brand: filter_text("brand", raw.brand.as_deref(), MAX_NAME_LEN)?,
                min_price,
                max_price,
            },
            page: paging.page,
            page_size: paging.page_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery> {
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let Query(raw) = Query::<RawListQuery>::try_from_uri(
            &format!("/api/products?{query}")
                .parse()
                .map_err(|_| ApiError::NotReady)?,
        )
        .map_err(|_| ApiError::NotReady)?;
        ListQuery::try_from(raw)
    }

    fn status(pairs: &[(&str, &str)]) -> u16 {
        parse(pairs).err().map_or(200, |e| e.status().as_u16())
    }

    #[test]
    fn defaults_are_page_one_of_twenty_and_empty_values_are_absent() {
        let query = parse(&[("search", ""), ("category", ""), ("page", "")]).ok();

        assert_eq!(
            query,
            Some(ListQuery {
                filter: ProductFilter::default(),
                page: 1,
                page_size: 20
            })
        );
    }

    #[test]
    fn unparseable_numbers_are_400_and_out_of_range_values_422() {
        assert_eq!(status(&[("page", "abc")]), 400);
        assert_eq!(status(&[("minPrice", "1.5")]), 400);
        assert_eq!(status(&[("page", "0")]), 422);
        assert_eq!(status(&[("page", "-1")]), 422);
        assert_eq!(status(&[("pageSize", "0")]), 422);
        assert_eq!(status(&[("pageSize", "101")]), 422);
        assert_eq!(status(&[("maxPrice", "-5")]), 422);
        assert_eq!(status(&[("minPrice", "500"), ("maxPrice", "100")]), 422);
        assert_eq!(status(&[("search", "a%00b")]), 422);
        assert_eq!(status(&[("search", &"x".repeat(101))]), 422);
        assert_eq!(status(&[("category", &"x".repeat(101))]), 422);
        assert_eq!(status(&[("brand", "a%0Ab")]), 422);
        assert_eq!(status(&[("page", "1000001")]), 422);
        assert_eq!(status(&[("page", "99999999999999999999999999")]), 422);
        assert_eq!(status(&[("maxPrice", "99999999999999999999999999")]), 422);
        assert_eq!(status(&[("minPrice", "1000000000001")]), 422);
        assert_eq!(
            status(&[
                ("pageSize", "100"),
                ("minPrice", "100"),
                ("maxPrice", "100")
            ]),
            200
        );
    }
}
