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

/// The accepted ES256 proof of the DPoP vectors, its token and its "now".
fn dpop_vector() -> (String, String, f64) {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/dpop.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ES256 proof with a bound token")
        .unwrap()
        .clone();
    let token = case["request"]["authorization"].as_str().unwrap()[5..].to_string();
    let proof = case["request"]["dpop"][0].as_str().unwrap().to_string();
    (proof, token, case["now"].as_f64().unwrap())
}

fn dpop() -> mcp_auth_core::Dpop {
    mcp_auth_core::Dpop::new(
        mcp_auth_core::DpopOptions {
            resource: "https://mcp.example.com/mcp".into(),
            ..Default::default()
        },
        0.0,
    )
    .unwrap()
}

proptest! {
    #[test]
    fn dpop_proofs_of_any_shape_are_refused_without_panicking(value in any::<String>(), path in any::<String>(), method in "[A-Z]{1,7}") {
        let d = dpop();
        let req = mcp_auth_core::dpop::ProofRequest { method: &method, path: &path, access_token: "t", now: 1.0e9 };
        prop_assert!(d.verify_proof(&[value.as_str()], &req).is_err());
    }

    #[test]
    fn any_change_to_a_valid_proof_is_refused(at in any::<prop::sample::Index>(), by in 1u8..64) {
        const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let (proof, token, now) = dpop_vector();
        let req = mcp_auth_core::dpop::ProofRequest { method: "POST", path: "/mcp", access_token: &token, now };
        let d = dpop();
        prop_assert!(d.verify_proof(&[proof.as_str()], &req).is_ok());
        let mut bytes = proof.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = match bytes[i] {
            b'.' => b'A',
            c => {
                let pos = B64URL.iter().position(|x| *x == c).unwrap();
                B64URL[(pos + by as usize) % 64]
            }
        };
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(d.verify_proof(&[changed.as_str()], &req).is_err());
    }

    #[test]
    fn htu_letter_case_and_the_default_port_do_not_matter(upper in prop::collection::vec(any::<bool>(), 23), port in any::<bool>(), path_upper in any::<bool>()) {
        let (proof, token, now) = dpop_vector();
        let cased: String = "https://mcp.example.com"
            .chars()
            .zip(upper.iter())
            .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
            .collect();
        let path = if path_upper { "/MCP" } else { "/mcp" };
        let htu = format!("{cased}{}{path}", if port { ":443" } else { "" });
        let signed = resign(&proof, &htu);
        let req = mcp_auth_core::dpop::ProofRequest { method: "POST", path: "/mcp", access_token: &token, now };
        // Scheme and host case and the default port are normalised away; the path is not.
        prop_assert_eq!(dpop().verify_proof(&[signed.as_str()], &req).is_ok(), !path_upper);
    }
}

/// `proof` with another `htu`, signed again with the vectors' client key.
fn resign(proof: &str, htu: &str) -> String {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors/keys/dpop-ec256.pem"),
    )
    .unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &STANDARD.decode(der).unwrap(),
    )
    .unwrap();
    let mut parts = proof.split('.');
    let header = parts.next().unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    claims["htu"] = serde_json::Value::String(htu.into());
    let input = format!(
        "{header}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    let sig = key
        .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}
