//! The EAS protocol model: what a request line and a `Status` value mean,
//! independent of any transport or WBXML body.
//!
//! - [`command`]: the MS-ASCMD commands, their `Cmd=` names, base64
//!   command codes, the versions that define them and their body kinds.
//! - [`datetime`]: the MS-ASDTYPE date-time form
//!   (`2026-05-08T10:00:00.000Z`), parsed into an [`EasDateTime`].
//! - [`query`]: the two MS-ASHTTP request-line forms (plain and base64),
//!   parsed into and built from one [`RequestQuery`].
//! - [`status`]: status code tables, so reports name codes
//!   (`Status 4 (ProtocolError)`).
//! - [`ProtocolVersion`] and [`VersionSet`] live with the WBXML codec, which
//!   needs them for version gating; they are re-exported here.
//!
//! ```
//! use eastest::protocol::{describe, Command, ProtocolVersion, RequestQuery, StatusScope};
//!
//! // The base64 example from MS-ASHTTP 2.2.1.1.1.1.
//! let q = RequestQuery::parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l").unwrap();
//! assert_eq!(q.command, Command::Sync);
//! assert_eq!(q.protocol_version, Some(ProtocolVersion::V14_0));
//! assert_eq!(q.locale, Some(0x0409));
//! assert_eq!(q.device_id, "v140Device");
//!
//! // The same request in plain form (the version then goes in a header).
//! let q = RequestQuery { user: Some("jo".into()), ..q };
//! assert_eq!(q.to_plain(), "Cmd=Sync&User=jo&DeviceId=v140Device&DeviceType=SmartPhone");
//!
//! assert!(!Command::GetAttachment.is_supported_in(ProtocolVersion::V14_0));
//! assert_eq!(describe(StatusScope::Sync, 142).to_string(), "Status 142 (DeviceNotProvisioned)");
//! ```

pub mod command;
pub mod datetime;
pub mod query;
pub mod status;
pub mod timezone;

pub use crate::wbxml::{ProtocolVersion, VersionSet};
pub use command::{Command, RequestBody, UnknownCommand};
pub use datetime::EasDateTime;
pub use query::{Location, ParamName, QueryError, QueryForm, QueryParam, RequestQuery};
pub use status::{StatusInfo, StatusName, StatusScope, describe, lookup};
