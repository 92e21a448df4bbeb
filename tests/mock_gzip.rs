//! gzip bodies over real HTTP (MS-ASHTTP `Accept-Encoding` and
//! `Content-Encoding`): compressed responses for clients that ask, compressed
//! request bodies, the body limit counted after inflating (a gzip bomb), and
//! corrupt gzip. reqwest runs without its gzip feature, so it neither asks for
//! nor inflates gzip on its own: the tests do both with flate2.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{Device, basic, folder_sync_request, start};
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use reqwest::StatusCode;

const WBXML: &str = "application/vnd.ms-sync.wbxml";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("a valid gzip body");
    out
}

/// A FolderSync response from key 0 with the standard folders, decoded
/// strictly for 14.1.
fn assert_initial_folder_sync(wbxml: &[u8]) {
    let version: ProtocolVersion = "14.1".parse().unwrap();
    let root =
        Element::from_wbxml(wbxml, &DecodeOptions::strict(version)).expect("a valid response");
    assert_eq!(root.name, "FolderSync");
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    assert_ne!(root.child_text("SyncKey").as_deref(), Some("0"));
    let changes = root.child("Changes").expect("Changes");
    let adds = changes.elements_named("Add").count();
    assert!(adds >= 8, "{adds} folders");
    assert_eq!(changes.child_text("Count"), Some(adds.to_string()));
}

async fn small_limit() -> MockServer {
    MockServer::start(MockConfig {
        max_body_bytes: 1024 * 1024,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

#[tokio::test]
async fn accept_encoding_gzip_gets_a_gzip_response() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let r = device
        .request("FolderSync", folder_sync_request("0"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["content-type"], WBXML);
    let compressed = r.bytes().await.unwrap();
    assert_eq!(&compressed[..2], [0x1F, 0x8B], "the gzip magic");
    assert_initial_folder_sync(&gunzip(&compressed));
    server.shutdown().await;
}

#[tokio::test]
async fn gzip_request_bodies_are_inflated() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let r = device
        .request("FolderSync", gzip(&folder_sync_request("0")))
        .header("Content-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.headers()["content-type"], WBXML);
    assert_initial_folder_sync(&r.bytes().await.unwrap());

    // Both ways at once, on a device that provisions with gzip bodies too.
    let mut other = Device::of(&server, "14.1", "bob", "device02");
    let phase1 = other
        .request("Provision", gzip(&common::provision_request(None)))
        .header("Content-Encoding", "gzip")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(phase1.status(), StatusCode::OK);
    assert_eq!(phase1.headers()["content-encoding"], "gzip");
    let phase1 = Element::from_wbxml(
        &gunzip(&phase1.bytes().await.unwrap()),
        &DecodeOptions::strict("14.1".parse().unwrap()),
    )
    .expect("a valid Provision response");
    let temporary = common::policy_of(&phase1).child_text("PolicyKey").unwrap();
    let phase2 = other
        .request(
            "Provision",
            gzip(&common::provision_request(Some(&temporary))),
        )
        .header("Content-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(phase2.status(), StatusCode::OK);
    let phase2 = Element::from_wbxml(
        &phase2.bytes().await.unwrap(),
        &DecodeOptions::strict("14.1".parse().unwrap()),
    )
    .expect("a valid Provision response");
    other.policy_key = common::policy_of(&phase2).child_text("PolicyKey");
    let r = other
        .request("FolderSync", gzip(&folder_sync_request("0")))
        .header("Content-Encoding", "gzip")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_initial_folder_sync(&gunzip(&r.bytes().await.unwrap()));
    server.shutdown().await;
}

#[tokio::test]
async fn responses_without_accept_encoding_are_plain() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    for accept in [None, Some("identity")] {
        let mut builder = device.request("FolderSync", folder_sync_request("0"));
        if let Some(accept) = accept {
            builder = builder.header("Accept-Encoding", accept);
        }
        let r = builder.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "Accept-Encoding {accept:?}");
        assert!(r.headers().get("content-encoding").is_none());
        assert_eq!(r.headers()["content-type"], WBXML);
        let body = r.bytes().await.unwrap();
        assert_eq!(body[0], 0x03, "WBXML 1.3, not gzip");
        assert_initial_folder_sync(&body);
    }
    // Device::call checks the same on the plain path.
    let again = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(again.child_text("Status").as_deref(), Some("1"));
    server.shutdown().await;
}

/// 20 MB of zeros, about 20 KB compressed: far under the 1 MiB limit on the
/// wire, far over it inflated.
#[tokio::test]
async fn a_gzip_bomb_gets_413() {
    let server = small_limit().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let bomb = gzip(&vec![0u8; 20 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024, "{} bytes compressed", bomb.len());
    let r = device
        .request("FolderSync", bomb)
        .header("Content-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Just under the limit inflated is read (and then is not WBXML: 102).
    let mut under = folder_sync_request("0");
    under.resize(1024 * 1024, 0);
    let r = device
        .request("FolderSync", gzip(&under))
        .header("Content-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.shutdown().await;
}

/// A chunked gzip body that never ends: the mock must answer 413 once the
/// inflated bytes pass the limit, without waiting for (or inflating) the
/// rest. Were it to read the whole body, no answer would come.
#[tokio::test]
async fn an_endless_gzip_body_is_cut_off_at_the_limit() {
    let server = small_limit().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let head = format!(
        "POST {}?Cmd=FolderSync&User=alice&DeviceId=device01&DeviceType=TestDevice HTTP/1.1\r\n\
         Host: {}\r\n\
         Authorization: {}\r\n\
         MS-ASProtocolVersion: 14.1\r\n\
         X-MS-PolicyKey: {}\r\n\
         Content-Type: {WBXML}\r\n\
         Content-Encoding: gzip\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        eastest::mock::PATH,
        server.addr(),
        basic("alice", "alice-pass"),
        device.policy_key.clone().unwrap(),
    );
    let addr = server.addr();
    let answer = tokio::task::spawn_blocking(move || {
        let mut reader = std::net::TcpStream::connect(addr).unwrap();
        reader
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = reader.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            if writer.write_all(head.as_bytes()).is_err() {
                return;
            }
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            let zeros = vec![0u8; 1024 * 1024];
            // Up to 256 MiB inflated, and never the terminating chunk: the
            // socket stays open through `reader`.
            for _ in 0..256 {
                encoder.write_all(&zeros).unwrap();
                encoder.flush().unwrap();
                let chunk = std::mem::take(encoder.get_mut());
                let framed =
                    [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if writer.write_all(&framed).is_err() {
                    return; // the mock closed the connection
                }
            }
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => panic!("no answer from the mock: {e}"),
            }
        }
        drop(reader);
        let _ = sender.join();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "the answer: {answer:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn corrupt_gzip_gets_400() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let valid = gzip(&folder_sync_request("0"));
    let mut bad_crc = valid.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xFF; // the CRC-32 in the trailer
    let mut bad_data = valid.clone();
    bad_data[12] ^= 0xFF; // inside the deflate stream
    let cases: [(&str, Vec<u8>); 5] = [
        ("not gzip at all", folder_sync_request("0")),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("no trailer", valid[..valid.len() - 8].to_vec()),
        ("bad CRC", bad_crc),
        ("garbage after the gzip magic", {
            let mut b = vec![0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 0xFF];
            b.extend_from_slice(&[0xFF; 64]);
            b
        }),
    ];
    for (what, body) in cases {
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            device
                .request("FolderSync", body)
                .header("Content-Encoding", "gzip")
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in 10 s"))
        .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
    }
    // The deflate data itself damaged: rejected by gzip (400) or, should it
    // still inflate, by the CRC (400); never a 200 on wrong bytes.
    let r = device
        .request("FolderSync", bad_data)
        .header("Content-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The mock still serves the device afterwards.
    let sync = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(sync.child_text("Status").as_deref(), Some("1"));
    server.shutdown().await;
}

#[tokio::test]
async fn unsupported_content_encoding_gets_415() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let r = device
        .request("FolderSync", folder_sync_request("0"))
        .header("Content-Encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    server.shutdown().await;
}
