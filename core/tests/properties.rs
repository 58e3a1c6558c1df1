//! Properties of the URL and header logic over generated inputs.

use mcp_auth_core::bearer::{parse_authorization, Policy};
use mcp_auth_core::metadata::{discovery_urls, well_known_url, AuthServerType};
use mcp_auth_core::resource::{resource_metadata_path, resource_metadata_url};
use mcp_auth_core::{Error, ErrorKind};
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_~-]{1,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,10}\\.(com|example|io)".prop_map(|s| s),
        Just("127.0.0.1:8080".to_string()),
        Just("localhost:3000".to_string()),
    ]
}

proptest! {
    #[test]
    fn oauth_inserts_and_oidc_appends(host in host(), segs in prop::collection::vec(segment(), 0..4), trailing in any::<bool>()) {
        let path = segs.join("/");
        let issuer = format!("https://{host}/{path}{}", if trailing && !path.is_empty() { "/" } else { "" });
        let oauth = well_known_url(&issuer, AuthServerType::OAuth).unwrap();
        let oidc = well_known_url(&issuer, AuthServerType::Oidc).unwrap();
        let tail = if path.is_empty() { String::new() } else { format!("/{path}") };
        prop_assert_eq!(oauth, format!("https://{host}/.well-known/oauth-authorization-server{tail}"));
        prop_assert_eq!(oidc, format!("https://{host}{tail}/.well-known/openid-configuration"));
        let d = discovery_urls(&issuer).unwrap();
        prop_assert_eq!(d.len(), if path.is_empty() { 2 } else { 3 });
        prop_assert_eq!(d[0].1, AuthServerType::OAuth);
    }

    #[test]
    fn prm_url_inserts_the_well_known_segment(host in host(), segs in prop::collection::vec(segment(), 0..4), trailing in any::<bool>()) {
        let path = segs.join("/");
        let slash = if trailing && !path.is_empty() { "/" } else { "" };
        let resource = format!("http://{host}/{path}{slash}");
        let url = resource_metadata_url(&resource).unwrap();
        let p = resource_metadata_path(&resource).unwrap();
        let expected_path = if path.is_empty() {
            "/.well-known/oauth-protected-resource".to_string()
        } else {
            format!("/.well-known/oauth-protected-resource/{path}{slash}")
        };
        prop_assert_eq!(&p, &expected_path);
        prop_assert_eq!(url, format!("http://{host}{expected_path}"));
        // A fragment always makes the identifier invalid.
        let with_fragment = format!("{resource}#x");
        prop_assert!(resource_metadata_url(&with_fragment).is_err());
    }

    #[test]
    fn bearer_tokens_round_trip(token in "[A-Za-z0-9._~+/-]{1,200}=*", spaces in 1usize..5, lower in any::<bool>()) {
        let scheme = if lower { "bearer" } else { "Bearer" };
        let header = format!("{scheme}{}{token}", " ".repeat(spaces));
        prop_assert_eq!(parse_authorization(Some(&header)).unwrap(), token.as_str());
    }

    #[test]
    fn header_parsing_never_panics(h in any::<String>()) {
        let _ = parse_authorization(Some(&h));
    }

    #[test]
    fn challenges_stay_parseable(code in any::<String>(), msg in any::<String>(), scope in "[ -~]{0,30}", url in any::<String>()) {
        let policy = Policy {
            required_scopes: vec![scope],
            resource_metadata: Some(url),
            ..Policy::default()
        };
        let r = policy.respond(&Error::new(ErrorKind::BearerAuth, code).with_message(msg));
        let h = r.www_authenticate.unwrap();
        // Every quote that is not escaped opens or closes a value: an even count.
        let mut unescaped = 0;
        let mut chars = h.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => { chars.next(); }
                '"' => unescaped += 1,
                c => prop_assert!(!c.is_control()),
            }
        }
        prop_assert_eq!(unescaped % 2, 0);
        prop_assert!(h.starts_with("Bearer "));
    }
}
