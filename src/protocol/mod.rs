//! The EAS protocol model (being written).
pub use crate::wbxml::{ProtocolVersion, VersionSet};
