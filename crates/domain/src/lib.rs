#![doc = include_str!("../README.md")]

pub mod events;
mod ids;
mod money;
mod order;
mod quantity;
pub mod time;

pub use ids::{IdError, OrderId, PaymentId, ProductId, UserId};
pub use money::{CURRENCY, Money, MoneyError};
pub use order::{OrderStatus, Transition, UnknownStatus, transition};
pub use quantity::{Quantity, QuantityError};
