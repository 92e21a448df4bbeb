//! MeetingResponse: not implemented yet (HTTP 501).

use crate::wbxml::Element;

use super::command::{Ctx, Reply};

pub fn handle(_ctx: &Ctx, _request: &Element) -> Reply {
    Reply::Http(501, "MeetingResponse is not implemented yet".to_string())
}
