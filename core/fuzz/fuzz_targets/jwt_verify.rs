#![no_main]
use std::sync::{Arc, OnceLock};
use std::task::Poll;

use libfuzzer_sys::fuzz_target;
use mcp_auth_core::verifier::JwtVerifier;
use mcp_auth_core::{JwtOptions, KeySet, KeySource};

fn verifier() -> &'static JwtVerifier {
    static V: OnceLock<JwtVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../../../tests/vectors/tokens.json")).unwrap();
        JwtVerifier {
            source: KeySource::Static(Arc::new(KeySet::from_json(&doc["jwks"]).unwrap())),
            options: JwtOptions::default(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    // Static keys: always answered synchronously, never accepted without a valid signature.
    match verifier().verify_now(&token) {
        Poll::Ready(Ok(info)) => panic!("forged token accepted: {:?}", info.claims),
        Poll::Ready(Err(e)) => assert!(e.is_auth_failure()),
        Poll::Pending => panic!("static keys never need I/O"),
    }
});
