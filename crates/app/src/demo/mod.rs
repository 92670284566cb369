//! Deterministic, realistic analytics data for `ferry demo` and the benchmarks: the same seed,
//! size and end time always give the same rows.
//!
//! - `catalog`: the pages, referrers, products, names and countries drawn from.
//! - `generator`: visitors, their sessions, page views, events and identities.

mod catalog;
mod generator;

pub use generator::{DemoSpec, Generator, Tally};
