//! `eastest serve` as a user runs it: prints its URL and accounts, answers on
//! loopback, and stops cleanly on Ctrl-C (SIGINT).

mod common;

use std::process::Command;

use common::ServeProcess;

#[tokio::test]
async fn serve_prints_url_answers_and_stops_on_ctrl_c() {
    let server = ServeProcess::spawn(&[], &[]);
    let url = server.url.clone();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/Microsoft-Server-ActiveSync"),
        "{url}"
    );
    let banner = &server.banner;
    assert!(
        banner
            .iter()
            .any(|l| l == "account: alice (password alice-pass)"),
        "{banner:?}"
    );

    let r = common::http()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);

    server.stop();
}

#[test]
fn serve_refuses_a_bad_accounts_file() {
    let dir = std::env::temp_dir().join(format!("eastest-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.txt");
    std::fs::write(&file, "ann:secret\nann:again\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--users",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2: user `ann` is defined twice"), "{err}");
    assert!(!err.contains("secret"));
    std::fs::remove_dir_all(&dir).unwrap();
}
