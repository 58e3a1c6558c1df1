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

/// Configuration error code for key material that must not be used as configured.
pub const INVALID_KEY: &str = "invalid_key";

/// JWK members that only private (or symmetric) keys have: a published key carrying one leaks
/// a secret, so it is never used (RFC 7517 §4, RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

fn invalid_key(message: impl Into<String>) -> Error {
    Error::config(INVALID_KEY, message)
}

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

    /// The smallest secret an HMAC algorithm may use: its hash output (RFC 7518 §3.2).
    pub fn min_secret_len(self) -> Option<usize> {
        match self {
            Alg::HS256 => Some(32),
            Alg::HS384 => Some(48),
            Alg::HS512 => Some(64),
            _ => None,
        }
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
    /// A shared secret for HMAC, and its length (which algorithms it is long enough for).
    Secret(DecodingKey, usize),
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
        Self::parse_jwk(v).ok()
    }

    /// Like [`Key::from_jwk`], saying why a key is not used.
    pub fn parse_jwk(v: &Value) -> Result<Key, Unusable> {
        let kty = str_field(v, "kty").ok_or(Unusable::Unsupported)?;
        if kty != "oct" {
            if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| v.get(**m).is_some()) {
                return Err(Unusable::PrivateMaterial(m));
            }
        }
        let crv = str_field(v, "crv");
        let material = match (kty.as_str(), crv.as_deref()) {
            ("RSA", _) => {
                let n = b64(v, "n").ok_or(Unusable::Unsupported)?;
                let e = b64(v, "e").ok_or(Unusable::Unsupported)?;
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 || e.is_empty() {
                    return Err(Unusable::Unsupported);
                }
                // Reject inconsistent components now rather than at every verification.
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
                    .map_err(|_| Unusable::Unsupported)?;
                Material::Rsa(Box::new(RsaMaterial {
                    n,
                    e,
                    parsed: Default::default(),
                }))
            }
            ("EC", Some(c @ ("P-256" | "P-384" | "P-521"))) => {
                let (alg, size) = match c {
                    "P-256" => (&sig::ECDSA_P256_SHA256_FIXED, 32),
                    "P-384" => (&sig::ECDSA_P384_SHA384_FIXED, 48),
                    _ => (&sig::ECDSA_P521_SHA512_FIXED, 66),
                };
                let point = ec_point(v, size).ok_or(Unusable::Unsupported)?;
                Material::Parsed(
                    ParsedPublicKey::new(alg, point).map_err(|_| Unusable::Unsupported)?,
                )
            }
            ("OKP", Some("Ed25519")) => {
                let x = b64(v, "x")
                    .filter(|x| x.len() == 32)
                    .ok_or(Unusable::Unsupported)?;
                Material::Parsed(
                    ParsedPublicKey::new(&sig::ED25519, x).map_err(|_| Unusable::Unsupported)?,
                )
            }
            ("oct", _) => return Err(Unusable::Symmetric),
            _ => return Err(Unusable::Unsupported),
        };
        Ok(Key {
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

    /// An `oct` JWK configured explicitly (never one from a published set): its `k` is an HMAC
    /// secret, held to the same rules as [`Key::from_secret`].
    pub fn from_oct_jwk(v: &Value, algorithms: Option<&[Alg]>) -> Result<Key> {
        let k = v
            .get("k")
            .and_then(Value::as_str)
            .and_then(|k| URL_SAFE_NO_PAD.decode(k.trim_end_matches('=')).ok())
            .ok_or_else(|| invalid_key("The `oct` JWK has no base64url `k`."))?;
        let mut key = Key::from_secret(&k, algorithms)?;
        key.kid = str_field(v, "kid");
        key.alg = str_field(v, "alg");
        key.use_ = str_field(v, "use");
        key.key_ops = v.get("key_ops").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        });
        Ok(key)
    }

    /// A shared secret for HMAC algorithms; only ever configured explicitly. Refused as a
    /// configuration error (`invalid_key`): an empty secret, one shorter than the hash output of
    /// every HMAC algorithm `algorithms` allows (RFC 7518 §3.2; all three when `None`), and bytes
    /// that are a public key (PEM, OpenSSH, a JWK, DER): whoever has the public key could sign.
    pub fn from_secret(secret: &[u8], algorithms: Option<&[Alg]>) -> Result<Key> {
        if secret.is_empty() {
            return Err(invalid_key("The HMAC secret is empty."));
        }
        if let Some(what) = public_key_form(secret) {
            return Err(invalid_key(format!(
                "The HMAC secret is {what}: a public key is not a secret, and anyone holding it could sign tokens. Pass the public key as a JWK (or a key object) instead."
            )));
        }
        let hmac: Vec<Alg> = match algorithms {
            Some(list) => list.iter().copied().filter(|a| a.is_hmac()).collect(),
            None => vec![Alg::HS256, Alg::HS384, Alg::HS512],
        };
        let needed = hmac
            .iter()
            .filter_map(|a| a.min_secret_len())
            .min()
            .unwrap_or(32);
        if secret.len() < needed {
            let weakest = hmac
                .iter()
                .find(|a| a.min_secret_len() == Some(needed))
                .map_or("HS256", |a| a.as_str());
            return Err(invalid_key(format!(
                "The HMAC secret is {} bytes; {weakest} needs at least {needed} bytes (RFC 7518 §3.2).",
                secret.len()
            )));
        }
        Ok(Key {
            kid: None,
            kty: "oct".into(),
            crv: None,
            alg: None,
            use_: None,
            key_ops: None,
            any_kid: true,
            material: Material::Secret(DecodingKey::from_secret(secret), secret.len()),
        })
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
        // `Ed25519` (RFC 9864) names the same algorithm as `EdDSA` for these keys.
        if self
            .alg
            .as_deref()
            .is_some_and(|a| Alg::parse(a) != Some(alg))
        {
            return false;
        }
        if let Material::Secret(_, len) = &self.material {
            if alg.min_secret_len().is_none_or(|min| *len < min) {
                return false;
            }
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
        if let Material::Secret(k, _) = &self.material {
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
            Material::Secret(..) => return Ok(false),
        };
        Ok(key.verify_sig(message, signature).is_ok())
    }
}

/// What a would-be HMAC secret is, when its bytes are a public key in a common encoding.
fn public_key_form(bytes: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    if let Some(t) = text {
        if t.contains("-----BEGIN") {
            return Some("PEM");
        }
        const SSH: [&str; 6] = [
            "ssh-rsa ",
            "ssh-ed25519 ",
            "ssh-dss ",
            "ecdsa-sha2-",
            "sk-ssh-ed25519@openssh.com ",
            "sk-ecdsa-sha2-",
        ];
        if SSH.iter().any(|p| t.starts_with(p)) {
            return Some("an OpenSSH public key");
        }
        if t.starts_with('{') {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(t) {
                if m.contains_key("kty") || m.contains_key("keys") {
                    return Some("a JWK");
                }
            }
        }
    }
    if is_der_public_key(bytes) {
        return Some("a DER public key");
    }
    None
}

/// One DER TLV: (tag, content, rest).
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A SubjectPublicKeyInfo (`SEQUENCE { SEQUENCE { OID, ... }, BIT STRING }`) or a PKCS#1
/// RSAPublicKey (`SEQUENCE { INTEGER, INTEGER }`) spanning all of `b`.
fn is_der_public_key(b: &[u8]) -> bool {
    let Some((0x30, body, [])) = der_tlv(b) else {
        return false;
    };
    match der_tlv(body) {
        Some((0x30, alg, rest)) => {
            matches!(der_tlv(alg), Some((0x06, _, _)))
                && matches!(der_tlv(rest), Some((0x03, _, [])))
        }
        Some((0x02, _, rest)) => matches!(der_tlv(rest), Some((0x02, _, []))),
        _ => false,
    }
}

fn bad_signature(why: &str) -> Error {
    Error::token(codes::INVALID_TOKEN)
        .with_cause(format!("The signature could not be checked: {why}"))
}

/// Why a JWK is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// An unknown key type or curve, a weak or malformed key.
    Unsupported,
    /// A symmetric (`oct`) key where only published public keys belong.
    Symmetric,
    /// An asymmetric key carrying a private member (named).
    PrivateMaterial(&'static str),
}

/// A set of verification keys.
#[derive(Debug, Default, Clone)]
pub struct KeySet {
    pub keys: Vec<Arc<Key>>,
    /// Keys of a published set left out for a reason an operator should hear about (a private
    /// key published by mistake), one sentence each; the JWKS cache logs them once.
    pub notices: Vec<String>,
}

fn kid_of(v: &Value) -> String {
    match v.get("kid").and_then(Value::as_str) {
        Some(k) => format!("`{}`", crate::error::fragment(k)),
        None => "without a `kid`".into(),
    }
}

impl KeySet {
    /// A published JWK Set (`{"keys": [...]}`), or a single JWK. Unusable keys are skipped;
    /// symmetric keys are never taken from a published document.
    pub fn from_json(v: &Value) -> Result<KeySet> {
        let list: Vec<&Value> = match v.get("keys") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => {
                return Err(Error::token(codes::TOKEN_VERIFICATION_FAILED)
                    .with_cause("The JWK Set's `keys` is not an array."))
            }
            None if v.get("kty").is_some() => {
                // One JWK given on its own, not a published set: any `kid` may use it.
                let mut set = KeySet::default();
                set.add(v, true);
                return Ok(set);
            }
            None => {
                return Err(Error::token(codes::TOKEN_VERIFICATION_FAILED)
                    .with_cause("The document is neither a JWK Set nor a JWK."))
            }
        };
        let mut set = KeySet::default();
        for jwk in list {
            if set.keys.len() >= MAX_KEYS {
                break;
            }
            set.add(jwk, false);
        }
        Ok(set)
    }

    fn add(&mut self, jwk: &Value, standalone: bool) {
        match Key::parse_jwk(jwk) {
            Ok(k) => self.keys.push(Arc::new(if standalone { k.standalone() } else { k })),
            Err(Unusable::PrivateMaterial(member)) => self.notices.push(format!(
                "The key {} holds private key material (`{member}`), so it is not used: the authorization server publishes a secret it must revoke.",
                kid_of(jwk)
            )),
            Err(_) => {}
        }
    }

    /// Key material configured explicitly (`create_verify_jwt` / `createVerifyJwt`): a JWK Set or
    /// one JWK. `oct` keys are HMAC secrets held to [`Key::from_secret`]'s rules; a single JWK
    /// with private members is a configuration error (give its public half), within a set such
    /// a key is left out and a notice raised; other unusable keys are skipped, as in a published
    /// set.
    pub fn configured(v: &Value, algorithms: Option<&[Alg]>) -> Result<KeySet> {
        let (list, standalone): (Vec<&Value>, bool) = match v.get("keys") {
            Some(Value::Array(a)) => (a.iter().collect(), false),
            None if v.get("kty").is_some() => (vec![v], true),
            _ => return KeySet::from_json(v),
        };
        let mut set = KeySet::default();
        for jwk in list.into_iter().take(MAX_KEYS) {
            let key = match Key::parse_jwk(jwk) {
                Ok(k) => k,
                Err(Unusable::Symmetric) => Key::from_oct_jwk(jwk, algorithms)?,
                Err(Unusable::PrivateMaterial(member)) if standalone => {
                    return Err(invalid_key(format!(
                        "The JWK {} holds private key material (`{member}`); configure its public half.",
                        kid_of(jwk)
                    )))
                }
                Err(Unusable::PrivateMaterial(member)) => {
                    // Within a set, as in a published one: that key is left out, and said so.
                    crate::notice::raise(format!(
                        "The configured JWK Set's key {} holds private key material (`{member}`), so it is not used.",
                        kid_of(jwk)
                    ));
                    continue;
                }
                Err(Unusable::Unsupported) => continue,
            };
            set.keys
                .push(Arc::new(if standalone { key.standalone() } else { key }));
        }
        Ok(set)
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
        let secret = Key::from_secret(&[7; 32], None).unwrap();
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
