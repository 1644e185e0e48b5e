//! The `products` collection: catalog documents (no stock) and the queries behind the listing.

use std::collections::HashSet;

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use serde::{Deserialize, Serialize};
use shop_domain::{Money, ProductId};

use super::Store;
use crate::catalog::ProductFilter;
use crate::error::Result;
use crate::product::Product;

/// A catalog entry as stored: a [`Product`] without its stock, which only the ledger knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDoc {
    #[serde(rename = "_id")]
    pub product_id: ProductId,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub sub_category: String,
    pub description: String,
    pub price: Money,
    pub currency: String,
    pub image_url: String,
}

impl CatalogDoc {
    pub fn from_product(product: &Product) -> Self {
        Self {
            product_id: product.product_id.clone(),
            name: product.name.clone(),
            brand: product.brand.clone(),
            category: product.category.clone(),
            sub_category: product.sub_category.clone(),
            description: product.description.clone(),
            price: product.price,
            currency: product.currency.clone(),
            image_url: product.image_url.clone(),
        }
    }

    pub fn with_stock(self, stock_qty: i64) -> Product {
        Product {
            product_id: self.product_id,
            name: self.name,
            brand: self.brand,
            category: self.category,
            sub_category: self.sub_category,
            description: self.description,
            price: self.price,
            currency: self.currency,
            stock_qty,
            image_url: self.image_url,
        }
    }
}

#[derive(Debug, Deserialize)]
struct IdOnly {
    #[serde(rename = "_id")]
    id: String,
}

/// The listing order: by name, then by id so products with equal names keep a stable order.
fn listing_order() -> Document {
    doc! { "name": 1, "_id": 1 }
}

impl Store {
    pub async fn product(&self, id: &str) -> Result<Option<CatalogDoc>> {
        Ok(self.products.find_one(doc! { "_id": id }).await?)
    }

    /// The products among `ids` that exist, in no particular order.
    ///
    /// One point read by `_id` per product, all at once (the driver's pool bounds them), rather than one `$in` query: `_id`
    /// equality is the lookup every MongoDB-compatible store answers from its primary key, while
    /// FerretDB's SQLite backend answers `$in` by decoding the whole collection. Orders reserve
    /// through this on every request, so that difference is most of the catalog's cost under load.
    pub async fn products_by_ids(&self, ids: &[&str]) -> Result<Vec<CatalogDoc>> {
        let reads = ids.iter().map(|id| self.product(id));
        let found = futures::future::try_join_all(reads).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// One page of the products matching `filter`, in listing order.
    pub async fn product_page(
        &self,
        filter: &ProductFilter,
        skip: u64,
        limit: i64,
    ) -> Result<Vec<CatalogDoc>> {
        Ok(self
            .products
            .find(filter_document(filter))
            .sort(listing_order())
            .skip(skip)
            .limit(limit)
            .await?
            .try_collect()
            .await?)
    }

    pub async fn count_products(&self, filter: &ProductFilter) -> Result<u64> {
        Ok(self
            .products
            .count_documents(filter_document(filter))
            .await?)
    }

    /// The ids of every product in the catalog: one small query, so a restart with a complete
    /// catalog seeds nothing quickly.
    pub async fn product_ids(&self) -> Result<HashSet<String>> {
        Ok(self
            .products
            .clone_with_type::<IdOnly>()
            .find(doc! {})
            .projection(doc! { "_id": 1 })
            .await?
            .map_ok(|doc| doc.id)
            .try_collect()
            .await?)
    }

    /// Inserts the documents that are not there yet; returns how many were new.
    pub async fn insert_products(&self, docs: Vec<CatalogDoc>) -> Result<u64> {
        if docs.is_empty() {
            return Ok(0);
        }
        let attempted = docs.len();
        let result = self
            .products
            .insert_many(docs)
            .ordered(false)
            .await
            .map(drop);
        Ok(super::inserted_despite_duplicates(attempted, result)?)
    }
}

/// The MongoDB filter of a listing query. `search` is matched as a literal, case-insensitive
/// substring of the name or the brand.
fn filter_document(filter: &ProductFilter) -> Document {
    let mut query = Document::new();
    if let Some(search) = &filter.search {
        let pattern = doc! { "$regex": escape_regex(search), "$options": "i" };
        query.insert(
            "$or",
            vec![
                Bson::Document(doc! { "name": pattern.clone() }),
                Bson::Document(doc! { "brand": pattern }),
            ],
        );
    }
    if let Some(category) = &filter.category {
        query.insert("category", category.as_str());
    }
    if let Some(brand) = &filter.brand {
        query.insert("brand", brand.as_str());
    }
    let mut price = Document::new();
    if let Some(min) = filter.min_price {
        price.insert("$gte", min);
    }
    if let Some(max) = filter.max_price {
        price.insert("$lte", max);
    }
    if !price.is_empty() {
        query.insert("price", price);
    }
    query
}

/// Escapes every ASCII punctuation character, so user input is matched literally. A backslash before
/// punctuation means "this character" both in MongoDB's PCRE and in FerretDB's Go (RE2) regexps;
/// letters, digits, spaces and non-ASCII characters are left alone, because escaping those changes
/// their meaning (`\d`) or is an error in RE2.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_metacharacters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_regex("a.b*(c)"), r"a\.b\*\(c\)");
        assert_eq!(escape_regex(r"[x]^$|?+{1}\"), r"\[x\]\^\$\|\?\+\{1\}\\");
        assert_eq!(escape_regex("Linden Row é"), "Linden Row é");
    }

    #[test]
    fn an_empty_filter_matches_everything_and_prices_are_inclusive() {
        assert_eq!(filter_document(&ProductFilter::default()), doc! {});
        let filter = ProductFilter {
            min_price: Some(100),
            max_price: Some(200),
            brand: Some("Fenwick".into()),
            ..ProductFilter::default()
        };
        assert_eq!(
            filter_document(&filter),
            doc! { "brand": "Fenwick", "price": { "$gte": 100_i64, "$lte": 200_i64 } }
        );
    }
}
