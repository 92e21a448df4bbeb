//! The conformance referee (`eastest serve --validate`): the mock records
//! each device's session and checks every request a device client sends
//! against the protocol, so that a vendor learns what to fix before the
//! client meets a customer's Exchange.
//!
//! The referee only observes: it never changes what the mock answers (the
//! scripted server side of a session is a scenario's job, `super::scenario`).
//! Each rule it applies is a [`Check`] with a stable id, a severity taken
//! from the spec's wording (MUST / SHOULD), a spec reference and a message
//! that says what to fix; each time a request breaks one, the device's
//! session gets a [`Finding`].
//!
//! Scenarios lead a client into situations where the protocol requires a
//! reaction (start a collection over after Status 3, provision again after
//! HTTP 449, wait out a `Retry-After`); how the client reacted is a
//! [`Reaction`], reported beside the findings.

mod check;

pub use check::{Check, Finding, Reaction, ReactionResult, Severity};
