//! Integration tests for veil-audit (one test binary, ripgrep style).
//!
//! - `log`: append, verify, the tamper cases, refusing a torn log;
//! - `concurrency`: several real processes appending to one log;
//! - `rules`: legal basis for disclosures, purpose limitation, required fields;
//! - `retention`: the protocol examples and JSON input files;
//! - `retention_props`: property tests of the planner's invariants over random schedules.
#![allow(clippy::unwrap_used)]

#[path = "suite/common.rs"]
mod common;
#[path = "suite/concurrency.rs"]
mod concurrency;
#[path = "suite/log.rs"]
mod log;
#[path = "suite/retention.rs"]
mod retention;
#[path = "suite/retention_props.rs"]
mod retention_props;
#[path = "suite/retention_seconds.rs"]
mod retention_seconds;
#[path = "suite/rules.rs"]
mod rules;
