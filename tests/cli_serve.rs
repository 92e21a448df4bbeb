//! `eastest serve` as a user runs it: prints its URL and accounts, answers on
//! loopback, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_prints_url_answers_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eastest serve starts");
    // Never hang the test run if the server misbehaves: kill it after 60 s.
    let watchdog_pid = libc::pid_t::try_from(child.id()).unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        // SAFETY: kill(2) on the child's pid; harmless if it already exited.
        unsafe { libc::kill(watchdog_pid, libc::SIGKILL) };
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .strip_prefix("eastest mock EAS server: ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/Microsoft-Server-ActiveSync"),
        "{url}"
    );
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line == "stop with Ctrl-C";
        banner.push(line);
        if done {
            break;
        }
    }
    assert!(
        banner
            .iter()
            .any(|l| l == "account: alice (password alice-pass)"),
        "{banner:?}"
    );

    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, ["stopping"]);
    assert!(child.wait().unwrap().success());
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
