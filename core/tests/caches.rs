//! Clearing the process-wide caches: its own test binary, so that no other test's caches are
//! cleared under it.

mod common;

use common::{load_vector, Reply, TestServer};
use mcp_auth_core::jwks::JwksOptions;
use mcp_auth_core::{runtime, JwtVerifier, KeySource};
use serde_json::json;

#[tokio::test]
async fn clearing_the_caches_makes_the_next_verification_fetch() {
    let doc = load_vector("keys.json");
    let case = &doc["published"][0];
    let s = TestServer::start();
    s.set("/keys", Reply::json(&case["jwks"]));
    let v = JwtVerifier::new(
        KeySource::Remote {
            uri: s.url("/keys"),
            options: JwksOptions::default(),
        },
        Default::default(),
    );
    let token = case["tokens"][0]["token"].as_str().unwrap();
    v.verify(token).await.unwrap();
    v.verify(token).await.unwrap();
    assert_eq!(s.hits("/keys"), 1);
    runtime::clear_caches();
    v.verify(token).await.unwrap();
    assert_eq!(s.hits("/keys"), 2);
    assert_eq!(json!(case["tokens"][0]["valid"]), json!(true));
}
