//! The lab server the suite tests run against when `EASTEST_URL` is set
//! (`tests/suites.rs`, `tests/determinism.rs`): the URL, the account
//! (`EASTEST_USER`, password from `EASTEST_PASSWORD` or the file in
//! `EASTEST_PASSWORD_FILE`), the snapshot profile (`EASTEST_PROFILE`) and
//! the protocol version (`EASTEST_VERSION`, default 14.1).

use std::path::Path;

use eastest::client::Secret;
use eastest::protocol::ProtocolVersion;
use eastest::runner::Target;

/// The configured lab target, or `None` for the embedded mock.
pub fn lab() -> Option<(Target, String, ProtocolVersion)> {
    let url = std::env::var("EASTEST_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let user = std::env::var("EASTEST_USER").expect("EASTEST_URL is set: set EASTEST_USER too");
    let password = match std::env::var("EASTEST_PASSWORD") {
        Ok(p) => Secret::new(p),
        Err(_) => {
            let file = std::env::var("EASTEST_PASSWORD_FILE")
                .expect("set EASTEST_PASSWORD or EASTEST_PASSWORD_FILE");
            Secret::from_file(Path::new(&file)).expect("a readable password file")
        }
    };
    let profile =
        std::env::var("EASTEST_PROFILE").expect("EASTEST_URL is set: name it with EASTEST_PROFILE");
    let version = std::env::var("EASTEST_VERSION")
        .ok()
        .map(|v| v.parse().expect("EASTEST_VERSION: a protocol version"))
        .unwrap_or(ProtocolVersion::V14_1);
    Some((
        Target {
            url,
            user,
            password,
            test_hooks: false,
        },
        profile,
        version,
    ))
}
