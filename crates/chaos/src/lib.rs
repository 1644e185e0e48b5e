#![doc = include_str!("../README.md")]

pub mod args;
pub mod dev;
pub mod faults;
pub mod invariants;
pub mod poison;
pub mod quiesce;
pub mod read;
pub mod redis;
pub mod report;
pub mod resp;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod traffic;
pub mod world;
