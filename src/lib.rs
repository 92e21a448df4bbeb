//! eastest: an Exchange ActiveSync (EAS) conformance test harness.
//!
//! - [`wbxml`]: the MS-ASWBXML codec (WBXML <-> XML, every code page, version-aware).
//! - [`protocol`]: the protocol model: versions, commands, MS-ASHTTP query forms, status codes.
//! - [`mock`]: the embedded mock EAS server (in progress).

pub mod mock;
pub mod protocol;
pub mod wbxml;
