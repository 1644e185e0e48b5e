//! The public `Product` shape, the catalog shipped inside the binary, and seeding it into MongoDB.

use std::collections::HashSet;

use anyhow::Context;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use shop_domain::{CURRENCY, Money, ProductId};

use crate::store::Store;
use crate::store::ledger;
use crate::store::products::CatalogDoc;

/// The catalog file, embedded so a binary seeds itself without a path to find at runtime.
const CATALOG_JSON: &str = include_str!("../data/catalog.json");

/// A product as the API shows it. `stock_qty` is the current stock (the ledger's head balance); when
/// seeding, it is the opening stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: ProductId,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub sub_category: String,
    pub description: String,
    /// Unit price in cents.
    pub price: Money,
    pub currency: String,
    pub stock_qty: i64,
    pub image_url: String,
}

impl Product {
    /// A product with the given essentials and neutral values elsewhere: handy for test fixtures
    /// ("p-x with stock 10 at 1999 cents").
    pub fn new(
        product_id: ProductId,
        name: impl Into<String>,
        price: Money,
        stock_qty: i64,
    ) -> Self {
        Self {
            image_url: format!("https://images.shop.example/products/{product_id}.jpg"),
            product_id,
            name: name.into(),
            brand: "Shop".to_owned(),
            category: "General".to_owned(),
            sub_category: "General".to_owned(),
            description: String::new(),
            price,
            currency: CURRENCY.to_owned(),
            stock_qty,
        }
    }
}

/// The catalog shipped with the service (`data/catalog.json`).
pub fn embedded_catalog() -> Result<Vec<Product>, serde_json::Error> {
    serde_json::from_str(CATALOG_JSON)
}

/// Inserts the products that are not in `db` yet, each with an opening stock movement of its
/// `stock_qty`; returns how many were new. Existing products, and their stock, are never touched, so
/// this is safe to run on every start and from tests (before or after the app is spawned).
///
/// The opening movement is written before the product: a product is never visible without stock,
/// and a crash in between is repaired by the next run (the opening's unique key makes rewriting it a
/// no-op). This does not touch the Redis cache: listings cached before may miss the new products
/// until their TTL (the service's own startup seeding bumps the cache version instead).
pub async fn seed_products(db: &Database, products: &[Product]) -> anyhow::Result<u64> {
    let store = Store::new(db);
    store
        .ensure_indexes()
        .await
        .context("creating the indexes")?;
    let existing = store
        .product_ids()
        .await
        .context("reading the catalog's product ids")?;
    let mut seen = HashSet::new();
    let missing: Vec<&Product> = products
        .iter()
        .filter(|p| !existing.contains(p.product_id.as_str()))
        .filter(|p| seen.insert(p.product_id.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    if let Some(p) = missing.iter().find(|p| p.stock_qty < 0) {
        anyhow::bail!("product {} has a negative opening stock", p.product_id);
    }

    let openings = missing
        .iter()
        .map(|p| ledger::opening(p.product_id.as_str(), p.stock_qty))
        .collect();
    store
        .insert_openings(openings)
        .await
        .context("writing opening stock movements")?;
    let docs = missing
        .iter()
        .map(|p| CatalogDoc::from_product(p))
        .collect();
    store
        .insert_products(docs)
        .await
        .context("inserting products")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_parses_into_300_distinct_products() -> Result<(), serde_json::Error> {
        let catalog = embedded_catalog()?;

        let ids: HashSet<_> = catalog.iter().map(|p| p.product_id.as_str()).collect();
        assert_eq!(catalog.len(), 300);
        assert_eq!(ids.len(), 300);
        assert!(
            catalog
                .iter()
                .all(|p| p.stock_qty >= 0 && p.currency == CURRENCY)
        );
        Ok(())
    }
}
