//! RFC 7638 JWK thumbprints: what a DPoP-bound token's `cnf.jkt` names.

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The required members of each key type (RFC 7638 §3.2), in lexicographic order.
fn required_members(kty: &str) -> Option<&'static [&'static str]> {
    Some(match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    })
}

/// The base64url SHA-256 thumbprint of a public JWK: the hash of its required members as JSON
/// without whitespace, in lexicographic order (RFC 7638 §3). `Err` says why there is none.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, String> {
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .ok_or("the JWK has no string `kty`")?;
    let members = required_members(kty).ok_or_else(|| {
        format!(
            "the key type `{}` has no thumbprint here",
            crate::operations::shown(kty)
        )
    })?;
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let Some(Value::String(v)) = jwk.get(*name) else {
            return Err(format!("the JWK has no string `{name}`"));
        };
        if i > 0 {
            canonical.push(',');
        }
        // serde_json writes strings with the minimal escaping RFC 7638 §3.3 asks for.
        canonical.push_str(&Value::String((*name).to_string()).to_string());
        canonical.push(':');
        canonical.push_str(&Value::String(v.clone()).to_string());
    }
    canonical.push('}');
    Ok(URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn members_must_be_there_and_be_strings() {
        let no_y = json!({"kty": "EC", "crv": "P-256", "x": "abc"});
        assert!(jwk_thumbprint(no_y.as_object().unwrap()).is_err());
        let number = json!({"kty": "OKP", "crv": "Ed25519", "x": 5});
        assert!(jwk_thumbprint(number.as_object().unwrap()).is_err());
        let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
        assert!(jwk_thumbprint(oct.as_object().unwrap()).is_err());
    }
}
