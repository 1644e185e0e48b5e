//! Before the load: the shop must be healthy, the users logged in, and the catalog read into what
//! the operations draw from (product URLs, list pages, search words, and the products orders buy,
//! each with a stock budget so a run never buys a product out).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};

use futures::{StreamExt, TryStreamExt};

use crate::client::{CallError, CatalogProduct, Gateway, Session};

/// Products orders may buy: enough stock to spare, and a price payments accepts (`PAYMENT_MAX_AMOUNT`
/// declines above 5,000.00), so a normal run neither runs out of stock nor gets declined.
pub const MIN_STOCK: i64 = 20;
pub const MAX_PRICE_CENTS: i64 = 500_000;
/// Units of each product the run leaves to everyone else (other shoppers, concurrent runs).
const STOCK_MARGIN: i64 = 10;
/// The catalog is read in pages of the largest size the API allows.
const CATALOG_PAGE_SIZE: u64 = 100;
/// Browsing pages uses the API's default page size (20) and at most this many pages.
const MAX_BROWSE_PAGES: u64 = 50;
const MAX_SEARCH_TERMS: usize = 200;
/// Registrations and logins at once: each one costs identity a deliberately slow password hash.
const LOGIN_CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the shop is not reachable or not healthy")]
    Unhealthy(#[source] CallError),
    #[error("reading the catalog")]
    Catalog(#[source] CallError),
    #[error(
        "no product to order among the {catalog} in the catalog (needs stock ≥ {MIN_STOCK} and price ≤ {MAX_PRICE_CENTS} cents)"
    )]
    NothingToOrder { catalog: usize },
    #[error("registering and logging in the users")]
    Login(#[source] CallError),
    #[error("the direct products URL: {0}")]
    Direct(String),
}

/// A product orders may buy, and how many more units this run may take.
#[derive(Debug)]
pub struct Stocked {
    pub product_id: String,
    budget: AtomicI64,
}

/// What the operations draw from.
#[derive(Debug)]
pub struct Fixture {
    pub sessions: Vec<Session>,
    /// Every catalog product's `GET /api/products/{id}` URL.
    pub product_urls: Vec<String>,
    /// `GET /api/products?page=k` URLs.
    pub page_urls: Vec<String>,
    /// `GET /api/products?search=word` URLs.
    pub search_urls: Vec<String>,
    pub order_url: String,
    pub orderable: Vec<Stocked>,
    pub catalog_size: usize,
}

impl Fixture {
    /// Takes one unit of the first product from `start` on (wrapping) that has budget left.
    pub fn take_stock(&self, start: usize) -> Option<&str> {
        let count = self.orderable.len();
        (0..count)
            .map(|offset| &self.orderable[(start + offset) % count])
            .find(|product| {
                product
                    .budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        (left > 0).then(|| left - 1)
                    })
                    .is_ok()
            })
            .map(|product| product.product_id.as_str())
    }
}

/// Checks the shop, logs `users` in and reads the catalog.
pub async fn prepare(gateway: &Gateway, users: usize, run_id: &str) -> Result<Fixture, SetupError> {
    gateway.health().await.map_err(SetupError::Unhealthy)?;

    let catalog = read_catalog(gateway).await?;
    let orderable: Vec<Stocked> = catalog
        .iter()
        .filter(|p| p.stock_qty >= MIN_STOCK && p.price <= MAX_PRICE_CENTS)
        .map(|p| Stocked {
            product_id: p.product_id.clone(),
            budget: AtomicI64::new(p.stock_qty - STOCK_MARGIN),
        })
        .collect();
    if orderable.is_empty() {
        return Err(SetupError::NothingToOrder {
            catalog: catalog.len(),
        });
    }

    let password = format!("load-{run_id}-password");
    let sessions: Vec<Session> = futures::stream::iter(0..users)
        .map(|i| {
            let email = format!("load-{run_id}-{i}@example.com");
            let password = password.clone();
            async move { gateway.session(&email, &password).await }
        })
        .buffered(LOGIN_CONCURRENCY)
        .try_collect()
        .await
        .map_err(SetupError::Login)?;

    let pages = catalog
        .len()
        .div_ceil(20)
        .clamp(1, MAX_BROWSE_PAGES as usize);
    Ok(Fixture {
        sessions,
        product_urls: catalog
            .iter()
            .map(|p| gateway.url(&format!("/api/products/{}", p.product_id)))
            .collect(),
        page_urls: (1..=pages)
            .map(|page| gateway.url(&format!("/api/products?page={page}")))
            .collect(),
        search_urls: search_terms(&catalog)
            .iter()
            .map(|term| gateway.url(&format!("/api/products?search={term}")))
            .collect(),
        order_url: gateway.url("/api/orders"),
        orderable,
        catalog_size: catalog.len(),
    })
}

async fn read_catalog(gateway: &Gateway) -> Result<Vec<CatalogProduct>, SetupError> {
    let mut catalog = Vec::new();
    for page in 1.. {
        let answer = gateway
            .products(page, CATALOG_PAGE_SIZE)
            .await
            .map_err(SetupError::Catalog)?;
        let last = answer.items.len() < CATALOG_PAGE_SIZE as usize
            || page * CATALOG_PAGE_SIZE >= answer.total;
        catalog.extend(answer.items);
        if last {
            break;
        }
    }
    Ok(catalog)
}

/// Words shoppers would type: the distinct words (3+ letters or digits, lowercased) of the
/// products' names and brands. Only all-ASCII words, so they need no escaping in a URL.
pub fn search_terms(catalog: &[CatalogProduct]) -> Vec<String> {
    let words: BTreeSet<String> = catalog
        .iter()
        .flat_map(|p| [p.name.as_str(), p.brand.as_str()])
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.len() >= 3 && word.is_ascii())
        .map(str::to_ascii_lowercase)
        .collect();
    words.into_iter().take(MAX_SEARCH_TERMS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, name: &str, brand: &str) -> CatalogProduct {
        CatalogProduct {
            product_id: id.to_owned(),
            name: name.to_owned(),
            brand: brand.to_owned(),
            price: 1000,
            stock_qty: 100,
        }
    }

    #[test]
    fn search_terms_are_the_distinct_words_of_names_and_brands() {
        let catalog = [
            product("p-1", "Flannel Check Shirt", "Atelier Rue"),
            product("p-2", "Linen shirt, 2-pack", "Café Nord"),
        ];

        let terms = search_terms(&catalog);

        assert_eq!(
            terms,
            [
                "atelier", "check", "flannel", "linen", "nord", "pack", "rue", "shirt"
            ]
        );
    }

    #[test]
    fn stock_is_taken_from_the_next_product_with_budget_left() {
        let fixture = Fixture {
            sessions: Vec::new(),
            product_urls: Vec::new(),
            page_urls: Vec::new(),
            search_urls: Vec::new(),
            order_url: String::new(),
            orderable: vec![
                Stocked {
                    product_id: "a".into(),
                    budget: AtomicI64::new(1),
                },
                Stocked {
                    product_id: "b".into(),
                    budget: AtomicI64::new(1),
                },
            ],
            catalog_size: 2,
        };

        let taken: Vec<Option<&str>> = (0..3).map(|_| fixture.take_stock(1)).collect();

        assert_eq!(taken, [Some("b"), Some("a"), None]);
    }
}
