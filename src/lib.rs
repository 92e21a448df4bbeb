//! eastest: an Exchange ActiveSync (EAS) conformance test harness.
//!
//! - [`wbxml`]: the MS-ASWBXML codec (WBXML <-> XML, every code page, version-aware).
//! - [`protocol`]: the protocol model: versions, commands, MS-ASHTTP query forms, status codes.
//! - [`mock`]: the embedded mock EAS server.
//! - [`client`]: the EAS client (HTTP, request lines, provisioning).
//! - [`suite`]: the declarative suite format.
//! - [`runner`]: runs suites against a server, with snapshots.
//! - [`report`]: console, JUnit and JSON reports of a run.
//! - [`embedded`]: the embedded mock as the runner's target (one per suite).

pub mod client;
pub mod diagnostic;
pub mod embedded;
pub mod mock;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod suite;
pub mod wbxml;
