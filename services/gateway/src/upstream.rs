//! The services behind the gateway: their names, where they listen, and how that is configured.

use reqwest::Url;
use shop_config::{Env, EnvError};

/// A service the gateway forwards to or probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    Identity,
    Products,
    Orders,
    Payments,
    OrderHistory,
}

impl Upstream {
    /// Every upstream, in the order `/health` lists them.
    pub const ALL: [Self; 5] = [
        Self::Identity,
        Self::Products,
        Self::Orders,
        Self::Payments,
        Self::OrderHistory,
    ];

    /// The service's name, as `/health` and error messages show it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Payments => "payments",
            Self::OrderHistory => "order-history",
        }
    }

    /// The variable holding the service's base URL.
    pub fn url_var(self) -> &'static str {
        match self {
            Self::Identity => "IDENTITY_URL",
            Self::Products => "PRODUCTS_URL",
            Self::Orders => "ORDERS_URL",
            Self::Payments => "PAYMENTS_URL",
            Self::OrderHistory => "ORDER_HISTORY_URL",
        }
    }

    /// The service on its port in the shop's port plan, on this machine.
    pub fn default_url(self) -> &'static str {
        match self {
            Self::Identity => "http://127.0.0.1:8085",
            Self::Products => "http://127.0.0.1:8081",
            Self::Orders => "http://127.0.0.1:8082",
            Self::Payments => "http://127.0.0.1:8083",
            Self::OrderHistory => "http://127.0.0.1:8084",
        }
    }
}

/// The base URL of every upstream (`IDENTITY_URL`, `PRODUCTS_URL`, `ORDERS_URL`, `PAYMENTS_URL`,
/// `ORDER_HISTORY_URL`), defaulting to the port plan on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrls {
    pub identity: Url,
    pub products: Url,
    pub orders: Url,
    pub payments: Url,
    pub order_history: Url,
}

impl UpstreamUrls {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            identity: url(env, Upstream::Identity)?,
            products: url(env, Upstream::Products)?,
            orders: url(env, Upstream::Orders)?,
            payments: url(env, Upstream::Payments)?,
            order_history: url(env, Upstream::OrderHistory)?,
        })
    }

    /// Every upstream at `base`: what a test uses when one stand-in plays every service.
    pub fn all_at(base: &Url) -> Self {
        Self {
            identity: base.clone(),
            products: base.clone(),
            orders: base.clone(),
            payments: base.clone(),
            order_history: base.clone(),
        }
    }

    pub fn get(&self, upstream: Upstream) -> &Url {
        match upstream {
            Upstream::Identity => &self.identity,
            Upstream::Products => &self.products,
            Upstream::Orders => &self.orders,
            Upstream::Payments => &self.payments,
            Upstream::OrderHistory => &self.order_history,
        }
    }

    pub fn get_mut(&mut self, upstream: Upstream) -> &mut Url {
        match upstream {
            Upstream::Identity => &mut self.identity,
            Upstream::Products => &mut self.products,
            Upstream::Orders => &mut self.orders,
            Upstream::Payments => &mut self.payments,
            Upstream::OrderHistory => &mut self.order_history,
        }
    }
}

/// An absolute `http(s)` URL: a typo should stop the gateway at startup, not turn every request to
/// that service into a 503.
fn url(env: &Env, upstream: Upstream) -> Result<Url, EnvError> {
    let name = upstream.url_var();
    let raw = env
        .get(name)?
        .unwrap_or_else(|| upstream.default_url().to_owned());
    let invalid = |reason: String| EnvError::Invalid {
        name: name.to_owned(),
        value: raw.clone(),
        reason,
    };
    let url = Url::parse(&raw).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL".to_owned()));
    }
    Ok(url)
}
