//! The engine on its own, without HTTP: what the router's redirected
//! location and the judging look like from inside dispatch.

use std::path::Path;
use std::sync::Arc;

use crate::mock::MockConfig;
use crate::mock::accounts::Account;
use crate::mock::command::Ctx;
use crate::mock::faults::{self, Faults};
use crate::mock::state::Store;
use crate::protocol::Command;
use crate::wbxml::{Element, Node, ProtocolVersion};

use super::*;

fn folder_sync(key: &str) -> Element {
    Element {
        namespace: "FolderHierarchy",
        name: "FolderSync".into(),
        children: vec![Node::Element(Element {
            namespace: "FolderHierarchy",
            name: "SyncKey".into(),
            children: vec![Node::Text(key.into())],
        })],
    }
}

fn redirecting() -> Arc<Scenario> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect-451.toml"),
    )
    .expect("the shipped redirect scenario");
    Arc::new(Scenario::parse(&text, Path::new("redirect-451.toml")).expect("it parses"))
}

fn faults_with(scenario: &Arc<Scenario>) -> Faults {
    Faults::for_config(&MockConfig {
        scenario: Some(Arc::clone(scenario)),
        ..MockConfig::default()
    })
}

#[tokio::test]
async fn a_client_that_follows_the_redirect_meets_the_reaction() {
    let scenario = redirecting();
    scenario.set_server_url("http://127.0.0.1:9/Microsoft-Server-ActiveSync");
    let faults = faults_with(&scenario);
    let store = Store::new(&Account::defaults());
    let ctx = Ctx::for_test(&store, "alice", "dev1", ProtocolVersion::V14_1);
    let request = folder_sync("0");

    let first = faults::dispatch(&faults, Command::FolderSync, &ctx, Some(&request)).await;
    assert!(matches!(first.reply, Reply::Http(451, _)));
    assert_eq!(
        first.headers,
        vec![(
            "X-MS-Location",
            format!("http://127.0.0.1:9{REDIRECTED_PATH}")
        )]
    );
    let again = at_redirected_location(faults::dispatch(
        &faults,
        Command::FolderSync,
        &ctx,
        Some(&request),
    ))
    .await;
    assert!(matches!(again.reply, Reply::Wbxml(_)), "answered there");
    let reactions = scenario.reactions();
    assert_eq!(reactions.len(), 1);
    assert!(
        matches!(reactions[0].result, ReactionResult::Met { .. }),
        "{reactions:#?}"
    );
    assert_eq!(reactions[0].reference, Expect::FollowsRedirect.reference());
}

#[tokio::test]
async fn steps_that_never_fire_are_not_observed() {
    let scenario = redirecting();
    let reactions = scenario.reactions();
    assert_eq!(reactions.len(), 1);
    assert!(matches!(
        &reactions[0].result,
        ReactionResult::NotObserved { detail } if detail.contains("no device")
    ));
    // A device that only provisions: the step is armed but never fits.
    let faults = faults_with(&scenario);
    let store = Store::new(&Account::defaults());
    let ctx = Ctx::for_test(&store, "alice", "dev1", ProtocolVersion::V14_1);
    let settings = Element {
        namespace: "Settings",
        name: "Settings".into(),
        children: Vec::new(),
    };
    faults::dispatch(&faults, Command::Settings, &ctx, Some(&settings)).await;
    let reactions = scenario.reactions();
    assert!(matches!(
        &reactions[0].result,
        ReactionResult::NotObserved { detail } if detail.contains("never fired")
    ));
}

#[test]
fn a_path_redirect_without_a_known_server_stays_a_path() {
    let scenario = redirecting();
    assert_eq!(scenario.location("/x"), "/x");
    scenario.set_server_url("https://eas.example.test:8443/Microsoft-Server-ActiveSync");
    assert_eq!(scenario.location("/x"), "https://eas.example.test:8443/x");
    assert_eq!(
        scenario.location("https://other.test/eas"),
        "https://other.test/eas"
    );
}

#[test]
fn generated_items_are_valid_for_each_class_but_calendar() {
    for class in [Class::Email, Class::Contacts, Class::Tasks, Class::Notes] {
        let item = generated_item(class, 4242).expect("an item");
        assert_eq!(item.class, class);
        assert!(!item.data.is_empty());
    }
    assert!(generated_item(Class::Calendar, 0).is_none());
}
