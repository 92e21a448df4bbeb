//! Runs suites against a server over HTTP: variables, captures,
//! expectations, normalised snapshots. Never imports the mock: the embedded
//! server is started by the caller and reached by its URL.

pub mod normalize;
pub mod outcome;
mod run;
pub mod snapshot;

pub use run::{
    DEFAULT_RUN_ID, OnSuiteDone, RunOptions, Target, Targets, device_id, evaluate, run, run_suite,
};
