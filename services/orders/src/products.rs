//! The client of `products`' internal reservation API: one call prices an order's lines from the
//! catalog and reserves their stock; another gives a reservation back.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use shop_domain::OrderId;
use shop_http::ErrorBody;

use crate::order::{PricedLine, RequestedLine};

/// What a call to `products` can end in, besides success.
#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    /// Products' message, which names the product.
    #[error("{0}")]
    ProductNotFound(String),
    /// Products' message, which names the product.
    #[error("{0}")]
    OutOfStock(String),
    /// A product's stock was too contended to reserve in time; nothing was reserved.
    #[error("stock busy: {0}")]
    StockBusy(String),
    /// The reservation id was used before and that reservation has ended: it cannot be reused.
    #[error("reservation already ended: {0}")]
    ReservationReleased(String),
    /// Any other answer the contract does not allow for this call: a bug on one side.
    #[error("products answered {status} {code}: {message}")]
    Rejected {
        status: StatusCode,
        code: String,
        message: String,
    },
    /// Unreachable, timed out, or a server error: whether anything was reserved is unknown.
    #[error("products is unavailable: {0}")]
    Unavailable(String),
}

/// A handle on `products`, cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct ProductsClient {
    http: reqwest::Client,
    /// `PRODUCTS_URL` without its trailing `/`, so paths append cleanly.
    base: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReserveRequest<'a> {
    reservation_id: &'a OrderId,
    lines: &'a [RequestedLine],
}

#[derive(Deserialize)]
struct ReserveResponse {
    lines: Vec<PricedLine>,
}

impl ProductsClient {
    /// Every call is bounded by `timeout`, connecting included.
    pub fn new(base: &Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// Prices and reserves `lines` under `id`, all or nothing. The same id with the same lines again
    /// reserves nothing more and answers the same lines: retrying is safe.
    pub async fn reserve(
        &self,
        id: &OrderId,
        lines: &[RequestedLine],
    ) -> Result<Vec<PricedLine>, ProductsError> {
        let response = self
            .http
            .post(format!("{}/internal/reservations", self.base))
            .json(&ReserveRequest {
                reservation_id: id,
                lines,
            })
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        // A body cut short (a timeout while reading it) is as unknown an outcome as no answer.
        let reserved: ReserveResponse = response.json().await.map_err(unavailable)?;
        Ok(reserved.lines)
    }

    /// Gives the stock of reservation `id` back. Releasing twice, or a reservation that was never
    /// made, is fine: both mean nothing is held any more.
    pub async fn release(&self, id: &OrderId) -> Result<(), ProductsError> {
        let response = self
            .http
            .post(format!("{}/internal/reservations/{id}/release", self.base))
            .send()
            .await
            .map_err(unavailable)?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failure(response).await)
    }
}

fn unavailable(error: reqwest::Error) -> ProductsError {
    ProductsError::Unavailable(error.without_url().to_string())
}

/// Reads a non-2xx answer: the shop's error body, mapped to what the caller can act on.
async fn failure(response: reqwest::Response) -> ProductsError {
    let status = response.status();
    let ErrorBody { error } = match response.json::<ErrorBody>().await {
        Ok(body) => body,
        Err(_) if status.is_server_error() => {
            return ProductsError::Unavailable(format!("status {status}"));
        }
        Err(error) => {
            return ProductsError::Rejected {
                status,
                code: String::new(),
                message: format!("unreadable error body: {error}"),
            };
        }
    };
    match (status, error.code.as_str()) {
        (StatusCode::NOT_FOUND, "product_not_found") => {
            ProductsError::ProductNotFound(error.message)
        }
        (StatusCode::CONFLICT, "out_of_stock") => ProductsError::OutOfStock(error.message),
        (StatusCode::CONFLICT, "reservation_released") => {
            ProductsError::ReservationReleased(error.message)
        }
        (StatusCode::SERVICE_UNAVAILABLE, "stock_busy") => ProductsError::StockBusy(error.message),
        (status, code) if status.is_server_error() => {
            ProductsError::Unavailable(format!("status {status}, {code}: {}", error.message))
        }
        (status, _) => ProductsError::Rejected {
            status,
            code: error.code,
            message: error.message,
        },
    }
}
