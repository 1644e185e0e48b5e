#![doc = include_str!("../README.md")]

pub mod client;
pub mod ledger;
pub mod stack;

pub use client::{Gateway, Shopper};
pub use stack::Stack;
