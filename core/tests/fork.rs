//! A pre-fork server (gunicorn, uWSGI) builds its app in the parent and serves from children:
//! the core must work in a child that inherited a used runtime. Alone in its own test binary so
//! that no other test thread holds a lock at the moment of `fork()`.

mod common;

use std::time::Duration;

use common::{Reply, TestServer};
use mcp_auth_core::metadata::{self, AuthServerType, FetchOptions};
use mcp_auth_core::runtime;
use serde_json::json;

fn fetch(issuer: &str) -> bool {
    let issuer = issuer.to_string();
    runtime::block_on(async move {
        let opts = FetchOptions {
            timeout: Duration::from_secs(2),
            ..FetchOptions::default()
        };
        metadata::fetch_server_config(&issuer, Some(AuthServerType::OAuth), None, &opts)
            .await
            .is_ok()
    })
}

#[test]
fn works_in_a_forked_child() {
    let s = TestServer::start();
    let issuer = s.url("/forked");
    s.set(
        "/.well-known/oauth-authorization-server/forked",
        Reply::json(&json!({
            "issuer": issuer,
            "authorization_endpoint": "x",
            "token_endpoint": "y",
            "response_types_supported": ["code"],
        })),
    );
    assert!(fetch(&issuer), "parent fetch");
    // SAFETY: the child only runs mcp-auth code and then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // A deadlock in the child must fail the test, not hang it.
        unsafe { libc::alarm(20) };
        let ok = fetch(&issuer);
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for the child we just created.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "child did not exit normally");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child fetch failed");
    assert_eq!(s.hits("/.well-known/oauth-authorization-server/forked"), 2);
}
