#![no_main]
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::task::Poll;

use libfuzzer_sys::fuzz_target;
use mcp_auth_core::verifier::JwtVerifier;
use mcp_auth_core::{JwtOptions, KeySet, KeySource};

struct Fixture {
    verifier: JwtVerifier,
    /// The genuinely signed tokens of the shared vectors: the only ones that may pass.
    genuine: HashSet<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/vectors/tokens.json")).unwrap();
        let genuine = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["expect"]["status"] == 200)
            .filter_map(|c| c["header"].as_str())
            .filter_map(|h| h.split_whitespace().nth(1).map(str::to_string))
            .collect();
        Fixture {
            verifier: JwtVerifier {
                source: KeySource::Static(Arc::new(KeySet::from_json(&doc["jwks"]).unwrap())),
                options: JwtOptions::default(),
            },
            genuine,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let token = String::from_utf8_lossy(data);
    // Static keys: always answered synchronously; only a genuinely signed token passes.
    match f.verifier.verify_now(&token) {
        Poll::Ready(Ok(_)) => assert!(f.genuine.contains(token.as_ref()), "forged token accepted"),
        Poll::Ready(Err(e)) => assert!(e.is_auth_failure()),
        Poll::Pending => panic!("static keys never need I/O"),
    }
});
