//! One simulated shopper's next step: draw an operation from the mix and perform it against the
//! gateway, returning which endpoint answered and how (the caller times it).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;

use crate::client;
use crate::mix::{Mix, Operation};
use crate::setup::Fixture;
use crate::stats::{Endpoint, Failure};

/// One browse in this many reads a page of the catalog instead of a product.
const BROWSE_PAGE_ONE_IN: u32 = 5;

/// Everything the workers share.
#[derive(Debug)]
pub struct Workload {
    pub http: Client,
    pub fixture: Fixture,
    pub mix: Mix,
    /// Starts every idempotency key; unique per run, also when `--run-id` is reused (the same key
    /// with another product would be refused as `idempotency_key_reused`).
    pub key_prefix: String,
}

/// An order the gateway accepted (201), to be followed until it is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// Index of the user's session in the fixture.
    pub user: usize,
    pub order_id: String,
}

/// What one operation did.
#[derive(Debug)]
pub struct Done {
    pub endpoint: Endpoint,
    pub outcome: Result<(), Failure>,
    pub order: Option<PlacedOrder>,
}

/// One worker's own state: its random draws and a counter for unique idempotency keys.
#[derive(Debug)]
pub struct Shopper {
    worker: usize,
    rng: SmallRng,
    orders_sent: u64,
    /// Orders drawn but not sent because every product's stock budget was spent (browsed instead).
    pub orders_skipped: u64,
}

impl Shopper {
    pub fn new(worker: usize, seed: u64) -> Self {
        Self {
            worker,
            // Each worker its own stream of draws: the seed mixed with the worker number by a
            // large odd constant (2^64 / golden ratio), so neighbouring workers do not correlate.
            rng: SmallRng::seed_from_u64(
                seed ^ (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
            orders_sent: 0,
            orders_skipped: 0,
        }
    }
}

impl Workload {
    /// Draws the shopper's next operation and performs it.
    pub async fn perform(&self, shopper: &mut Shopper) -> Done {
        let roll = shopper.rng.random_range(0..self.mix.total());
        match self.mix.pick(roll) {
            Operation::Browse => self.browse(shopper).await,
            Operation::Search => {
                let url = pick(&mut shopper.rng, &self.fixture.search_urls);
                self.read(Endpoint::Search, url).await
            }
            Operation::Order => self.order(shopper).await,
        }
    }

    async fn browse(&self, shopper: &mut Shopper) -> Done {
        if shopper.rng.random_ratio(1, BROWSE_PAGE_ONE_IN) {
            let url = pick(&mut shopper.rng, &self.fixture.page_urls);
            self.read(Endpoint::ProductPage, url).await
        } else {
            let url = pick(&mut shopper.rng, &self.fixture.product_urls);
            self.read(Endpoint::Product, url).await
        }
    }

    async fn read(&self, endpoint: Endpoint, url: Option<&String>) -> Done {
        let outcome = match url {
            Some(url) => client::get(&self.http, url).await,
            // Setup guarantees products; a catalog without words to search is a failure to see.
            None => Err(Failure::BadBody),
        };
        Done {
            endpoint,
            outcome,
            order: None,
        }
    }

    async fn order(&self, shopper: &mut Shopper) -> Done {
        let fixture = &self.fixture;
        let start = shopper.rng.random_range(0..fixture.orderable.len().max(1));
        let Some(product_id) = fixture.take_stock(start) else {
            shopper.orders_skipped += 1;
            return self.browse(shopper).await;
        };
        let user = shopper.rng.random_range(0..fixture.sessions.len().max(1));
        let Some(session) = fixture.sessions.get(user) else {
            return self.browse(shopper).await;
        };
        shopper.orders_sent += 1;
        let key = format!(
            "{}-{}-{}",
            self.key_prefix, shopper.worker, shopper.orders_sent
        );
        let placed = client::place_order(
            &self.http,
            &fixture.order_url,
            &session.authorization,
            &key,
            product_id,
        )
        .await;
        match placed {
            Ok(order_id) => Done {
                endpoint: Endpoint::Order,
                outcome: Ok(()),
                order: Some(PlacedOrder { user, order_id }),
            },
            Err(failure) => Done {
                endpoint: Endpoint::Order,
                outcome: Err(failure),
                order: None,
            },
        }
    }
}

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}
