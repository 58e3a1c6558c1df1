#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::KeySet;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(set) = KeySet::from_json(&v) {
            assert!(set.keys.len() <= mcp_auth_core::keys::MAX_KEYS);
        }
    }
});
