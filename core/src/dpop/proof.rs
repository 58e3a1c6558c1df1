//! Checking one DPoP proof against the request it came with (RFC 9449 §4.3, steps 1-12 but
//! the token's key binding and replay, which need the verified token and a store).

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::nonce::NonceKey;
use super::thumbprint::jwk_thumbprint;
use super::Dpop;
use crate::error::{codes, Error, Result};
use crate::keys::{Alg, Key};
use crate::operations::{shown, strict_json};

/// Largest proof looked at: a proof with an RSA-8192 key is under 4 KiB.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Largest `jti` accepted (clients send 16-32 random bytes, encoded).
pub const MAX_JTI_BYTES: usize = 256;

/// JWK members that only private (or symmetric) keys have (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What the request says, for the proof to match.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method, as received (case-sensitive).
    pub method: &'a str,
    /// The request target's path as received; its query and fragment are ignored.
    pub path: &'a str,
    /// The access token sent with the proof (its hash is the proof's `ath`).
    pub access_token: &'a str,
    /// Seconds since the epoch.
    pub now: f64,
}

/// A proof that passed every check of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    /// RFC 7638 thumbprint of the proof key: what the token's `cnf.jkt` must be.
    pub jkt: String,
    pub jti: String,
    pub iat: f64,
}

pub(crate) fn invalid(why: impl Into<String>) -> Error {
    Error::bearer(codes::INVALID_DPOP_PROOF).with_cause(why.into())
}

fn use_nonce(why: &str) -> Error {
    Error::bearer(codes::USE_DPOP_NONCE).with_cause(why.to_string())
}

fn object(part: &str, what: &str) -> Result<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid(format!("The DPoP proof {what} is not base64url-encoded.")))?;
    match strict_json::parse(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(format!(
            "The DPoP proof {what} is not a JSON object."
        ))),
        Err(e) => Err(invalid(format!(
            "The DPoP proof {what} is not strict JSON ({}).",
            e.trim_start_matches("the body is not strict JSON ")
        ))),
    }
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(invalid(format!(
            "The DPoP proof's `{name}` claim is not a non-empty string."
        ))),
        None => Err(invalid(format!("The DPoP proof has no `{name}` claim."))),
    }
}

/// The one proof of the request: exactly one `DPoP` header field, one value (RFC 9449 §4.3
/// step 1). A host that joins repeated fields with `,` gives a value no JWS can contain.
fn single<'a>(values: &[&'a str]) -> Result<&'a str> {
    match values {
        [] => Err(invalid("The request has no `DPoP` header.")),
        [one] => {
            let v = one.trim_matches([' ', '\t']);
            if v.contains(',') {
                return Err(invalid("The request has more than one `DPoP` header."));
            }
            if v.len() > MAX_PROOF_BYTES {
                return Err(invalid(format!(
                    "The DPoP proof is larger than {MAX_PROOF_BYTES} bytes."
                )));
            }
            Ok(v)
        }
        _ => Err(invalid("The request has more than one `DPoP` header.")),
    }
}

fn media(t: &str) -> String {
    let l = t.trim().to_ascii_lowercase();
    l.strip_prefix("application/")
        .map(str::to_string)
        .unwrap_or(l)
}

impl Dpop {
    /// Checks `dpop_values` (every `DPoP` header value of the request, in order) against the
    /// request, as RFC 9449 §4.3 lists: one header; a compact JWS with `typ: dpop+jwt`; an
    /// asymmetric algorithm of the allow-list; a public `jwk` that fits it; the signature;
    /// `jti`, `htm`, `htu`, `iat`, `ath` (and `nonce` when nonces are on). The token's
    /// `cnf.jkt` and replay are checked by the caller with the result.
    pub fn verify_proof(
        &self,
        dpop_values: &[&str],
        req: &ProofRequest<'_>,
    ) -> Result<VerifiedProof> {
        let proof = single(dpop_values)?;
        let mut parts = proof.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "The DPoP proof is not a compact JWS (three parts).",
            ));
        };
        let header = object(h, "header")?;
        let typ = header.get("typ").and_then(Value::as_str).map(media);
        if typ.as_deref() != Some("dpop+jwt") {
            return Err(invalid("The DPoP proof's `typ` is not `dpop+jwt`."));
        }
        let alg_name = match header.get("alg") {
            Some(Value::String(a)) => a.as_str(),
            _ => return Err(invalid("The DPoP proof has no `alg`.")),
        };
        // The allow-list never holds `none` or an HMAC algorithm: `Dpop::new` refuses them.
        let alg = Alg::parse(alg_name)
            .filter(|a| self.algorithms.contains(a))
            .ok_or_else(|| {
                invalid(format!(
                    "The DPoP proof's algorithm `{}` is not allowed (allowed: {}).",
                    shown(alg_name),
                    self.algs
                ))
            })?;
        if header.contains_key("crit") {
            return Err(invalid(
                "The DPoP proof lists critical extensions this server does not understand.",
            ));
        }
        if header.get("b64") == Some(&Value::Bool(false)) {
            return Err(invalid(
                "The DPoP proof's payload is not encoded (`b64: false`).",
            ));
        }
        let Some(Value::Object(jwk)) = header.get("jwk") else {
            return Err(invalid("The DPoP proof has no `jwk` object in its header."));
        };
        if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
            return Err(invalid(format!(
                "The DPoP proof's `jwk` holds private key material (`{m}`)."
            )));
        }
        let jwk_value = Value::Object(jwk.clone());
        let key = Key::from_jwk(&jwk_value)
            .ok_or_else(|| invalid("The DPoP proof's `jwk` is not a usable public key."))?;
        if !key.fits(alg, None) {
            return Err(invalid(format!(
                "The DPoP proof's `jwk` does not fit the algorithm `{}`.",
                alg.as_str()
            )));
        }
        let signing_input = &proof[..h.len() + 1 + p.len()];
        if !key
            .verify(alg, signing_input.as_bytes(), s)
            .unwrap_or(false)
        {
            return Err(invalid(
                "The DPoP proof's signature does not verify with its `jwk`.",
            ));
        }
        let claims = object(p, "payload")?;
        let jti = string_claim(&claims, "jti")?;
        if jti.len() > MAX_JTI_BYTES {
            return Err(invalid(format!(
                "The DPoP proof's `jti` is longer than {MAX_JTI_BYTES} bytes."
            )));
        }
        let htm = string_claim(&claims, "htm")?;
        if htm != req.method {
            return Err(invalid(format!(
                "The DPoP proof's `htm` is not the request's method `{}`.",
                shown(req.method)
            )));
        }
        let htu = string_claim(&claims, "htu")?;
        self.origin
            .matches(htu, req.path)
            .map_err(|why| invalid(format!("The DPoP proof does not fit the request: {why}.")))?;
        let iat = match claims.get("iat") {
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .ok_or_else(|| invalid("The DPoP proof's `iat` is out of range."))?,
            Some(_) => return Err(invalid("The DPoP proof's `iat` is not a number.")),
            None => return Err(invalid("The DPoP proof has no `iat` claim.")),
        };
        let limit = self.iat_window + self.leeway;
        if iat < req.now - limit {
            return Err(invalid(format!(
                "The DPoP proof is too old (`iat` more than {} s ago).",
                limit
            )));
        }
        if iat > req.now + limit {
            return Err(invalid(format!(
                "The DPoP proof was issued in the future (`iat` more than {} s ahead).",
                limit
            )));
        }
        let ath = string_claim(&claims, "ath")?;
        let want = URL_SAFE_NO_PAD.encode(digest(&SHA256, req.access_token.as_bytes()));
        if ath != want {
            return Err(invalid(
                "The DPoP proof's `ath` is not the hash of the access token sent with it.",
            ));
        }
        if let Some(nonces) = &self.nonce {
            check_nonce(nonces, &claims, req.now, self.leeway)?;
        }
        let jkt = jwk_thumbprint(jwk)
            .map_err(|why| invalid(format!("The DPoP proof's `jwk` has no thumbprint: {why}.")))?;
        Ok(VerifiedProof {
            jkt,
            jti: jti.to_string(),
            iat,
        })
    }
}

fn check_nonce(key: &NonceKey, claims: &Map<String, Value>, now: f64, leeway: f64) -> Result<()> {
    match claims.get("nonce") {
        None => Err(use_nonce("The DPoP proof has no `nonce` claim.")),
        Some(Value::String(n)) => key
            .check(n, now, leeway)
            .map_err(|p| use_nonce(&format!("In the DPoP proof, {}.", p.as_str()))),
        Some(_) => Err(use_nonce("The DPoP proof's `nonce` is not a string.")),
    }
}
