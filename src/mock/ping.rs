//! Ping: not implemented yet (HTTP 501).

use crate::wbxml::Element;

use super::command::{Ctx, Reply};

pub async fn handle(_ctx: &Ctx<'_>, _request: Option<&Element>) -> Reply {
    Reply::Http(501, "Ping is not implemented yet".to_string())
}
