//! The Provision handshake (MS-ASPROV 3.1.5.1) as the client runs it on
//! its own: the request bodies and the checks of the two answers.
//!
//! Phase one (the policy download) asks for the policy with no policy key;
//! phase two (the acknowledgment) sends the temporary key back, in the body
//! and as the request's policy key, with policy `Status` 1 (the policy was
//! applied: the harness is not a real device and complies with anything).
//! The final key of the answer is what later requests carry.
//!
//! A `RemoteWipe` or `AccountOnlyRemoteWipe` in either answer stops the
//! handshake with [`ClientError::RemoteWipeRequested`]: acknowledging a
//! wipe is a decision a suite makes explicitly.

use crate::protocol::{ProtocolVersion, StatusScope, describe};
use crate::wbxml::{DecodeOptions, Element, EncodeOptions, encode};

use super::{ClientError, Response};

/// The policy type of 12.0 and later (MS-ASPROV 2.2.2.43); 12.1 uses it too.
pub const POLICY_TYPE: &str = "MS-EAS-Provisioning-WBXML";
/// The policy type of 2.5 (MS-ASPROV 2.2.2.43).
pub const POLICY_TYPE_2_5: &str = "MS-WAP-Provisioning-XML";

/// The value of a successful Provision or Policy `Status` (MS-ASPROV 2.2.2.54).
const STATUS_SUCCESS: u32 = 1;

/// Which half of the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The policy download (MS-ASPROV 3.1.5.1.1).
    Download,
    /// The acknowledgment (MS-ASPROV 3.1.5.1.2.1).
    Acknowledge,
}

impl Phase {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Download => "the policy download (phase one)",
            Phase::Acknowledge => "the acknowledgment (phase two)",
        }
    }
}

/// The policy type to ask for in `version`.
pub fn policy_type(version: ProtocolVersion) -> &'static str {
    if version >= ProtocolVersion::V12_0 {
        POLICY_TYPE
    } else {
        POLICY_TYPE_2_5
    }
}

/// The phase-one body: `Policies/Policy/PolicyType`.
pub(crate) fn download_request(version: ProtocolVersion) -> Result<Vec<u8>, ClientError> {
    let xml = format!(
        "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>{}</PolicyType>\
         </Policy></Policies></Provision>",
        policy_type(version)
    );
    encode_body(&xml, version, "Provision (policy download)")
}

/// The phase-two body: PolicyType, the temporary PolicyKey, then Status 1
/// (MS-ASPROV 2.2.2.41: PolicyKey before Status).
pub(crate) fn acknowledge_request(
    version: ProtocolVersion,
    temporary_key: u32,
) -> Result<Vec<u8>, ClientError> {
    let xml = format!(
        "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>{}</PolicyType>\
         <PolicyKey>{temporary_key}</PolicyKey><Status>{STATUS_SUCCESS}</Status>\
         </Policy></Policies></Provision>",
        policy_type(version)
    );
    encode_body(&xml, version, "Provision (acknowledgment)")
}

fn encode_body(
    xml: &str,
    version: ProtocolVersion,
    what: &'static str,
) -> Result<Vec<u8>, ClientError> {
    encode(xml, &EncodeOptions::strict(version))
        .map_err(|source| ClientError::Encode { what, source })
}

/// Checks one answer of the handshake and returns its policy key.
pub(crate) fn policy_key_of(
    response: &Response,
    version: ProtocolVersion,
    phase: Phase,
) -> Result<u32, ClientError> {
    let fail = |reason: String| ClientError::Provision {
        phase: phase.name(),
        reason,
    };
    if response.status != 200 {
        let hint = match response.status {
            401 => ": check the user name and password",
            403 => ": the user is not allowed to use ActiveSync",
            449 => ": the server asks for provisioning while provisioning",
            _ => "",
        };
        return Err(fail(format!("HTTP {}{hint}", response.status)));
    }
    if response.body.is_empty() {
        return Err(fail("HTTP 200 with an empty body".into()));
    }
    let root = Element::from_wbxml(&response.body, &DecodeOptions::lenient(version))
        .map_err(|e| fail(format!("the body is not WBXML that {version} decodes: {e}")))?;
    if (root.namespace, root.name.as_str()) != ("Provision", "Provision") {
        return Err(fail(format!(
            "the answer's root is {}:{}, not Provision:Provision",
            root.namespace, root.name
        )));
    }
    check_wipe(&root)?;
    let status = status_of(&root);
    if status != Some(STATUS_SUCCESS) {
        return Err(fail(match status {
            Some(code) => describe(StatusScope::Provision, code).to_string(),
            None => "the answer has no numeric Status".into(),
        }));
    }
    let Some(policy) = root.child("Policies").and_then(|p| p.child("Policy")) else {
        return Err(fail("the answer has no Policies/Policy".into()));
    };
    match status_of(policy) {
        Some(STATUS_SUCCESS) => {}
        Some(code) => {
            return Err(fail(format!(
                "Policy {}",
                describe(StatusScope::ProvisionPolicy, code)
            )));
        }
        None => return Err(fail("the Policy has no numeric Status".into())),
    }
    // The key's value is never put in a message.
    policy
        .child_text("PolicyKey")
        .and_then(|k| k.trim().parse::<u32>().ok())
        .ok_or_else(|| fail("the Policy has no PolicyKey that is a 32-bit number".into()))
}

/// The final key of a Provision answer that a caller sent itself through
/// [`EasClient::send`](super::EasClient::send): an acknowledgment answer
/// (Status 1, Policy Status 1, a PolicyKey, no policy `Data`). `None` for
/// anything else, including a phase-one answer, whose key is temporary.
pub(crate) fn final_key_of(response: &Response, version: ProtocolVersion) -> Option<u32> {
    if response.status != 200 {
        return None;
    }
    let root = Element::from_wbxml(&response.body, &DecodeOptions::lenient(version)).ok()?;
    if root.name != "Provision" || status_of(&root) != Some(STATUS_SUCCESS) {
        return None;
    }
    let policy = root.child("Policies")?.child("Policy")?;
    if status_of(policy) != Some(STATUS_SUCCESS) || policy.child("Data").is_some() {
        return None;
    }
    policy.child_text("PolicyKey")?.trim().parse().ok()
}

fn check_wipe(root: &Element) -> Result<(), ClientError> {
    if root.child("RemoteWipe").is_some() {
        return Err(ClientError::RemoteWipeRequested {
            account_only: false,
        });
    }
    if root.child("AccountOnlyRemoteWipe").is_some() {
        return Err(ClientError::RemoteWipeRequested { account_only: true });
    }
    Ok(())
}

/// The numeric `Status` child of `element`.
fn status_of(element: &Element) -> Option<u32> {
    element.child_text("Status")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body,
            requests: 1,
            provisioned: false,
            redirected_to: None,
        }
    }

    fn wbxml(xml: &str) -> Vec<u8> {
        encode(xml, &EncodeOptions::strict(ProtocolVersion::V14_1)).unwrap()
    }

    #[test]
    fn bodies_decode_to_the_handshake() {
        let v = ProtocolVersion::V12_1;
        let one =
            Element::from_wbxml(&download_request(v).unwrap(), &DecodeOptions::strict(v)).unwrap();
        let policy = one.child("Policies").unwrap().child("Policy").unwrap();
        assert_eq!(policy.child_names(), ["PolicyType"]);
        assert_eq!(policy.child_text("PolicyType").unwrap(), POLICY_TYPE);
        let two = acknowledge_request(v, 4_000_000_001).unwrap();
        let two = Element::from_wbxml(&two, &DecodeOptions::strict(v)).unwrap();
        let policy = two.child("Policies").unwrap().child("Policy").unwrap();
        assert_eq!(policy.child_names(), ["PolicyType", "PolicyKey", "Status"]);
        assert_eq!(policy.child_text("PolicyKey").unwrap(), "4000000001");
        assert_eq!(policy_type(ProtocolVersion::V2_5), POLICY_TYPE_2_5);
    }

    #[test]
    fn answers_are_checked() {
        let v = ProtocolVersion::V14_1;
        let ok = wbxml(
            "<Provision xmlns=\"Provision:\"><Status>1</Status><Policies><Policy>\
             <PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status>\
             <PolicyKey>123</PolicyKey></Policy></Policies></Provision>",
        );
        assert_eq!(
            policy_key_of(&response(ok.clone()), v, Phase::Acknowledge).unwrap(),
            123
        );
        assert_eq!(final_key_of(&response(ok), v), Some(123));

        let bad_policy = wbxml(
            "<Provision xmlns=\"Provision:\"><Status>1</Status><Policies><Policy>\
             <PolicyType>x</PolicyType><Status>3</Status></Policy></Policies></Provision>",
        );
        let e = policy_key_of(&response(bad_policy), v, Phase::Download).unwrap_err();
        assert!(e.to_string().contains("Status 3"), "{e}");

        let wipe =
            wbxml("<Provision xmlns=\"Provision:\"><Status>1</Status><RemoteWipe/></Provision>");
        assert!(matches!(
            policy_key_of(&response(wipe), v, Phase::Download),
            Err(ClientError::RemoteWipeRequested {
                account_only: false
            })
        ));

        let garbage = response(b"<html>".to_vec());
        let e = policy_key_of(&garbage, v, Phase::Download).unwrap_err();
        assert!(e.to_string().contains("phase one"), "{e}");

        let mut unauthorized = response(Vec::new());
        unauthorized.status = 401;
        let e = policy_key_of(&unauthorized, v, Phase::Acknowledge).unwrap_err();
        assert!(
            e.to_string().contains("HTTP 401: check the user name"),
            "{e}"
        );

        let non_numeric = wbxml(
            "<Provision xmlns=\"Provision:\"><Status>1</Status><Policies><Policy>\
             <PolicyType>x</PolicyType><Status>1</Status><PolicyKey>k-77</PolicyKey>\
             </Policy></Policies></Provision>",
        );
        let e = policy_key_of(&response(non_numeric), v, Phase::Download).unwrap_err();
        assert!(!e.to_string().contains("k-77"), "{e}");
    }
}
