#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::bearer::Policy;
use mcp_auth_core::error::codes;
use mcp_auth_core::{Error, ErrorKind};

/// RFC 9110 challenge syntax for what we emit: `Bearer` then `name="quoted"` pairs.
fn well_formed(h: &str) -> bool {
    let Some(rest) = h.strip_prefix("Bearer") else { return false };
    let mut s = rest.as_bytes();
    if s.is_empty() {
        return true;
    }
    if s[0] != b' ' {
        return false;
    }
    s = &s[1..];
    loop {
        let eq = match s.iter().position(|&c| c == b'=') {
            Some(i) => i,
            None => return false,
        };
        if eq == 0 || !s[..eq].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            return false;
        }
        s = &s[eq + 1..];
        if s.first() != Some(&b'"') {
            return false;
        }
        s = &s[1..];
        loop {
            match s.first() {
                None => return false,
                Some(b'\\') if s.len() >= 2 => s = &s[2..],
                Some(b'"') => {
                    s = &s[1..];
                    break;
                }
                Some(c) if *c == b'\t' || (0x20..0x7f).contains(c) || *c >= 0x80 => s = &s[1..],
                Some(_) => return false,
            }
        }
        if s.is_empty() {
            return true;
        }
        if !s.starts_with(b", ") {
            return false;
        }
        s = &s[2..];
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\u{0}');
    let code = parts.next().unwrap_or("").to_string();
    let message = parts.next().unwrap_or("").to_string();
    let scope = parts.next().unwrap_or("").to_string();
    let url = parts.next().unwrap_or("").to_string();
    for kind in [ErrorKind::BearerAuth, ErrorKind::TokenVerification] {
        let policy = Policy {
            required_scopes: if scope.is_empty() { vec![] } else { vec![scope.clone()] },
            resource_metadata: Some(url.clone()),
            ..Policy::default()
        };
        let err = Error::new(kind, code.clone()).with_message(message.clone());
        let r = policy.respond(&err);
        // A replay store that cannot answer is the server's trouble, not the token's: 503
        // without a challenge, so clients retry instead of asking for another token.
        if code == codes::DPOP_REPLAY_STORE_UNAVAILABLE || code == codes::DPOP_REPLAY_STORE_FULL {
            assert_eq!(r.status, 503);
            assert!(r.www_authenticate.is_none());
            continue;
        }
        assert!(r.status == 401 || r.status == 403, "{}", r.status);
        let h = r.www_authenticate.unwrap();
        assert!(well_formed(&h), "{h:?}");
    }
});
