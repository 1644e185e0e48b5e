//! The one HTTP client of a run and the calls it makes: the typed ones of setup and settling, and
//! the lean timed ones of the load itself (status only, body drained so the connection is reused).

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::stats::Failure;

/// One connection pool for every request of the run, sized so no worker waits for a connection
/// or opens a new one per request. Nagle is off: requests are small and latency is the measure.
pub fn build(pool_size: usize, timeout: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(pool_size)
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .build()
}

/// A failed setup or settling call, with what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{what}")]
    Transport {
        what: String,
        #[source]
        error: reqwest::Error,
    },
    #[error("{what}: answered {status}: {body}")]
    Status {
        what: String,
        status: StatusCode,
        body: String,
    },
}

/// A registered user's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    /// `Bearer <token>`, ready to send.
    pub authorization: HeaderValue,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswer {
    token: String,
}

/// A page of the catalog, as much of it as the load generator reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    pub items: Vec<CatalogProduct>,
    pub total: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogProduct {
    pub product_id: String,
    pub name: String,
    pub brand: String,
    /// Cents.
    pub price: i64,
    pub stock_qty: i64,
}

/// A page of a user's orders.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub items: Vec<OrderSummary>,
    pub total: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub order_id: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlacedOrder {
    order_id: String,
}

/// The shop's gateway, for the calls outside the timed load.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub http: Client,
    pub base: Url,
}

impl Gateway {
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.base.as_str().trim_end_matches('/')
        )
    }

    /// `GET /health`: the body on 200, an error naming what is down otherwise.
    pub async fn health(&self) -> Result<serde_json::Value, CallError> {
        self.get_json("GET /health", &self.url("/health"), None)
            .await
    }

    async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<reqwest::Response, CallError> {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .map_err(|error| CallError::Transport {
                what: what.to_owned(),
                error,
            })
    }

    /// Registers `email` (an existing account is fine) and logs in.
    pub async fn session(&self, email: &str, password: &str) -> Result<Session, CallError> {
        let name = email.split('@').next().unwrap_or(email);
        let body = json!({ "email": email, "password": password, "name": name });
        let what = format!("POST /api/auth/register ({email})");
        let answer = self.post_json("/api/auth/register", &body, &what).await?;
        // 409: registered by an earlier run with the same --run-id.
        if !(answer.status() == StatusCode::CREATED || answer.status() == StatusCode::CONFLICT) {
            return Err(status_error(what, answer).await);
        }

        let what = format!("POST /api/auth/login ({email})");
        let login = json!({ "email": email, "password": password });
        let answer = self.post_json("/api/auth/login", &login, &what).await?;
        let login: LoginAnswer = read_json(what.clone(), answer).await?;
        let authorization =
            HeaderValue::try_from(format!("Bearer {}", login.token)).map_err(|_| {
                CallError::Status {
                    what,
                    status: StatusCode::OK,
                    body: "a token that is not a valid header value".to_owned(),
                }
            })?;
        Ok(Session {
            email: email.to_owned(),
            authorization,
        })
    }

    /// `GET /api/products?page=&pageSize=`.
    pub async fn products(&self, page: u64, page_size: u64) -> Result<ProductPage, CallError> {
        let path = format!("/api/products?page={page}&pageSize={page_size}");
        self.get_json(&format!("GET {path}"), &self.url(&path), None)
            .await
    }

    /// `GET /api/orders?page=&pageSize=` as `session`'s user.
    pub async fn orders(
        &self,
        session: &Session,
        page: u64,
        page_size: u64,
    ) -> Result<OrderPage, CallError> {
        let path = format!("/api/orders?page={page}&pageSize={page_size}");
        let what = format!("GET {path} ({})", session.email);
        self.get_json(&what, &self.url(&path), Some(&session.authorization))
            .await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
        authorization: Option<&HeaderValue>,
    ) -> Result<T, CallError> {
        let mut request = self.http.get(url);
        if let Some(authorization) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let answer = request.send().await.map_err(|error| CallError::Transport {
            what: what.to_owned(),
            error,
        })?;
        read_json(what.to_owned(), answer).await
    }
}

async fn read_json<T: DeserializeOwned>(
    what: String,
    answer: reqwest::Response,
) -> Result<T, CallError> {
    if !answer.status().is_success() {
        return Err(status_error(what, answer).await);
    }
    answer
        .json()
        .await
        .map_err(|error| CallError::Transport { what, error })
}

async fn status_error(what: String, answer: reqwest::Response) -> CallError {
    let status = answer.status();
    let mut body = answer.text().await.unwrap_or_default();
    body.truncate(300);
    CallError::Status { what, status, body }
}

/// A timed `GET`: success is a 2xx with its body read to the end.
pub async fn get(http: &Client, url: &str) -> Result<(), Failure> {
    let answer = http
        .get(url)
        .send()
        .await
        .map_err(|error| Failure::from_reqwest(&error))?;
    drain(answer).await
}

/// A timed `POST /api/orders` of one unit of `product_id`; the new order's id on 201.
pub async fn place_order(
    http: &Client,
    url: &str,
    authorization: &HeaderValue,
    idempotency_key: &str,
    product_id: &str,
) -> Result<String, Failure> {
    let body = json!({ "products": [{ "productId": product_id, "qty": 1 }] });
    let answer = http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .header("idempotency-key", idempotency_key)
        .json(&body)
        .send()
        .await
        .map_err(|error| Failure::from_reqwest(&error))?;
    let status = answer.status();
    if !status.is_success() {
        // Read the refusal too, so the connection goes back to the pool.
        let _ = answer.bytes().await;
        return Err(Failure::Status(status.as_u16()));
    }
    let placed: PlacedOrder = answer
        .json()
        .await
        .map_err(|error| Failure::from_reqwest(&error))?;
    Ok(placed.order_id)
}

async fn drain(answer: reqwest::Response) -> Result<(), Failure> {
    let status = answer.status();
    let body = answer.bytes().await;
    if !status.is_success() {
        return Err(Failure::Status(status.as_u16()));
    }
    body.map(drop)
        .map_err(|error| Failure::from_reqwest(&error))
}
