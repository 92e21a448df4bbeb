//! KB967525 (Exchange 2007 Service Pack 1): "Error 4 is returned when you
//! synchronize a supported list of contact properties". A class tag the
//! server needed was removed in SP1, so a Sync whose collection carries
//! `<Supported>` (MS-ASCMD 2.2.3.179) is answered with Status 4
//! (ProtocolError) instead of being synchronised; fixed in Update Rollup 9.
//!
//! The failure is the collection's (`Collection/Status` 4, its SyncKey
//! echoed, nothing applied); other collections of the same request are
//! synchronised normally. The KB speaks of contacts; the lost tag broke the
//! `Supported` parsing itself, so any collection carrying it fails.

use crate::wbxml::Element;

use super::edit::{add_failed_collections, fail_collections};
use super::{Answer, Before, Call, Fault, Memo};

/// Sync status 4 (MS-ASCMD 2.2.3.177.17).
const PROTOCOL_ERROR: u8 = 4;

pub struct SupportedIsProtocolError;

impl Fault for SupportedIsProtocolError {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        fail_collections(call, |_, c: &Element| {
            c.child("Supported").map(|_| PROTOCOL_ERROR)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        add_failed_collections(call, answer, memo)
    }
}
