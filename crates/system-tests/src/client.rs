//! The shop as a client sees it: users, products, orders, all through the gateway, retrying the
//! way the API contract allows (the same `Idempotency-Key` after an unanswered or 5xx request).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// How long one order keeps being retried while the system is partly down.
const ORDER_PATIENCE: Duration = Duration::from_secs(60);

/// How long [`Gateway::wait_settled`] waits for every order to leave `created`.
pub const SETTLE_PATIENCE: Duration = Duration::from_secs(90);

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub user_id: String,
    pub token: String,
}

/// The gateway of one stack.
#[derive(Debug, Clone)]
pub struct Gateway {
    http: reqwest::Client,
    base: String,
    admin_token: String,
}

impl Gateway {
    pub fn new(base: String, admin_token: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            base,
            admin_token: admin_token.to_owned(),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::Result<(StatusCode, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        want: StatusCode,
    ) -> Result<Value> {
        let (status, value) = self
            .call(method.clone(), path, token, body, &[])
            .await
            .with_context(|| format!("{method} {path}"))?;
        if status != want {
            bail!("{method} {path}: {status} {value}, expected {want}");
        }
        Ok(value)
    }

    /// Registers `name` and logs in.
    pub async fn register_and_login(&self, name: &str) -> Result<Shopper> {
        let email = format!("{name}@example.com");
        let password = format!("{name}-has-a-long-password");
        let user = json!({ "email": email, "password": password, "name": name });
        self.expect(
            Method::POST,
            "/api/auth/register",
            None,
            Some(&user),
            StatusCode::CREATED,
        )
        .await?;
        let login = json!({ "email": email, "password": password });
        let session = self
            .expect(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&login),
                StatusCode::OK,
            )
            .await?;
        Ok(Shopper {
            user_id: text(&session["userId"])?,
            token: text(&session["token"])?,
        })
    }

    /// The ids of `n` catalog products that are cheap enough to be paid and have stock to spare.
    pub async fn products(&self, n: usize) -> Result<Vec<String>> {
        let page = self
            .expect(
                Method::GET,
                "/api/products?pageSize=100",
                None,
                None,
                StatusCode::OK,
            )
            .await?;
        let ids: Vec<String> = page["items"]
            .as_array()
            .context("products page without items")?
            .iter()
            .filter(|p| p["stockQty"].as_i64() >= Some(50) && p["price"].as_i64() <= Some(100_000))
            .filter_map(|p| p["productId"].as_str().map(str::to_owned))
            .take(n)
            .collect();
        if ids.len() < n {
            bail!(
                "only {} of the {n} products wanted are in the catalog",
                ids.len()
            );
        }
        Ok(ids)
    }

    /// Places one order of one unit of `product_id` under `key`. A transport error, 429 or 5xx
    /// (the gateway or a service is down or restarting) is retried with the same key, which the
    /// API promises creates the order at most once; any other answer is final.
    pub async fn place_order(
        &self,
        shopper: &Shopper,
        product_id: &str,
        key: &str,
    ) -> Result<String> {
        let body = json!({ "products": [{ "productId": product_id, "qty": 1 }] });
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < ORDER_PATIENCE {
            let answer = self
                .call(
                    Method::POST,
                    "/api/orders",
                    Some(&shopper.token),
                    Some(&body),
                    &[("idempotency-key", key)],
                )
                .await;
            match answer {
                Ok((StatusCode::CREATED, order)) => return text(&order["orderId"]),
                Ok((status, value))
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    last = format!("{status} {value}");
                }
                Ok((status, value)) => bail!("order {key}: {status} {value}"),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("order {key} not accepted within {ORDER_PATIENCE:?}; last answer: {last}")
    }

    /// Places `n` orders (keys `<run>-<i>`) spread over `products`, `concurrency` at a time;
    /// their ids in the order of `i`.
    pub async fn place_orders(
        &self,
        shopper: &Shopper,
        products: &[String],
        run: &str,
        range: std::ops::Range<usize>,
        concurrency: usize,
    ) -> Result<Vec<String>> {
        stream::iter(range)
            .map(|i| {
                let product = &products[i % products.len()];
                let key = format!("{run}-{i}");
                async move { self.place_order(shopper, product, &key).await }
            })
            .buffered(concurrency)
            .try_collect()
            .await
    }

    /// Every item of `shopper`'s paginated list at `path` (`/api/orders`, `/api/order-history`).
    async fn all_items(&self, shopper: &Shopper, path: &str) -> Result<Vec<Value>> {
        const PAGE_SIZE: usize = 100;
        let mut all = Vec::new();
        for page in 1.. {
            let path = format!("{path}?page={page}&pageSize={PAGE_SIZE}");
            let mut value = self
                .expect(
                    Method::GET,
                    &path,
                    Some(&shopper.token),
                    None,
                    StatusCode::OK,
                )
                .await?;
            let Value::Array(items) = value["items"].take() else {
                bail!("{path}: a page without items: {value}");
            };
            let last = items.len() < PAGE_SIZE;
            all.extend(items);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// Every order of `shopper`, by id: its status (`created`, `paid`, `payment_failed`).
    pub async fn order_statuses(&self, shopper: &Shopper) -> Result<HashMap<String, String>> {
        self.all_items(shopper, "/api/orders")
            .await?
            .iter()
            .map(|order| Ok((text(&order["orderId"])?, text(&order["status"])?)))
            .collect()
    }

    /// Waits until every one of `order_ids` has left `created`; their final statuses.
    pub async fn wait_settled(
        &self,
        shopper: &Shopper,
        order_ids: &[String],
    ) -> Result<HashMap<String, String>> {
        let started = Instant::now();
        loop {
            // A poll that fails while the shop recovers (a 504 from orders busy catching up on a
            // loaded machine) is a poll to repeat, not the test's verdict; the patience bounds it.
            let statuses = match self.order_statuses(shopper).await {
                Ok(statuses) => statuses,
                Err(error) if started.elapsed() <= SETTLE_PATIENCE => {
                    eprintln!("polling the orders failed, polling again: {error:#}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let open = order_ids
                .iter()
                .filter(|id| statuses.get(*id).is_none_or(|s| s == "created"))
                .count();
            if open == 0 {
                return Ok(statuses);
            }
            if started.elapsed() > SETTLE_PATIENCE {
                bail!(
                    "{open} of {} orders still not settled after {SETTLE_PATIENCE:?}",
                    order_ids.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `shopper`'s order history: order id → payment id (built only from the streams).
    pub async fn history(&self, shopper: &Shopper) -> Result<HashMap<String, Value>> {
        self.all_items(shopper, "/api/order-history")
            .await?
            .iter()
            .map(|item| Ok((text(&item["orderId"])?, item["paymentId"].clone())))
            .collect()
    }

    /// `GET /api/ops/streams` as the operator.
    pub async fn streams_report(&self) -> Result<Value> {
        let token = self.admin_token.clone();
        self.expect(
            Method::GET,
            "/api/ops/streams",
            Some(&token),
            None,
            StatusCode::OK,
        )
        .await
    }

    /// The `lag` and `pending` of `group` on `stream` from the operator's report.
    pub async fn group_backlog(&self, stream: &str, group: &str) -> Result<(u64, u64)> {
        let report = self.streams_report().await?;
        let group = report
            .as_array()
            .context("the streams report is not an array")?
            .iter()
            .find(|s| s["stream"] == stream)
            .and_then(|s| {
                s["groups"]
                    .as_array()?
                    .iter()
                    .find(|g| g["name"] == group)
                    .cloned()
            })
            .with_context(|| format!("no group {group} on {stream} in {report}"))?;
        Ok((
            group["lag"].as_u64().unwrap_or(u64::MAX),
            group["pending"].as_u64().context("pending")?,
        ))
    }
}

fn text(value: &Value) -> Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("expected a string, got {value}"))
}
