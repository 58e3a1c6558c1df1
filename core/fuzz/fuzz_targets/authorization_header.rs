#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::bearer::parse_authorization;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    if let Ok(token) = parse_authorization(Some(&header)) {
        // A token that parsed is one non-empty token68 taken from the header.
        assert!(!token.is_empty());
        assert!(header.contains(token));
        assert!(!token.contains(' '));
    }
});
