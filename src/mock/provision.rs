//! Provision (MS-ASPROV): the two-phase policy handshake.
//!
//! Phase one: the client asks for the policy (`PolicyType`
//! `MS-EAS-Provisioning-WBXML`) and gets the policy document with a
//! temporary key. Phase two: it acknowledges with that key and a policy
//! `Status`, and gets the final key, which every later command must carry in
//! `X-MS-PolicyKey` (or the base64 query's policy key).
//!
//! From 14.1 the request may start with `settings:DeviceInformation` (a
//! `Set`), stored like Settings DeviceInformation and answered first in the
//! response with its own `settings:Status`.
//!
//! Remote wipe (MS-ASPROV 3.2.5.1.2), ordered with the `remote-wipe` test
//! hook: every other command of the device gets Status 140
//! RemoteWipeRequested (HTTP 449 up to 12.1); an empty Provision gets
//! `Status` 1 and `<RemoteWipe/>` (or `<AccountOnlyRemoteWipe/>`, 16.1
//! only); a Provision asking for the policy gets the policy as usual, with
//! the directive after `Policies`; the device acknowledges with
//! `<RemoteWipe><Status>1</Status></RemoteWipe>` (2: failed), which clears
//! the wipe when 1.

use crate::wbxml::{Element, ProtocolVersion, code_page};

use super::command::{Ctx, Reply};
use super::state::{DeviceInfo, DeviceState, Wipe};
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
    let Some(parts) = parts(request, v) else {
        return status_only(PROTOCOL_ERROR, v);
    };
    if let Some(ack) = parts.ack {
        return acknowledge_wipe(ctx, ack);
    }
    let wipe = ctx
        .device(|_, device, _| device.wipe)
        .filter(|w| wipe_expressible(*w, v));
    let Some(policies) = parts.policies else {
        // An empty Provision: what a device sends after Status 140 / HTTP
        // 449 (MS-ASPROV 3.1.5.1.1). It gets the wipe directive if one is
        // pending (3.2.5.1.1); otherwise it is a protocol error.
        let Some(wipe) = wipe else {
            return status_only(PROTOCOL_ERROR, v);
        };
        let mut out = provision_out(parts.device_information.is_some());
        if let Some(info) = parts.device_information {
            device_information(ctx, info, &mut out);
        }
        out.leaf("Status", SUCCESS.to_string());
        out.empty(directive(wipe));
        return Reply::from_encoded(out.finish("Provision", v));
    };
    let Some(policy) = policies.child("Policy") else {
        return status_only(PROTOCOL_ERROR, v);
    };
    let mut out = provision_out(parts.device_information.is_some());
    // The response's order (MS-ASPROV 3.2.5.1.1): settings:DeviceInformation,
    // Status, Policies, then a wipe directive if one is pending.
    if let Some(info) = parts.device_information {
        device_information(ctx, info, &mut out);
    }
    out.leaf("Status", SUCCESS.to_string());
    out.open("Policies").open("Policy");
    let policy_type = policy.child_text("PolicyType").unwrap_or_default();
    out.leaf("PolicyType", &policy_type);
    if policy_type != POLICY_TYPE {
        out.leaf("Status", POLICY_UNKNOWN_TYPE.to_string());
    } else {
        handshake(ctx, policy, &mut out);
    }
    out.close("Policy").close("Policies");
    // A device that asks for the policy while a wipe is pending still gets
    // the directive: the wipe stays pending until it is acknowledged.
    if let Some(wipe) = wipe {
        out.empty(directive(wipe));
    }
    Reply::from_encoded(out.finish("Provision", v))
}

/// Whether a pending wipe can be sent in version `v`: an account-only wipe
/// only in 16.1, the only version with `AccountOnlyRemoteWipe` (MS-ASPROV
/// 2.2.2.1). Below that it stays pending and unsignalled.
pub fn wipe_expressible(wipe: Wipe, v: ProtocolVersion) -> bool {
    match wipe {
        Wipe::Device => true,
        Wipe::AccountOnly => v >= ProtocolVersion::V16_1,
    }
}

fn directive(wipe: Wipe) -> &'static str {
    match wipe {
        Wipe::Device => "RemoteWipe",
        Wipe::AccountOnly => "AccountOnlyRemoteWipe",
    }
}

fn provision_out(with_settings: bool) -> XmlOut {
    XmlOut::new(
        "Provision",
        "Provision",
        if with_settings { &["Settings"] } else { &[] },
    )
}

/// The children of a Provision request (MS-ASPROV 3.1.5.1): an optional
/// `settings:DeviceInformation` (from 14.1) first, then `Policies`, or a wipe
/// acknowledgement, or nothing. `None` for anything else.
struct Parts<'a> {
    device_information: Option<&'a Element>,
    policies: Option<&'a Element>,
    ack: Option<&'a Element>,
}

fn parts(request: &Element, v: ProtocolVersion) -> Option<Parts<'_>> {
    let mut parts = Parts {
        device_information: None,
        policies: None,
        ack: None,
    };
    for child in request.elements() {
        let nothing_yet =
            parts.device_information.is_none() && parts.policies.is_none() && parts.ack.is_none();
        let nothing_but_info = parts.policies.is_none() && parts.ack.is_none();
        match (child.namespace, child.name.as_str()) {
            // settings:DeviceInformation in Provision: 14.1 on (2.2.2.53).
            ("Settings", "DeviceInformation") if nothing_yet && v >= ProtocolVersion::V14_1 => {
                parts.device_information = Some(child);
            }
            ("Provision", "Policies") if nothing_but_info => parts.policies = Some(child),
            ("Provision", "RemoteWipe" | "AccountOnlyRemoteWipe") if nothing_yet => {
                parts.ack = Some(child);
            }
            _ => return None,
        }
    }
    Some(parts)
}

/// The two phases of the policy handshake, written inside `Policy` after
/// `PolicyType`.
fn handshake(ctx: &Ctx, policy: &Element, out: &mut XmlOut) {
    let v = ctx.version;
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
            write_policy(out, v);
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
}

/// A wipe acknowledgement (MS-ASPROV 3.1.5.1.2.2, .2.3): `Status` 1 (wiped)
/// clears the wipe and answers 1 (3.2.5.1.2.2); the device then starts
/// over, as a new partnership (no policy key, no FolderSync state, no
/// device information). `Status` 2 (failed) answers 2 with the directive
/// again. An acknowledgement of a wipe that is not pending, of the other
/// kind, or without a `Status` of 1 or 2 is a protocol error.
fn acknowledge_wipe(ctx: &Ctx, ack: &Element) -> Reply {
    let v = ctx.version;
    let kind = if ack.name == "RemoteWipe" {
        Wipe::Device
    } else {
        Wipe::AccountOnly
    };
    let status = (ack.child_names() == ["Status"])
        .then(|| ack.child_text("Status"))
        .flatten();
    let wiped = match status.as_deref().map(str::trim) {
        Some("1") => true,
        Some("2") => false,
        _ => return status_only(PROTOCOL_ERROR, v),
    };
    let pending = ctx.device(|_, device, _| {
        if device.wipe != Some(kind) {
            return false;
        }
        if wiped {
            *device = DeviceState {
                last_version: device.last_version,
                ..DeviceState::default()
            };
        }
        true
    });
    if !pending {
        return status_only(PROTOCOL_ERROR, v);
    }
    if wiped {
        return status_only(SUCCESS, v);
    }
    let mut out = provision_out(false);
    out.leaf("Status", PROTOCOL_ERROR.to_string());
    out.empty(directive(kind));
    Reply::from_encoded(out.finish("Provision", v))
}

/// `settings:DeviceInformation` in Provision (14.1 on): a `Set` with the
/// device's fields, stored as Settings DeviceInformation stores them
/// (MS-ASPROV 3.2.5.1.1: the server SHOULD store it); answered with
/// `settings:Status` 1, or 2 (protocol error) for anything but one `Set`
/// holding at least one field with text only. The policy handshake goes on
/// either way.
fn device_information(ctx: &Ctx, info: &Element, out: &mut XmlOut) {
    let fields = set_fields(info);
    let status = match fields {
        Some(fields) => {
            ctx.device(|_, device, _| device.device_info = Some(DeviceInfo { fields }));
            SUCCESS
        }
        None => PROTOCOL_ERROR,
    };
    out.open("Settings:DeviceInformation");
    out.leaf("Settings:Status", status.to_string());
    out.close("Settings:DeviceInformation");
}

fn set_fields(info: &Element) -> Option<Vec<(String, String)>> {
    let children = info.elements_only_in("Settings")?;
    let [set] = children.as_slice() else {
        return None;
    };
    if set.name != "Set" {
        return None;
    }
    let mut fields = Vec::new();
    for field in set.elements_only_in("Settings")? {
        if field.elements().next().is_some() {
            return None;
        }
        fields.push((field.name.clone(), field.text()));
    }
    (!fields.is_empty()).then_some(fields)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;
    use crate::wbxml::{DecodeOptions, EncodeOptions, encode};

    fn request(xml: &str, v: ProtocolVersion) -> Element {
        let bytes = encode(xml, &EncodeOptions::strict(v)).unwrap();
        Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap()
    }

    fn response(reply: Reply, v: ProtocolVersion) -> Element {
        let Reply::Wbxml(bytes) = reply else {
            panic!("not WBXML: {reply:?}");
        };
        Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap()
    }

    #[test]
    fn device_information_is_stored_and_a_bad_one_is_not() {
        let store = Store::new(&Account::defaults());
        let v = ProtocolVersion::V14_1;
        let ctx = Ctx::for_test(&store, "alice", "d1", v);
        let good = request(
            "<Provision xmlns=\"Provision:\" xmlns:settings=\"Settings:\">\
             <settings:DeviceInformation><settings:Set><settings:Model>M1</settings:Model>\
             <settings:OS>OS 1</settings:OS></settings:Set></settings:DeviceInformation>\
             <Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy>\
             </Policies></Provision>",
            v,
        );
        let r = response(handle(&ctx, &good), v);
        assert_eq!(r.child_names(), ["DeviceInformation", "Status", "Policies"]);
        assert_eq!(
            r.child("DeviceInformation")
                .unwrap()
                .child_text("Status")
                .as_deref(),
            Some("1")
        );
        let stored = ctx.device(|_, d, _| d.device_info.clone()).expect("stored");
        assert_eq!(
            stored.fields,
            [
                ("Model".to_string(), "M1".to_string()),
                ("OS".to_string(), "OS 1".to_string())
            ]
        );
        // A DeviceInformation without Set: settings:Status 2, nothing stored,
        // the policy handshake goes on.
        let other = Ctx::for_test(&store, "alice", "d2", v);
        let bad = request(
            "<Provision xmlns=\"Provision:\" xmlns:settings=\"Settings:\">\
             <settings:DeviceInformation/><Policies><Policy>\
             <PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>",
            v,
        );
        let r = response(handle(&other, &bad), v);
        assert_eq!(
            r.child("DeviceInformation")
                .unwrap()
                .child_text("Status")
                .as_deref(),
            Some("2")
        );
        assert!(r.child("Policies").is_some());
        assert!(other.device(|_, d, _| d.device_info.is_none()));
    }
}
