//! A panic inside verification becomes an error for that request; the verifier keeps working.
//! Alone in its binary: it sets the test hook's environment variable before first use.

use std::sync::Arc;
use std::task::Poll;

use mcp_auth_core::bearer::Policy;
use mcp_auth_core::verifier::JwtVerifier;
use mcp_auth_core::{JwtOptions, KeySet, KeySource, INTERNAL_ERROR};
use serde_json::json;

#[test]
fn panics_become_internal_errors() {
    std::env::set_var("MCP_AUTH_TEST_PANIC", "boom.boom.boom");
    let v = JwtVerifier::new(
        KeySource::Static(Arc::new(KeySet::from_json(&json!({"keys": []})).unwrap())),
        JwtOptions::default(),
    );
    let Poll::Ready(Err(e)) = v.verify_now("boom.boom.boom") else {
        panic!("expected an error")
    };
    assert_eq!(e.code(), INTERNAL_ERROR);
    let r = Policy::default().respond(&e);
    assert_eq!(r.status, 500);
    assert_eq!(r.body["error"], "server_error");
    // The next request is served normally.
    let Poll::Ready(Err(e)) = v.verify_now("a.b.c") else {
        panic!()
    };
    assert_eq!(e.code(), "invalid_token");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt.block_on(v.verify("boom.boom.boom")).unwrap_err();
    assert_eq!(e.code(), INTERNAL_ERROR);
}
