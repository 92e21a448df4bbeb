//! SendMail, SmartReply, SmartForward: not implemented yet (HTTP 501).

use crate::protocol::Command;
use crate::wbxml::Element;

use super::command::{Ctx, Reply};

pub fn handle(command: Command, _ctx: &Ctx, _request: Option<&Element>) -> Reply {
    Reply::Http(501, format!("{command} is not implemented yet"))
}
