//! The traffic: many clients through the gateway's public API only. Shoppers place orders (1–3
//! lines, quantities 1–3, some of the products nearly sold out) with an `Idempotency-Key`; some are
//! patient, some hang up after a few milliseconds (so requests are cut mid-reservation) and may
//! retry the key or abandon it; browsers read the catalog. Every order attempt is recorded with
//! what the client saw. Sessions lost with Redis data (401) are renewed by logging in again.
//! Everything is bounded: the run ends at its deadline, each key is retried a bounded number of
//! times.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::{Client, Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::rng::Rng;

/// Products with at most this much stock are the scarce ones, where out-of-stock happens.
const SCARCE_STOCK: i64 = 5;
/// The password every chaos user has.
const PASSWORD: &str = "chaos-harness-password";

/// What the client saw of one order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// 2xx with the order: its id and amount (cents).
    Created { order_id: String, amount: i64 },
    /// A 4xx, with the error code of its body.
    Rejected { status: u16, code: String },
    /// A 5xx.
    Failed { status: u16, code: String },
    /// No (complete) answer: the client hung up, or could not connect.
    NoAnswer { reason: String },
}

/// One `POST /api/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub client: usize,
    pub user_id: String,
    pub key: String,
    /// 1 for the first request with this key.
    pub try_no: u32,
    pub lines: Vec<(String, u32)>,
    /// Milliseconds from the start of the traffic.
    pub at_ms: u64,
    pub took_ms: u64,
    /// The client's own deadline for this request.
    pub timeout_ms: u64,
    pub outcome: Outcome,
}

/// Everything the traffic did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficLog {
    pub attempts: Vec<Attempt>,
    pub browses: u64,
    pub browse_failures: u64,
    pub logins: u64,
    /// Logins after a 401 (a session lost with Redis data).
    pub relogins: u64,
}

/// One product as the client saw it at the start.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub stock: i64,
}

/// The catalog, read once before the faults start.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub products: Vec<Product>,
    /// Indexes of the products with little stock.
    pub scarce: Vec<usize>,
}

/// A registered user and its current session.
#[derive(Debug)]
pub struct Shopper {
    pub email: String,
    pub user_id: String,
    token: Mutex<String>,
}

impl Shopper {
    fn token(&self) -> String {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// How a client behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    /// Waits long and retries every retryable answer.
    Patient,
    /// Hangs up after 5 ms – 1 s; retries the key only sometimes.
    Impatient,
    /// Only reads the catalog and its own orders.
    Browser,
}

/// The traffic's knobs.
#[derive(Debug, Clone)]
pub struct TrafficConfig {
    pub gateway: String,
    pub clients: usize,
    /// Weights of the patient, impatient and browsing clients.
    pub mix: [u64; 3],
    pub duration: Duration,
    pub seed: u64,
}

/// The HTTP client of the whole run: pooled, no Nagle, connect timeout short (a killed gateway
/// refuses at once, a frozen one must not hold a client for long).
pub fn http_client(pool: usize) -> reqwest::Result<Client> {
    Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(pool)
        .connect_timeout(Duration::from_secs(2))
        .build()
}

/// A request's status and JSON body (`Null` when not JSON), or why there was no answer.
async fn call(
    http: &Client,
    method: Method,
    url: String,
    token: Option<&str>,
    body: Option<&Value>,
    key: Option<&str>,
    timeout: Duration,
) -> Result<(StatusCode, Value), String> {
    let mut request = http.request(method, url).timeout(timeout);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let describe = |e: reqwest::Error| {
        if e.is_timeout() {
            "timeout".to_owned()
        } else if e.is_connect() {
            "connect".to_owned()
        } else {
            format!("transport: {e}")
        }
    };
    let response = request.send().await.map_err(describe)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(describe)?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Registers and logs in `n` users (before any fault: failures here fail the run).
pub async fn register_users(
    http: &Client,
    gateway: &str,
    seed: u64,
    n: usize,
) -> Result<Vec<Arc<Shopper>>> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(0..n)
        .map(|i| async move {
            let email = format!("chaos-{seed}-{i}@example.com");
            let user =
                json!({ "email": email, "password": PASSWORD, "name": format!("Chaos {i}") });
            let mut last = String::new();
            for _ in 0..10 {
                match call(
                    http,
                    Method::POST,
                    format!("{gateway}/api/auth/register"),
                    None,
                    Some(&user),
                    None,
                    Duration::from_secs(10),
                )
                .await
                {
                    Ok((status, _)) if status.is_success() || status == StatusCode::CONFLICT => {
                        let (user_id, token) = login(http, gateway, &email).await?;
                        return Ok(Arc::new(Shopper {
                            email,
                            user_id,
                            token: Mutex::new(token),
                        }));
                    }
                    Ok((status, body)) => last = format!("{status} {body}"),
                    Err(reason) => last = reason,
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            bail!("registering {email}: {last}")
        })
        .buffer_unordered(8)
        .try_collect()
        .await
}

/// Logs `email` in: its user id and a fresh token.
async fn login(http: &Client, gateway: &str, email: &str) -> Result<(String, String)> {
    let body = json!({ "email": email, "password": PASSWORD });
    let mut last = String::new();
    for _ in 0..10 {
        match call(
            http,
            Method::POST,
            format!("{gateway}/api/auth/login"),
            None,
            Some(&body),
            None,
            Duration::from_secs(10),
        )
        .await
        {
            Ok((StatusCode::OK, session)) => {
                let text = |name: &str| {
                    session[name]
                        .as_str()
                        .map(str::to_owned)
                        .with_context(|| format!("a login answer without {name}: {session}"))
                };
                return Ok((text("userId")?, text("token")?));
            }
            Ok((status, body)) => last = format!("{status} {body}"),
            Err(reason) => last = reason,
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    bail!("logging {email} in: {last}")
}

/// Reads the whole catalog (100 per page).
pub async fn read_catalog(http: &Client, gateway: &str) -> Result<Catalog> {
    let mut products = Vec::new();
    for page in 1..=20 {
        let (status, body) = call(
            http,
            Method::GET,
            format!("{gateway}/api/products?page={page}&pageSize=100"),
            None,
            None,
            None,
            Duration::from_secs(10),
        )
        .await
        .map_err(|reason| anyhow::anyhow!("reading the catalog: {reason}"))?;
        if status != StatusCode::OK {
            bail!("reading the catalog: {status} {body}");
        }
        let items = body["items"].as_array().context("a page without items")?;
        for item in items {
            products.push(Product {
                id: item["productId"]
                    .as_str()
                    .context("a product without productId")?
                    .to_owned(),
                stock: item["stockQty"].as_i64().unwrap_or(0),
            });
        }
        if items.len() < 100 {
            break;
        }
    }
    if products.is_empty() {
        bail!("the catalog is empty");
    }
    let scarce = products
        .iter()
        .enumerate()
        .filter(|(_, p)| p.stock <= SCARCE_STOCK)
        .map(|(i, _)| i)
        .collect();
    Ok(Catalog { products, scarce })
}

/// Shared state of the running clients.
#[derive(Debug)]
struct Run {
    http: Client,
    config: TrafficConfig,
    catalog: Catalog,
    start: Instant,
    deadline: Instant,
    log: Mutex<TrafficLog>,
}

impl Run {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, TrafficLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs the clients until `start + duration`; returns what they did.
pub async fn run(
    http: Client,
    config: TrafficConfig,
    catalog: Catalog,
    shoppers: Vec<Arc<Shopper>>,
    start: Instant,
) -> TrafficLog {
    let deadline = start + config.duration;
    let run = Arc::new(Run {
        http,
        config,
        catalog,
        start,
        deadline,
        log: Mutex::new(TrafficLog {
            logins: shoppers.len() as u64,
            ..TrafficLog::default()
        }),
    });
    let personas = personas(shoppers.len(), run.config.mix, run.config.seed);
    let mut tasks = Vec::new();
    for ((client, shopper), persona) in shoppers.into_iter().enumerate().zip(personas) {
        let run = run.clone();
        tasks.push(tokio::spawn(async move {
            client_loop(&run, client, persona, &shopper).await;
        }));
    }
    for task in tasks {
        // A panicking client loses only its own future attempts; its past ones are logged.
        let _ = task.await;
    }
    run.log().clone()
}

/// The persona of every client: the mix's shares as exact counts (largest remainder), in a seeded
/// order, so a run of n clients has the mix it was asked for and not a random draw of it.
fn personas(clients: usize, mix: [u64; 3], seed: u64) -> Vec<Persona> {
    let kinds = [Persona::Patient, Persona::Impatient, Persona::Browser];
    let total: u64 = mix.iter().sum::<u64>().max(1);
    let n = clients as u64;
    let mut counts: Vec<u64> = mix.iter().map(|w| w * n / total).collect();
    let mut by_remainder: Vec<usize> = (0..3).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse((mix[i] * n) % total));
    let mut missing = n - counts.iter().sum::<u64>();
    for i in by_remainder {
        if missing == 0 {
            break;
        }
        if mix[i] > 0 {
            counts[i] += 1;
            missing -= 1;
        }
    }
    let mut deck: Vec<Persona> = kinds
        .iter()
        .zip(&counts)
        .flat_map(|(kind, &count)| std::iter::repeat_n(*kind, usize::try_from(count).unwrap_or(0)))
        .collect();
    Rng::derive(seed, "personas").shuffle(&mut deck);
    deck
}

async fn client_loop(run: &Run, client: usize, persona: Persona, shopper: &Shopper) {
    let mut rng = Rng::derive(run.config.seed, &format!("client-{client}"));
    let mut order_no = 0_u32;
    // Pauses keep the load on what matters: a browser reads about once a second, and an impatient
    // client, whose requests mostly cost the shop work it then throws away, orders about as often.
    let (low, high) = match persona {
        Persona::Patient => (50, 400),
        Persona::Impatient | Persona::Browser => (300, 1_500),
    };
    while Instant::now() < run.deadline {
        if persona == Persona::Browser || rng.chance(0.1) {
            browse(run, shopper, &mut rng).await;
        } else {
            order_no += 1;
            place(run, client, shopper, persona, order_no, &mut rng).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.between(low, high))).await;
    }
}

/// The lines of a new order: 1–3 distinct products, some of them scarce, quantities 1–3.
fn order_lines(catalog: &Catalog, rng: &mut Rng) -> Vec<(String, u32)> {
    let count = rng.between(1, 3);
    let mut lines: Vec<(String, u32)> = Vec::new();
    for _ in 0..count {
        let index = if !catalog.scarce.is_empty() && rng.chance(0.05) {
            rng.pick(&catalog.scarce).copied().unwrap_or(0)
        } else {
            usize::try_from(rng.below(catalog.products.len() as u64)).unwrap_or(0)
        };
        let Some(product) = catalog.products.get(index) else {
            continue;
        };
        if lines.iter().all(|(id, _)| *id != product.id) {
            lines.push((
                product.id.clone(),
                u32::try_from(rng.between(1, 3)).unwrap_or(1),
            ));
        }
    }
    lines
}

/// One order, under one key, retried as the persona does.
async fn place(
    run: &Run,
    client: usize,
    shopper: &Shopper,
    persona: Persona,
    order_no: u32,
    rng: &mut Rng,
) {
    let lines = order_lines(&run.catalog, rng);
    if lines.is_empty() {
        return;
    }
    let body = json!({
        "products": lines.iter().map(|(id, qty)| json!({"productId": id, "qty": qty})).collect::<Vec<_>>()
    });
    let key = format!("chaos-{client}-{order_no}");
    let max_tries = if persona == Persona::Patient { 8 } else { 4 };
    for try_no in 1..=max_tries {
        let timeout = Duration::from_millis(match persona {
            Persona::Impatient => rng.between(5, 1_000),
            _ => 10_000,
        });
        let at_ms = run.now_ms();
        let sent = Instant::now();
        let answer = call(
            &run.http,
            Method::POST,
            format!("{}/api/orders", run.config.gateway),
            Some(&shopper.token()),
            Some(&body),
            Some(&key),
            timeout,
        )
        .await;
        let outcome = classify(answer);
        let took_ms = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX);
        run.log().attempts.push(Attempt {
            client,
            user_id: shopper.user_id.clone(),
            key: key.clone(),
            try_no,
            lines: lines.clone(),
            at_ms,
            took_ms,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            outcome: outcome.clone(),
        });
        let retry = match &outcome {
            Outcome::Created { .. } => false,
            Outcome::Rejected { status: 401, .. } => {
                relogin(run, shopper).await;
                true
            }
            Outcome::Rejected { status: 429, .. } | Outcome::Failed { .. } => true,
            Outcome::Rejected { .. } => false,
            // A patient client always comes back for its answer; an impatient one half the time,
            // otherwise the key is abandoned (the order may or may not exist: the checks decide).
            Outcome::NoAnswer { .. } => persona == Persona::Patient || rng.chance(0.5),
        };
        if !retry || Instant::now() >= run.deadline {
            return;
        }
        // Backing off (0.2 s, 0.4 s, ... up to 3 s, jittered) rides out a restart within the tries
        // instead of spending them all in the first second of an outage.
        let cap = (200_u64 << try_no.min(4)).min(3_000);
        tokio::time::sleep(Duration::from_millis(rng.between(cap / 2, cap))).await;
    }
}

fn classify(answer: Result<(StatusCode, Value), String>) -> Outcome {
    match answer {
        Ok((status, body)) if status.is_success() => {
            match (body["orderId"].as_str(), body["orderAmount"].as_i64()) {
                (Some(id), Some(amount)) => Outcome::Created {
                    order_id: id.to_owned(),
                    amount,
                },
                _ => Outcome::NoAnswer {
                    reason: format!("{status} without an order: {body}"),
                },
            }
        }
        Ok((status, body)) => {
            let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
            if status.is_server_error() {
                Outcome::Failed {
                    status: status.as_u16(),
                    code,
                }
            } else {
                Outcome::Rejected {
                    status: status.as_u16(),
                    code,
                }
            }
        }
        Err(reason) => Outcome::NoAnswer { reason },
    }
}

async fn relogin(run: &Run, shopper: &Shopper) {
    if let Ok((_, token)) = login(&run.http, &run.config.gateway, &shopper.email).await {
        *shopper.token.lock().unwrap_or_else(PoisonError::into_inner) = token;
        run.log().relogins += 1;
    }
}

/// One catalog or order-list read; only counted.
async fn browse(run: &Run, shopper: &Shopper, rng: &mut Rng) {
    let gateway = &run.config.gateway;
    let product = rng
        .pick(&run.catalog.products)
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let (path, auth) = match rng.weighted(&[45, 30, 20, 5]) {
        Some(0) => (format!("/api/products/{product}"), false),
        Some(1) => (
            format!("/api/products?page={}&pageSize=20", rng.between(1, 15)),
            false,
        ),
        Some(2) => (
            format!(
                "/api/products?search={}",
                rng.pick(&["shirt", "linen", "lamp", "wool", "mug"])
                    .copied()
                    .unwrap_or("shirt")
            ),
            false,
        ),
        _ => ("/api/orders?pageSize=5".to_owned(), true),
    };
    let token = auth.then(|| shopper.token());
    let answer = call(
        &run.http,
        Method::GET,
        format!("{gateway}{path}"),
        token.as_deref(),
        None,
        None,
        Duration::from_secs(5),
    )
    .await;
    let mut log = run.log();
    log.browses += 1;
    if !matches!(answer, Ok((StatusCode::OK, _))) {
        log.browse_failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let products: Vec<Product> = (0..30)
            .map(|i| Product {
                id: format!("p-{i}"),
                stock: if i < 3 { 1 } else { 100 },
            })
            .collect();
        Catalog {
            products,
            scarce: vec![0, 1, 2],
        }
    }

    #[test]
    fn order_lines_are_distinct_small_and_sometimes_scarce() {
        let catalog = catalog();
        let mut rng = Rng::new(5);
        let mut scarce = 0;
        for _ in 0..2_000 {
            let lines = order_lines(&catalog, &mut rng);
            assert!((1..=3).contains(&lines.len()));
            let mut ids: Vec<&String> = lines.iter().map(|(id, _)| id).collect();
            ids.dedup();
            assert_eq!(ids.len(), lines.len());
            assert!(lines.iter().all(|(_, qty)| (1..=3).contains(qty)));
            scarce += lines.iter().filter(|(id, _)| id.as_str() < "p-3").count();
        }
        assert!(scarce > 30, "{scarce}");
    }

    #[test]
    fn personas_follow_the_mix_exactly() {
        let deck = personas(20, [55, 30, 15], 42);
        let count = |p| deck.iter().filter(|x| **x == p).count();

        assert_eq!(deck.len(), 20);
        assert_eq!(
            (
                count(Persona::Patient),
                count(Persona::Impatient),
                count(Persona::Browser)
            ),
            (11, 6, 3)
        );
        assert_eq!(deck, personas(20, [55, 30, 15], 42));
        assert_eq!(personas(3, [1, 0, 0], 1), vec![Persona::Patient; 3]);
    }

    #[test]
    fn answers_are_classified_by_status_and_body() {
        let created = classify(Ok((
            StatusCode::CREATED,
            json!({"orderId": "o-1", "orderAmount": 1234}),
        )));
        let stock = classify(Ok((
            StatusCode::CONFLICT,
            json!({"error": {"code": "out_of_stock"}}),
        )));
        let down = classify(Ok((StatusCode::SERVICE_UNAVAILABLE, Value::Null)));

        assert_eq!(
            created,
            Outcome::Created {
                order_id: "o-1".into(),
                amount: 1234
            }
        );
        assert_eq!(
            stock,
            Outcome::Rejected {
                status: 409,
                code: "out_of_stock".into()
            }
        );
        assert_eq!(
            down,
            Outcome::Failed {
                status: 503,
                code: String::new()
            }
        );
        assert!(matches!(
            classify(Err("timeout".into())),
            Outcome::NoAnswer { .. }
        ));
    }
}
