//! Ping: not implemented yet (HTTP 501).

use crate::wbxml::Element;

use super::command::{Ctx, Reply};

/// What a device's last Ping asked for (filled in by the Ping handler).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PingCache {}

pub async fn handle(_ctx: &Ctx<'_>, _request: Option<&Element>) -> Reply {
    Reply::Http(501, "Ping is not implemented yet".to_string())
}
