//! Provision (MS-ASPROV): the two-phase policy handshake.
//!
//! Phase one: the client asks for the policy (`PolicyType`
//! `MS-EAS-Provisioning-WBXML`) and gets the policy document with a
//! temporary key. Phase two: it acknowledges with that key and a policy
//! `Status`, and gets the final key, which every later command must carry in
//! `X-MS-PolicyKey` (or the base64 query's policy key).

use crate::wbxml::{Element, ProtocolVersion, code_page};

use super::command::{Ctx, Reply};
use super::xml::XmlOut;

/// The policy type of EAS 12.0 and later (MS-ASPROV 2.2.2.43).
pub const POLICY_TYPE: &str = "MS-EAS-Provisioning-WBXML";

/// The policy the mock hands out: permissive, so any client can comply.
/// Each setting is sent only in the versions whose code page has it.
const POLICY: &[(&str, &str)] = &[
    ("DevicePasswordEnabled", "0"),
    ("AlphanumericDevicePasswordRequired", "0"),
    ("PasswordRecoveryEnabled", "0"),
    ("RequireStorageCardEncryption", "0"),
    ("AttachmentsEnabled", "1"),
    ("MinDevicePasswordLength", "4"),
    ("MaxInactivityTimeDeviceLock", "900"),
    ("MaxDevicePasswordFailedAttempts", "8"),
    ("AllowSimpleDevicePassword", "1"),
    ("DevicePasswordExpiration", "0"),
    ("DevicePasswordHistory", "0"),
    ("AllowStorageCard", "1"),
    ("AllowCamera", "1"),
    ("RequireDeviceEncryption", "0"),
    ("AllowUnsignedApplications", "1"),
    ("AllowUnsignedInstallationPackages", "1"),
    ("MinDevicePasswordComplexCharacters", "1"),
    ("AllowWiFi", "1"),
    ("AllowTextMessaging", "1"),
    ("AllowPOPIMAPEmail", "1"),
    ("AllowBluetooth", "2"),
    ("AllowIrDA", "1"),
    ("RequireManualSyncWhenRoaming", "0"),
    ("AllowDesktopSync", "1"),
    ("MaxCalendarAgeFilter", "0"),
    ("AllowHTMLEmail", "1"),
    ("MaxEmailAgeFilter", "0"),
    ("MaxEmailBodyTruncationSize", "-1"),
    ("MaxEmailHTMLBodyTruncationSize", "-1"),
    ("RequireSignedSMIMEMessages", "0"),
    ("RequireEncryptedSMIMEMessages", "0"),
    ("RequireSignedSMIMEAlgorithm", "0"),
    ("RequireEncryptionSMIMEAlgorithm", "0"),
    ("AllowSMIMEEncryptionAlgorithmNegotiation", "2"),
    ("AllowSMIMESoftCerts", "1"),
    ("AllowBrowser", "1"),
    ("AllowConsumerEmail", "1"),
    ("AllowRemoteDesktop", "1"),
    ("AllowInternetSharing", "1"),
];

/// Provision status values (MS-ASPROV 2.2.2.54.1), top level and per policy.
const SUCCESS: u8 = 1;
const PROTOCOL_ERROR: u8 = 2;
const POLICY_UNKNOWN_TYPE: u8 = 3;
const POLICY_WRONG_KEY: u8 = 5;

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let policy = request.child("Policies").and_then(|p| p.child("Policy"));
    let Some(policy) = policy else {
        // A remote wipe acknowledgement (RemoteWipe) is not implemented yet;
        // anything without Policies/Policy is a protocol error.
        return status_only(PROTOCOL_ERROR, v);
    };
    let policy_type = policy.child_text("PolicyType").unwrap_or_default();
    let mut out = XmlOut::new("Provision", "Provision", &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.open("Policies").open("Policy");
    out.leaf("PolicyType", &policy_type);
    if policy_type != POLICY_TYPE {
        out.leaf("Status", POLICY_UNKNOWN_TYPE.to_string());
        out.close("Policy").close("Policies");
        return Reply::from_encoded(out.finish("Provision", v));
    }
    match policy.child_text("PolicyKey") {
        None => {
            // Phase one: the policy document and a temporary key.
            let key = ctx.device(|_, device, new_key| {
                let key = new_key();
                device.policy.temporary = Some(key);
                key
            });
            out.leaf("Status", SUCCESS.to_string());
            out.leaf("PolicyKey", key.to_string());
            out.open("Data").open("EASProvisionDoc");
            write_policy(&mut out, v);
            out.close("EASProvisionDoc").close("Data");
        }
        Some(acknowledged) => {
            // Phase two: the temporary key comes back with the client's status.
            let final_key = ctx.device(|_, device, new_key| {
                let matches = device
                    .policy
                    .temporary
                    .is_some_and(|t| acknowledged.trim() == t.to_string());
                matches.then(|| {
                    let key = new_key();
                    device.policy = super::state::PolicyState {
                        temporary: None,
                        current: Some(key),
                    };
                    key
                })
            });
            match final_key {
                Some(key) => {
                    out.leaf("Status", SUCCESS.to_string());
                    out.leaf("PolicyKey", key.to_string());
                }
                None => {
                    out.leaf("Status", POLICY_WRONG_KEY.to_string());
                }
            }
        }
    }
    out.close("Policy").close("Policies");
    Reply::from_encoded(out.finish("Provision", v))
}

fn write_policy(out: &mut XmlOut, v: ProtocolVersion) {
    let page = code_page(14).expect("the Provision code page exists");
    for (name, value) in POLICY {
        if page.tag_by_name(name).is_some_and(|t| t.exists_in(v)) {
            out.leaf(name, value);
        }
    }
}

fn status_only(status: u8, v: ProtocolVersion) -> Reply {
    let mut out = XmlOut::new("Provision", "Provision", &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish("Provision", v))
}
