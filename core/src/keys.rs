//! Verification keys: JWK parsing, which key fits which algorithm, and the signature check.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey};
use serde_json::Value;

use crate::error::{codes, Error, Result};

/// Largest key set kept; a provider publishes a handful of keys.
pub const MAX_KEYS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

impl Alg {
    pub const ASYMMETRIC: [Alg; 10] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
    ];

    /// Exact, case-sensitive names (RFC 7518); `none` is never an algorithm here.
    pub fn parse(s: &str) -> Option<Alg> {
        Some(match s {
            "HS256" => Alg::HS256,
            "HS384" => Alg::HS384,
            "HS512" => Alg::HS512,
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "ES512" => Alg::ES512,
            "EdDSA" | "Ed25519" => Alg::EdDSA,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn is_hmac(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    fn jwt(self) -> Option<JwtAlg> {
        Some(match self {
            Alg::HS256 => JwtAlg::HS256,
            Alg::HS384 => JwtAlg::HS384,
            Alg::HS512 => JwtAlg::HS512,
            Alg::RS256 => JwtAlg::RS256,
            Alg::RS384 => JwtAlg::RS384,
            Alg::RS512 => JwtAlg::RS512,
            Alg::PS256 => JwtAlg::PS256,
            Alg::PS384 => JwtAlg::PS384,
            Alg::PS512 => JwtAlg::PS512,
            Alg::ES256 => JwtAlg::ES256,
            Alg::ES384 => JwtAlg::ES384,
            Alg::EdDSA => JwtAlg::EdDSA,
            Alg::ES512 => return None,
        })
    }

    /// The (kty, crv) a key must have to verify this algorithm.
    fn key_shape(self) -> (&'static str, Option<&'static str>) {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => ("oct", None),
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                ("RSA", None)
            }
            Alg::ES256 => ("EC", Some("P-256")),
            Alg::ES384 => ("EC", Some("P-384")),
            Alg::ES512 => ("EC", Some("P-521")),
            Alg::EdDSA => ("OKP", Some("Ed25519")),
        }
    }
}

/// Key material parsed once, when the key is loaded, so that a verification is only the
/// signature check (`make bench-core` measures the difference against re-parsing per call).
enum Material {
    /// RSA components; aws-lc binds a parsed key to one algorithm, so each of the six RSA
    /// algorithms gets its parsed key on first use.
    Rsa(Box<RsaMaterial>),
    /// EC (bound to its curve's only algorithm) and Ed25519 keys.
    Parsed(ParsedPublicKey),
    /// A shared secret for HMAC.
    Secret(DecodingKey),
}

struct RsaMaterial {
    n: Vec<u8>,
    e: Vec<u8>,
    parsed: [OnceLock<Option<ParsedPublicKey>>; 6],
}

fn rsa_params(alg: Alg) -> Option<(usize, &'static RsaParameters)> {
    Some(match alg {
        Alg::RS256 => (0, &sig::RSA_PKCS1_2048_8192_SHA256),
        Alg::RS384 => (1, &sig::RSA_PKCS1_2048_8192_SHA384),
        Alg::RS512 => (2, &sig::RSA_PKCS1_2048_8192_SHA512),
        Alg::PS256 => (3, &sig::RSA_PSS_2048_8192_SHA256),
        Alg::PS384 => (4, &sig::RSA_PSS_2048_8192_SHA384),
        Alg::PS512 => (5, &sig::RSA_PSS_2048_8192_SHA512),
        _ => return None,
    })
}

fn ec_point(v: &Value, size: usize) -> Option<Vec<u8>> {
    let x = b64(v, "x")?;
    let y = b64(v, "y")?;
    if x.len() != size || y.len() != size {
        return None;
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(point)
}

/// One usable verification key.
pub struct Key {
    pub kid: Option<String>,
    pub kty: String,
    pub crv: Option<String>,
    pub alg: Option<String>,
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    /// A key given on its own (not in a set) verifies whatever `kid` a token names, as jose's
    /// `jwtVerify(token, key)` does.
    any_kid: bool,
    material: Material,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("alg", &self.alg)
            .finish()
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn b64(v: &Value, k: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(v.get(k)?.as_str()?.trim_end_matches('='))
        .ok()
}

impl Key {
    /// Parses one public JWK. Keys this library cannot or must not use (unknown `kty`, private
    /// or symmetric keys in a published set, RSA under 2048 bits, bad encodings) give `None`.
    pub fn from_jwk(v: &Value) -> Option<Key> {
        let kty = str_field(v, "kty")?;
        let crv = str_field(v, "crv");
        let material = match (kty.as_str(), crv.as_deref()) {
            ("RSA", _) => {
                let n = b64(v, "n")?;
                let e = b64(v, "e")?;
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 || e.is_empty() {
                    return None;
                }
                // Reject inconsistent components now rather than at every verification.
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
                    .ok()?;
                Material::Rsa(Box::new(RsaMaterial {
                    n,
                    e,
                    parsed: Default::default(),
                }))
            }
            ("EC", Some("P-256")) => Material::Parsed(
                ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, ec_point(v, 32)?).ok()?,
            ),
            ("EC", Some("P-384")) => Material::Parsed(
                ParsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, ec_point(v, 48)?).ok()?,
            ),
            ("EC", Some("P-521")) => Material::Parsed(
                ParsedPublicKey::new(&sig::ECDSA_P521_SHA512_FIXED, ec_point(v, 66)?).ok()?,
            ),
            ("OKP", Some("Ed25519")) => {
                let x = b64(v, "x")?;
                if x.len() != 32 {
                    return None;
                }
                Material::Parsed(ParsedPublicKey::new(&sig::ED25519, x).ok()?)
            }
            _ => return None,
        };
        Some(Key {
            kid: str_field(v, "kid"),
            kty,
            crv,
            alg: str_field(v, "alg"),
            use_: str_field(v, "use"),
            key_ops: v.get("key_ops").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            }),
            any_kid: false,
            material,
        })
    }

    /// A shared secret for HMAC algorithms; only ever configured explicitly.
    pub fn from_secret(secret: &[u8]) -> Key {
        Key {
            kid: None,
            kty: "oct".into(),
            crv: None,
            alg: None,
            use_: None,
            key_ops: None,
            any_kid: true,
            material: Material::Secret(DecodingKey::from_secret(secret)),
        }
    }

    /// This key, usable for a token with any `kid`.
    pub fn standalone(mut self) -> Key {
        self.any_kid = true;
        self
    }

    /// Whether this key may verify `alg` for a token whose header names `kid` (jose's rules).
    pub fn fits(&self, alg: Alg, kid: Option<&str>) -> bool {
        if let Some(k) = kid {
            if !self.any_kid && self.kid.as_deref() != Some(k) {
                return false;
            }
        }
        let (kty, crv) = alg.key_shape();
        if self.kty != kty || (crv.is_some() && self.crv.as_deref() != crv) {
            return false;
        }
        if self.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
            return false;
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return false;
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify") {
                return false;
            }
        }
        true
    }

    /// Checks `signature` over `message` (the token's `header.payload`).
    pub fn verify(&self, alg: Alg, message: &[u8], signature_b64: &str) -> Result<bool> {
        if let Material::Secret(k) = &self.material {
            let a = alg
                .jwt()
                .ok_or_else(|| bad_signature("unsupported HMAC algorithm"))?;
            return jsonwebtoken::crypto::verify(signature_b64, message, k, a)
                .map_err(|e| bad_signature(&e.to_string()));
        }
        // The largest signature is RSA-8192's 1024 bytes: decode on the stack.
        let mut buf = [0u8; 1024];
        if signature_b64.len() > 1368 {
            return Ok(false);
        }
        let n = URL_SAFE_NO_PAD
            .decode_slice(signature_b64, &mut buf)
            .map_err(|_| bad_signature("the signature is not base64url"))?;
        let signature = &buf[..n];
        let key = match &self.material {
            Material::Parsed(k) => k,
            Material::Rsa(rsa) => {
                let RsaMaterial { n, e, parsed } = rsa.as_ref();
                let Some((i, params)) = rsa_params(alg) else {
                    return Ok(false);
                };
                let slot = parsed[i].get_or_init(|| {
                    RsaPublicKeyComponents {
                        n: &n[..],
                        e: &e[..],
                    }
                    .to_parsed_public_key(params)
                    .ok()
                });
                match slot {
                    Some(k) => k,
                    None => return Ok(false),
                }
            }
            Material::Secret(_) => return Ok(false),
        };
        Ok(key.verify_sig(message, signature).is_ok())
    }
}

fn bad_signature(why: &str) -> Error {
    Error::token(codes::INVALID_TOKEN)
        .with_cause(format!("The signature could not be checked: {why}"))
}

/// A set of verification keys.
#[derive(Debug, Default, Clone)]
pub struct KeySet {
    pub keys: Vec<Arc<Key>>,
}

impl KeySet {
    /// A JWK Set (`{"keys": [...]}`) or a single JWK. Unusable keys are skipped.
    pub fn from_json(v: &Value) -> Result<KeySet> {
        let list: Vec<&Value> = match v.get("keys") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => {
                return Err(Error::token(codes::TOKEN_VERIFICATION_FAILED)
                    .with_cause("The JWK Set's `keys` is not an array."))
            }
            None if v.get("kty").is_some() => {
                // One JWK given on its own, not a published set: any `kid` may use it.
                let keys = Key::from_jwk(v)
                    .map(|k| Arc::new(k.standalone()))
                    .into_iter()
                    .collect();
                return Ok(KeySet { keys });
            }
            None => {
                return Err(Error::token(codes::TOKEN_VERIFICATION_FAILED)
                    .with_cause("The document is neither a JWK Set nor a JWK."))
            }
        };
        let keys = list
            .into_iter()
            .filter_map(Key::from_jwk)
            .take(MAX_KEYS)
            .map(Arc::new)
            .collect();
        Ok(KeySet { keys })
    }

    pub fn candidates<'a>(
        &'a self,
        alg: Alg,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<Key>> + 'a {
        self.keys.iter().filter(move |k| k.fits(alg, kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_standalone_key_ignores_kid_but_a_set_does_not() {
        let secret = Key::from_secret(b"s3cret");
        assert!(secret.fits(Alg::HS256, Some("whatever")));
        assert!(!secret.fits(Alg::RS256, None));
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "a",
                         "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let single = KeySet::from_json(&jwk).unwrap();
        assert_eq!(single.candidates(Alg::EdDSA, Some("b")).count(), 1);
        let set = KeySet::from_json(&json!({ "keys": [jwk] })).unwrap();
        assert_eq!(set.candidates(Alg::EdDSA, Some("b")).count(), 0);
        assert_eq!(set.candidates(Alg::EdDSA, Some("a")).count(), 1);
        assert_eq!(set.candidates(Alg::ES256, Some("a")).count(), 0);
    }

    #[test]
    fn unusable_keys_are_skipped() {
        let set = KeySet::from_json(&json!({"keys": [
            {"kty": "XYZ"}, {"kty": "oct", "k": "c2VjcmV0"}, {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}, "not an object"
        ]}))
        .unwrap();
        assert!(set.keys.is_empty());
        assert!(KeySet::from_json(&json!({"keys": 1})).is_err());
        assert!(KeySet::from_json(&json!([1])).is_err());
    }
}
