//! GetAttachment: not implemented yet (HTTP 501).

use super::command::{Ctx, Reply};

pub fn handle(_ctx: &Ctx) -> Reply {
    Reply::Http(501, "GetAttachment is not implemented yet".to_string())
}
