//! `GET /api/products` and `GET /api/products/{productId}`: the public catalog, with `X-Cache`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shop_domain::ProductId;

use crate::AppState;
use crate::cache::CacheStatus;
use crate::catalog::{self, ListQuery, ProductFilter};
use crate::error::{ApiError, Result};

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The largest `pageSize` a client may ask for.
const MAX_PAGE_SIZE: i64 = 100;
const DEFAULT_PAGE_SIZE: i64 = 20;
/// Far beyond any real catalog; it keeps `skip` small enough for every server.
const MAX_PAGE: i64 = 1_000_000;
/// A longer search is not a product name; refusing it keeps regex work bounded.
const MAX_SEARCH_LEN: usize = 100;

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

    /// Unparseable numbers are 400, parseable but out-of-range values 422.
    fn try_from(raw: RawListQuery) -> Result<Self> {
        let page = number("page", raw.page)?.unwrap_or(1);
        let page_size = number("pageSize", raw.page_size)?.unwrap_or(DEFAULT_PAGE_SIZE);
        let min_price = number("minPrice", raw.min_price)?;
        let max_price = number("maxPrice", raw.max_price)?;
        let search = present(raw.search);

        let invalid = |message: String| Err(ApiError::InvalidQuery(message));
        if !(1..=MAX_PAGE).contains(&page) {
            return invalid(format!("page must be between 1 and {MAX_PAGE}, got {page}"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return invalid(format!(
                "pageSize must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"
            ));
        }
        for (name, price) in [("minPrice", min_price), ("maxPrice", max_price)] {
            if let Some(price) = price.filter(|p| *p < 0) {
                return invalid(format!("{name} must not be negative, got {price}"));
            }
        }
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return invalid(format!("minPrice ({min}) must not exceed maxPrice ({max})"));
        }
        if search
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SEARCH_LEN)
        {
            return invalid(format!(
                "search must be at most {MAX_SEARCH_LEN} characters"
            ));
        }
        if search
            .as_ref()
            .is_some_and(|s| s.chars().any(char::is_control))
        {
            return invalid("search must not contain control characters".to_owned());
        }
        Ok(Self {
            filter: ProductFilter {
                search,
                category: present(raw.category),
                brand: present(raw.brand),
                min_price,
                max_price,
            },
            page: page.unsigned_abs(),
            page_size: page_size.unsigned_abs(),
        })
    }
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn number(name: &str, value: Option<String>) -> Result<Option<i64>> {
    present(value)
        .map(|raw| {
            raw.trim().parse::<i64>().map_err(|_| {
                ApiError::MalformedQuery(format!("{name} must be a whole number, got {raw:?}"))
            })
        })
        .transpose()
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
