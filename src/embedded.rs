//! The embedded target: a fresh mock server for every suite, so that suites
//! never see each other's items and their snapshots do not depend on what
//! ran before or beside them. The glue between [`crate::runner`] and
//! [`crate::mock`], which must not know each other: the runner gets URLs.

use std::sync::Mutex;

use crate::client::Secret;
use crate::mock::{Account, MockConfig, MockServer};
use crate::runner::{Target, Targets};
use crate::suite::Suite;

/// Starts one mock per suite (alice's account, test hooks on) and stops
/// them all in [`MockTargets::shutdown`].
#[derive(Default)]
pub struct MockTargets {
    servers: Mutex<Vec<MockServer>>,
}

impl MockTargets {
    pub fn new() -> MockTargets {
        MockTargets::default()
    }

    /// Stops every mock started so far.
    pub async fn shutdown(&self) {
        let servers: Vec<MockServer> =
            std::mem::take(&mut *self.servers.lock().unwrap_or_else(|p| p.into_inner()));
        for server in servers {
            server.shutdown().await;
        }
    }
}

impl Targets for MockTargets {
    async fn target_for(&self, _suite: &Suite) -> Result<Target, String> {
        let server = MockServer::start(MockConfig {
            test_hooks: true,
            ..MockConfig::default()
        })
        .await
        .map_err(|e| format!("the embedded mock did not start: {e}"))?;
        let alice = Account::defaults()
            .into_iter()
            .next()
            .ok_or("the mock has no default account")?;
        let target = Target {
            url: server.url(),
            user: alice.user.clone(),
            password: Secret::new(alice.password.clone()),
            test_hooks: true,
        };
        self.servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(server);
        Ok(target)
    }
}

/// The same lab server for every suite.
pub struct LabTarget(pub Target);

impl Targets for LabTarget {
    async fn target_for(&self, _suite: &Suite) -> Result<Target, String> {
        Ok(self.0.clone())
    }
}
