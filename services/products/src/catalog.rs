//! Reading the catalog: one product, or a filtered page, through the Redis cache, with each
//! product's current stock from the ledger.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

use serde::Serialize;

use crate::AppState;
use crate::cache::{CacheStatus, ListEntry};
use crate::error::{ApiError, Result};
use crate::product::Product;
use crate::store::products::CatalogDoc;

/// The filters of a listing. Absent fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductFilter {
    /// A literal, case-insensitive substring of the name or the brand.
    pub search: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Inclusive, in cents.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

/// A validated listing query (see `routes::products` for the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(flatten)]
    pub filter: ProductFilter,
    pub page: u64,
    pub page_size: u64,
}

impl ListQuery {
    /// The query's identity in cache keys: the SHA-256 of every field, in a fixed order,
    /// unambiguously delimited (JSON). Hashed so a key has one size (64 hex digits) whatever the
    /// filters hold, and so a client's text never becomes part of a Redis key.
    fn cache_key(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    pub items: Vec<Product>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// `GET /api/products/{id}`: from Redis, else from MongoDB (then cached).
pub async fn get_product(state: &AppState, id: &str) -> Result<(Product, CacheStatus)> {
    let cached = state
        .cache
        .products(&[id])
        .await
        .into_iter()
        .next()
        .flatten();
    let result = match cached {
        Some(product) => (product, CacheStatus::Hit),
        None => {
            let doc = state
                .store
                .product(id)
                .await?
                .ok_or_else(|| ApiError::ProductNotFound(id.to_owned()))?;
            let product = with_stock(state, vec![doc])
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::ProductNotFound(id.to_owned()))?;
            state
                .cache
                .store_products(std::slice::from_ref(&product))
                .await;
            (product, CacheStatus::Miss)
        }
    };
    state.cache.record("product", result.1);
    Ok(result)
}

/// `GET /api/products`: a HIT only when the page entry and every product on it came from Redis.
pub async fn list_products(
    state: &AppState,
    query: &ListQuery,
) -> Result<(ProductPage, CacheStatus)> {
    let key = query.cache_key();
    let version = state.cache.version().await;
    let cached_entry = match version {
        Some(version) => state.cache.list(version, &key).await,
        None => None,
    };
    let (entry, docs, entry_cached) = match cached_entry {
        Some(entry) => (entry, Vec::new(), true),
        None => {
            let skip = query.page.saturating_sub(1).saturating_mul(query.page_size);
            let limit = i64::try_from(query.page_size).unwrap_or(i64::MAX);
            let (total, docs) = tokio::try_join!(
                state.store.count_products(&query.filter),
                state.store.product_page(&query.filter, skip, limit),
            )?;
            let ids = docs.iter().map(|d| d.product_id.to_string()).collect();
            let entry = ListEntry { ids, total };
            if let Some(version) = version {
                state.cache.store_list(version, &key, &entry).await;
            }
            (entry, docs, false)
        }
    };
    let (items, products_cached) = products_in_order(state, &entry.ids, docs).await?;
    let status = if entry_cached && products_cached {
        CacheStatus::Hit
    } else {
        CacheStatus::Miss
    };
    state.cache.record("list", status);
    let page = ProductPage {
        items,
        total: entry.total,
        page: query.page,
        page_size: query.page_size,
    };
    Ok((page, status))
}

/// The products of `ids` in that order: one `MGET`, then the misses from MongoDB (catalog documents
/// already at hand in `known` are not read again) with their stock, written back to the cache.
/// Also says whether every product came from Redis.
async fn products_in_order(
    state: &AppState,
    ids: &[String],
    known: Vec<CatalogDoc>,
) -> Result<(Vec<Product>, bool)> {
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let cached = state.cache.products(&id_refs).await;
    let missing: Vec<&str> = id_refs
        .iter()
        .zip(&cached)
        .filter(|(_, product)| product.is_none())
        .map(|(id, _)| *id)
        .collect();
    let all_cached = missing.is_empty();

    let mut filled: HashMap<String, Product> = HashMap::new();
    if !missing.is_empty() {
        let mut docs: HashMap<String, CatalogDoc> = known
            .into_iter()
            .map(|doc| (doc.product_id.to_string(), doc))
            .collect();
        let unknown: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|id| !docs.contains_key(*id))
            .collect();
        if !unknown.is_empty() {
            for doc in state.store.products_by_ids(&unknown).await? {
                docs.insert(doc.product_id.to_string(), doc);
            }
        }
        let to_fill: Vec<CatalogDoc> = missing.iter().filter_map(|id| docs.remove(*id)).collect();
        let products = with_stock(state, to_fill).await?;
        state.cache.store_products(&products).await;
        filled = products
            .into_iter()
            .map(|p| (p.product_id.to_string(), p))
            .collect();
    }

    // Products are never deleted, so an id without a product can only be a damaged cache entry;
    // it is skipped rather than failing the page.
    let items = ids
        .iter()
        .zip(cached)
        .filter_map(|(id, cached)| cached.or_else(|| filled.remove(id)))
        .collect();
    Ok((items, all_cached))
}

/// Attaches each document's current stock, reading the ledger heads concurrently.
async fn with_stock(state: &AppState, docs: Vec<CatalogDoc>) -> Result<Vec<Product>> {
    let ids: Vec<String> = docs.iter().map(|d| d.product_id.to_string()).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let stock = state.store.stock_of(&id_refs).await?;
    Ok(docs
        .into_iter()
        .zip(stock)
        .map(|(doc, stock)| doc.with_stock(stock))
        .collect())
}
