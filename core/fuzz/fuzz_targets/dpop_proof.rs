#![no_main]
use std::collections::HashSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcp_auth_core::dpop::ProofRequest;
use mcp_auth_core::{Dpop, DpopOptions};

struct Fixture {
    dpop: Dpop,
    token: String,
    now: f64,
    /// Every proof of the shared vectors: the only ones that may pass, being signed.
    genuine: HashSet<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/vectors/dpop.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        let genuine = cases
            .iter()
            .flat_map(|c| c["request"]["dpop"].as_array().unwrap().iter())
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let case = cases
            .iter()
            .find(|c| c["name"] == "ES256 proof with a bound token")
            .unwrap();
        Fixture {
            dpop: Dpop::new(
                DpopOptions {
                    resource: doc["resource"].as_str().unwrap().into(),
                    ..DpopOptions::default()
                },
                0.0,
            )
            .unwrap(),
            token: case["request"]["authorization"].as_str().unwrap()[5..].to_string(),
            now: case["now"].as_f64().unwrap(),
            genuine,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let proof = String::from_utf8_lossy(data);
    let req = ProofRequest {
        method: "POST",
        path: "/mcp",
        access_token: &f.token,
        now: f.now,
    };
    match f.dpop.verify_proof(&[proof.as_ref()], &req) {
        // A header value may carry optional whitespace around the proof (RFC 9110 §5.5).
        Ok(_) => assert!(
            f.genuine.contains(proof.trim_matches([' ', '\t'])),
            "forged proof accepted"
        ),
        Err(e) => assert!(e.is_auth_failure()),
    }
});
