#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::metadata::{validate_server_metadata_json, AuthorizationServerMetadata};
use mcp_auth_core::Flavor;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let r = validate_server_metadata_json(&v, Flavor::Node);
        assert_eq!(r.is_valid, r.errors.is_empty());
        if let Ok(m) = AuthorizationServerMetadata::from_json(v) {
            // What was accepted serializes and parses back to the same thing.
            let again = AuthorizationServerMetadata::from_json(m.to_json()).unwrap();
            assert_eq!(again, m);
        }
    }
});
