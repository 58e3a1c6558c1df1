#![no_main]
//! Differential: core's verdict on a token against the vector key set must equal a second
//! verifier's, written here from RFC 7515/7519 and the rules in tests/vectors/README.md, with
//! its own key selection and the `jsonwebtoken` crate (aws-lc's raw check for ES512, which that
//! crate lacks) for signatures. A token either side accepts and the other refuses is a bug in
//! one of them, whichever tokens happen to be in the corpus.
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::verifier::JwtVerifier;
use mcp_auth_core::{JwtOptions, KeySet, KeySource};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

struct Fixture {
    verifier: JwtVerifier,
    jwks: Vec<Value>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(include_str!("../../../tests/vectors/tokens.json")).unwrap();
        let jwks = doc["jwks"]["keys"].as_array().unwrap().clone();
        Fixture {
            verifier: JwtVerifier::new(
                KeySource::Static(Arc::new(KeySet::from_json(&doc["jwks"]).unwrap())),
                JwtOptions::default(),
            ),
            jwks,
        }
    })
}

/// A JSON object with no key twice (RFC 7515 §5.2: a parser must refuse or use one; both
/// verifiers refuse).
fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut seen = HashSet::new();
            let mut m = Map::new();
            while let Some((k, v)) = a.next_entry::<String, Value>()? {
                if !seen.insert(k.clone()) {
                    return Err(serde::de::Error::custom("duplicate"));
                }
                m.insert(k, v);
            }
            Ok(m)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let m = (&mut de).deserialize_map(V).ok()?;
    de.end().ok()?;
    Some(m)
}

/// (kty, crv) of a JWS algorithm; `None`: not an asymmetric algorithm this server takes.
fn shape(alg: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => ("RSA", None),
        "ES256" => ("EC", Some("P-256")),
        "ES384" => ("EC", Some("P-384")),
        "ES512" => ("EC", Some("P-521")),
        "EdDSA" | "Ed25519" => ("OKP", Some("Ed25519")),
        _ => return None,
    })
}

fn same_alg(a: &str, b: &str) -> bool {
    let ed = |x: &str| x == "EdDSA" || x == "Ed25519";
    a == b || (ed(a) && ed(b))
}

/// The published keys that may verify `alg` for a token naming `kid`.
fn candidates<'a>(jwks: &'a [Value], alg: &str, kid: Option<&str>) -> Vec<&'a Value> {
    let Some((kty, crv)) = shape(alg) else {
        return vec![];
    };
    let s = |k: &Value, f: &str| k.get(f).and_then(Value::as_str).map(str::to_string);
    jwks.iter()
        .filter(|k| s(k, "kty").as_deref() == Some(kty))
        .filter(|k| crv.is_none() || s(k, "crv").as_deref() == crv)
        .filter(|k| kid.is_none() || s(k, "kid").as_deref() == kid)
        .filter(|k| s(k, "alg").is_none_or(|a| same_alg(&a, alg)))
        .filter(|k| s(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| ["d", "p", "q", "dp", "dq", "qi", "k"].iter().all(|m| k.get(*m).is_none()))
        .filter(|k| {
            kty != "RSA"
                || s(k, "n")
                    .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
                    .is_some_and(|n| n.iter().skip_while(|b| **b == 0).count() >= 256)
        })
        .collect()
}

fn signature_ok(jwk: &Value, alg: &str, message: &str, signature: &str) -> bool {
    if alg == "ES512" {
        let b = |f: &str| jwk[f].as_str().and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        let (Some(x), Some(y), Ok(sig)) = (b("x"), b("y"), URL_SAFE_NO_PAD.decode(signature))
        else {
            return false;
        };
        let point = [&[4u8][..], &x, &y].concat();
        return aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED,
            point,
        )
        .verify(message.as_bytes(), &sig)
        .is_ok();
    }
    let algorithm = match alg {
        "Ed25519" => Algorithm::EdDSA,
        a => match a.parse::<Algorithm>() {
            Ok(a) => a,
            Err(_) => return false,
        },
    };
    let Ok(parsed) = serde_json::from_value::<Jwk>(jwk.clone()) else {
        return false;
    };
    let Ok(key) = DecodingKey::from_jwk(&parsed) else {
        return false;
    };
    jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, algorithm).unwrap_or(false)
}

fn time_ok(claims: &Map<String, Value>, name: &str, ok: impl Fn(f64) -> bool) -> bool {
    match claims.get(name) {
        None => true,
        Some(Value::Number(n)) => n
            .as_f64()
            .is_some_and(|t| t.is_finite() && t.abs() < 1e15 && ok(t)),
        Some(_) => false,
    }
}

fn claims_ok(c: &Map<String, Value>, now: f64) -> bool {
    let nonempty = |v: Option<&Value>| matches!(v, Some(Value::String(s)) if !s.is_empty());
    let text = |v: Option<&Value>| matches!(v, None | Some(Value::Null) | Some(Value::String(_)));
    let scope = |v: Option<&Value>| match v {
        None | Some(Value::Null) | Some(Value::String(_)) => true,
        Some(Value::Array(a)) => a.iter().all(Value::is_string),
        _ => false,
    };
    let aud = match c.get("aud") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => a.iter().all(|x| matches!(x, Value::String(s) if !s.is_empty())),
        _ => false,
    };
    let client = match c.get("client_id") {
        Some(Value::String(_)) => true,
        None | Some(Value::Null) => text(c.get("azp")),
        _ => false,
    };
    time_ok(c, "exp", |t| t > now)
        && time_ok(c, "nbf", |t| t <= now)
        && time_ok(c, "iat", |t| t <= now)
        && nonempty(c.get("iss"))
        && nonempty(c.get("sub"))
        && aud
        && client
        && ["scope", "scopes", "scp"].iter().all(|n| scope(c.get(*n)))
}

/// The second verifier: whether `token` is a valid JWS of one of `jwks` with acceptable claims.
fn oracle(token: &str, jwks: &[Value], now: f64) -> bool {
    if token.len() > 32 * 1024 {
        return false;
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, sig] = parts[..] else {
        return false;
    };
    let (Ok(hb), Ok(pb)) = (URL_SAFE_NO_PAD.decode(h), URL_SAFE_NO_PAD.decode(p)) else {
        return false;
    };
    let (Some(header), Some(claims)) = (object(&hb), object(&pb)) else {
        return false;
    };
    let Some(Value::String(alg)) = header.get("alg") else {
        return false;
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return false,
    };
    if header.contains_key("crit") || header.get("b64") == Some(&Value::Bool(false)) {
        return false;
    }
    let message = &token[..h.len() + 1 + p.len()];
    candidates(jwks, alg, kid)
        .iter()
        .any(|k| signature_ok(k, alg, message, sig))
        && claims_ok(&claims, now)
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let token = String::from_utf8_lossy(data);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    // Static keys: always answered synchronously.
    let accepted = match f.verifier.verify_now(&token) {
        Poll::Ready(Ok(_)) => true,
        Poll::Ready(Err(e)) => {
            assert!(e.is_auth_failure(), "{e}");
            false
        }
        Poll::Pending => panic!("static keys never need I/O"),
    };
    let expected = oracle(&token, &f.jwks, now);
    assert_eq!(accepted, expected, "core accepted: {accepted}, oracle: {expected}");
});
