//! GetAttachment (MS-ASCMD 2.2.1.7): the content of one attachment, by the
//! `AttachmentName` query parameter, as the HTTP body. Protocol 12.1 only;
//! from 14.0 clients use ItemOperations `Fetch` with `FileReference`, and the
//! HTTP layer answers 501 for this command before it gets here.
//!
//! The request has no body. The response is HTTP 200 with the attachment's
//! bytes and its own `Content-Type` (e.g. `text/csv`), not WBXML.
//!
//! `AttachmentName` is the attachment's `airsyncbase:FileReference`, as
//! Sync hands it out (Exchange's form is opaque to clients too). Failures
//! are HTTP statuses, as everything in 12.1:
//! - no `AttachmentName`: 400 (a malformed request line);
//! - an attachment that does not exist: 500, what Exchange answers and the
//!   Interop suite checks (MS-ASCMD S06_GetAttachment).

use crate::protocol::ParamName;

use super::command::{Ctx, Reply};
use super::items::Attachment;
use super::state::Mailbox;

pub fn handle(ctx: &Ctx) -> Reply {
    let Some(name) = ctx.query.param(&ParamName::AttachmentName) else {
        return Reply::Http(
            400,
            "GetAttachment needs the AttachmentName parameter".to_string(),
        );
    };
    let found = ctx.store.with_mailbox(ctx.user, |m| find(m, name).cloned());
    match found {
        Some(a) => Reply::Raw {
            content_type: a.content_type,
            bytes: a.content,
        },
        None => Reply::Http(500, format!("no attachment `{name}` in this mailbox")),
    }
}

/// The attachment whose FileReference is `file_reference`, in any item of
/// the mailbox (also used by ItemOperations Fetch).
pub(super) fn find<'a>(mailbox: &'a Mailbox, file_reference: &str) -> Option<&'a Attachment> {
    mailbox
        .items
        .values()
        .flatten()
        .flat_map(|item| &item.attachments)
        .find(|a| a.file_reference == file_reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_attachment_is_found_by_its_file_reference() {
        let mailbox = Mailbox::standard();
        let a = find(&mailbox, "att-17").expect("the seed attachment");
        assert_eq!(a.content_type, "text/csv");
        assert!(a.content.starts_with(b"quarter,revenue"));
        assert!(find(&mailbox, "att-1").is_none());
        assert!(find(&mailbox, "").is_none());
    }
}
