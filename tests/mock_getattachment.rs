//! GetAttachment against the mock over real HTTP: protocol 12.1 only, no
//! body, the attachment named by the `AttachmentName` query parameter
//! (its FileReference) comes back as the raw HTTP body with its own
//! content type.

mod common;

use common::{Device, start};
use reqwest::StatusCode;

/// A GetAttachment request for `name` (or without the parameter).
async fn get_attachment(device: &Device, name: Option<&str>) -> reqwest::Response {
    // `Device::request` puts `cmd` first in the query; the parameter rides
    // along after it.
    let cmd = match name {
        Some(name) => format!("GetAttachment&AttachmentName={name}"),
        None => "GetAttachment".to_string(),
    };
    device.post(&cmd, Vec::new()).await
}

#[tokio::test]
async fn getattachment_returns_the_bytes_and_content_type() {
    let server = start().await;
    let device = Device::provisioned(&server, "12.1", "alice", "dev1").await;
    let response = get_attachment(&device, Some("att-17")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..], b"quarter,revenue\r\nQ3,1200\r\n");
}

#[tokio::test]
async fn an_unknown_attachment_is_http_500() {
    let server = start().await;
    let device = Device::provisioned(&server, "12.1", "alice", "dev1").await;
    for name in ["att-1", "nope", "1:1"] {
        let response = get_attachment(&device, Some(name)).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{name}"
        );
    }
    // Each user has a mailbox of their own, seeded alike: bob gets his
    // own att-17.
    let bob = Device::provisioned(&server, "12.1", "bob", "dev1").await;
    let response = get_attachment(&bob, Some("att-17")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_missing_attachment_name_is_http_400() {
    let server = start().await;
    let device = Device::provisioned(&server, "12.1", "alice", "dev1").await;
    let response = get_attachment(&device, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn getattachment_does_not_exist_from_14_0() {
    let server = start().await;
    for version in ["14.0", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let response = get_attachment(&device, Some("att-17")).await;
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{version}");
    }
}

#[tokio::test]
async fn getattachment_is_not_advertised_beyond_what_the_mock_does() {
    let server = start().await;
    let response = common::options(&server).await;
    let commands = response.headers()["MS-ASProtocolCommands"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        commands.split(',').any(|c| c == "GetAttachment"),
        "{commands}"
    );
}
