//! JWT access-token verification: decoding, header rules, signature, claims, AuthInfo.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::error::{codes, fragment, Error, Result};
use crate::keys::{Alg, KeySet};

/// Default largest token accepted; real access tokens are a few KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct JwtOptions {
    /// Algorithms accepted; `None` accepts every asymmetric algorithm the key fits.
    pub algorithms: Option<Vec<Alg>>,
    /// Clock skew tolerated for `exp`, `nbf` and `iat`, in seconds.
    pub leeway: f64,
    /// RFC 9068: require the header `typ` to be `at+jwt`.
    pub require_at_jwt: bool,
    /// Any required header `typ` (jose's `typ` option); compared without an `application/`
    /// prefix and ignoring case, as media types are.
    pub typ: Option<String>,
    pub max_token_bytes: usize,
    /// A fixed "now" (seconds since the epoch), for reproducible tests.
    pub now: Option<f64>,
    /// Extra claim rules (jose's `issuer`, `audience`, `subject`, `requiredClaims`, `maxTokenAge`).
    pub claims: ClaimRules,
}

/// Claim checks beyond the signature and times, as jose's `jwtVerify` options offer them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimRules {
    /// `iss` must be one of these.
    pub issuer: Option<Vec<String>>,
    /// `aud` must contain one of these.
    pub audience: Option<Vec<String>>,
    pub subject: Option<String>,
    /// Claims that must be present.
    pub required: Vec<String>,
    /// Largest accepted age of the token (`now - iat`), in seconds.
    pub max_age: Option<f64>,
}

fn claim_failed(why: &str) -> Error {
    let mut m = Map::new();
    m.insert("code".into(), "ERR_JWT_CLAIM_VALIDATION_FAILED".into());
    m.insert("cause".into(), why.into());
    Error::token(codes::INVALID_TOKEN).with_cause(Value::Object(m))
}

impl ClaimRules {
    fn check(&self, claims: &Map<String, Value>, now: f64, leeway: f64) -> Result<()> {
        for name in &self.required {
            if !claims.contains_key(name) {
                return Err(claim_failed(&format!("missing required \"{name}\" claim")));
            }
        }
        if let Some(allowed) = &self.issuer {
            if !claims
                .get("iss")
                .and_then(Value::as_str)
                .is_some_and(|i| allowed.iter().any(|a| a == i))
            {
                return Err(claim_failed("unexpected \"iss\" claim value"));
            }
        }
        if let Some(allowed) = &self.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => allowed.contains(a),
                Some(Value::Array(v)) => v
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| allowed.iter().any(|x| x == a))),
                _ => false,
            };
            if !ok {
                return Err(claim_failed("unexpected \"aud\" claim value"));
            }
        }
        if let Some(sub) = &self.subject {
            if claims.get("sub").and_then(Value::as_str) != Some(sub.as_str()) {
                return Err(claim_failed("unexpected \"sub\" claim value"));
            }
        }
        if let Some(max_age) = self.max_age {
            let Some(iat) = claims.get("iat").and_then(Value::as_f64) else {
                return Err(claim_failed("missing required \"iat\" claim"));
            };
            if now - iat - leeway > max_age {
                let mut m = Map::new();
                m.insert("code".into(), "ERR_JWT_EXPIRED".into());
                m.insert(
                    "cause".into(),
                    "\"iat\" claim timestamp check failed (too far in the past)".into(),
                );
                return Err(Error::token(codes::INVALID_TOKEN).with_cause(Value::Object(m)));
            }
        }
        Ok(())
    }
}

impl Default for JwtOptions {
    fn default() -> Self {
        JwtOptions {
            algorithms: None,
            leeway: 0.0,
            require_at_jwt: false,
            typ: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            now: None,
            claims: ClaimRules::default(),
        }
    }
}

impl JwtOptions {
    /// RFC 9068 access tokens are required, by `require_at_jwt` or by `typ: at+jwt`.
    pub fn requires_at_jwt(&self) -> bool {
        self.require_at_jwt
            || self.typ.as_deref().is_some_and(|t| {
                let t = t.trim().to_ascii_lowercase();
                t == "at+jwt" || t == "application/at+jwt"
            })
    }

    fn now(&self) -> f64 {
        self.now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
    }
}

/// `aud` as the token carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, expected: &str) -> bool {
        match self {
            Audience::One(a) => a == expected,
            Audience::Many(v) => v.iter().any(|a| a == expected),
        }
    }
    pub fn to_json(&self) -> Value {
        match self {
            Audience::One(a) => Value::String(a.clone()),
            Audience::Many(v) => v.clone().into(),
        }
    }
}

/// Who is calling and with what rights; what the middleware hands to the application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthInfo {
    pub token: String,
    pub issuer: String,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub subject: Option<String>,
    pub audience: Option<Audience>,
    pub expires_at: Option<i64>,
    pub claims: Map<String, Value>,
}

impl AuthInfo {
    /// The token's DPoP key binding (`cnf.jkt`, RFC 9449 §6): the RFC 7638 thumbprint of the
    /// key whose proofs the token needs. Set on every token a DPoP route accepted with a proof.
    pub fn jkt(&self) -> Option<&str> {
        self.claims.get("cnf")?.get("jkt")?.as_str()
    }
}

pub(crate) fn invalid(cause: impl Into<String>) -> Error {
    Error::token(codes::INVALID_TOKEN).with_cause(cause.into())
}

/// A JSON object whose keys appear once; a repeated key is how claim-confusion attacks start.
fn parse_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        // serde's default messages quote the value; a failure reason must not.
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom("a string, not an object"))
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom("a boolean, not an object"))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom("a number, not an object"))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom("a number, not an object"))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom("a number, not an object"))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Err(E::custom("null, not an object"))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(serde::de::Error::custom("an array, not an object"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            // Room for a typical header or access token's claims, so the map is not regrown
            // while parsing; one hash lookup per key decides both "new" and "where".
            let mut m = Map::with_capacity(12);
            while let Some((k, v)) = a.next_entry::<String, Value>()? {
                match m.entry(k) {
                    Entry::Vacant(e) => {
                        e.insert(v);
                    }
                    Entry::Occupied(e) => {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key `{}`",
                            fragment(e.key())
                        )));
                    }
                }
            }
            Ok(m)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let m = (&mut de)
        .deserialize_any(V)
        .and_then(|m| de.end().map(|_| m))
        .map_err(|e| invalid(format!("The JWT {what} is not a valid JSON object: {e}")))?;
    Ok(m)
}

fn b64_part(part: &str, what: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid(format!("The JWT {what} is not base64url-encoded.")))
}

/// A token split and parsed, signature not yet checked.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signing_input: &'a str,
    pub signature: &'a str,
}

impl Decoded<'_> {
    /// The unverified `iss`, which only selects the trusted issuer's keys.
    pub fn issuer(&self) -> Result<&str> {
        match self.claims.get("iss") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            _ => Err(Error::token(codes::INVALID_TOKEN).with_cause(
                "The JWT payload does not contain the `iss` field or it is malformed.",
            )),
        }
    }
}

/// Splits and parses `token` and applies the header rules (algorithm allow-list, no `none`,
/// no unknown `crit`, optional `typ: at+jwt`). Header URLs (`jku`, `x5u`) and embedded keys
/// (`jwk`, `x5c`) are never used.
pub fn decode<'a>(token: &'a str, opts: &JwtOptions) -> Result<Decoded<'a>> {
    if token.len() > opts.max_token_bytes {
        return Err(invalid(format!(
            "The token is larger than {} bytes.",
            opts.max_token_bytes
        )));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let n = token.split('.').count();
        return Err(invalid(if n == 5 {
            "Encrypted tokens (JWE) are not supported."
        } else {
            "The JWT is malformed or invalid."
        }));
    };
    let header = parse_object(&b64_part(h, "header")?, "header")?;
    let alg_name = match header.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err(invalid("The JWT header has no `alg`.")),
    };
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(invalid("Unsigned tokens (`alg: none`) are not accepted."));
    }
    let alg = Alg::parse(alg_name).ok_or_else(|| {
        invalid(format!(
            "The algorithm `{}` is not supported.",
            fragment(alg_name)
        ))
    })?;
    let allowed = match &opts.algorithms {
        Some(list) => list.contains(&alg),
        // HMAC needs an `oct` key, which only an explicitly configured secret provides.
        None => true,
    };
    if !allowed {
        return Err(invalid(format!(
            "The algorithm `{}` is not allowed.",
            fragment(alg_name)
        )));
    }
    if header.contains_key("crit") {
        return Err(invalid(
            "The JWT header lists critical extensions this server does not understand.",
        ));
    }
    if header.get("b64") == Some(&Value::Bool(false)) {
        return Err(invalid(
            "Unencoded payloads (`b64: false`) are not accepted.",
        ));
    }
    let media = |t: &str| {
        let t = t.trim();
        let l = t.to_ascii_lowercase();
        l.strip_prefix("application/")
            .map(str::to_string)
            .unwrap_or(l)
    };
    if opts.require_at_jwt || opts.typ.is_some() {
        // Only then is the header's `typ` read (lowering it costs two strings per token).
        let typ = header.get("typ").and_then(Value::as_str).map(media);
        if opts.require_at_jwt && typ.as_deref() != Some("at+jwt") {
            return Err(invalid(
                "The token is not an RFC 9068 access token (`typ` must be `at+jwt`).",
            ));
        }
        if let Some(want) = &opts.typ {
            if typ.as_deref() != Some(media(want).as_str()) {
                return Err(invalid(format!("The JWT header `typ` is not `{want}`.")));
            }
        }
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(invalid("The JWT header `kid` is not a string.")),
    };
    let claims = parse_object(&b64_part(p, "payload")?, "payload")?;
    Ok(Decoded {
        alg,
        kid,
        header,
        claims,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature: s,
    })
}

/// What the keys said about a token's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid,
    /// No key fits the header.
    NoKey,
    /// Keys fit, none verified the signature.
    Invalid,
}

impl SignatureCheck {
    /// The failure to report for a check that did not pass.
    pub fn error(self, d: &Decoded<'_>) -> Error {
        match self {
            SignatureCheck::Valid | SignatureCheck::Invalid => {
                invalid("The token signature is invalid.")
            }
            SignatureCheck::NoKey => invalid(match &d.kid {
                Some(k) => format!(
                    "No key in the key set matches the token (kid `{}`, alg `{}`).",
                    fragment(k),
                    d.alg.as_str()
                ),
                None => format!(
                    "No key in the key set matches the token (alg `{}`).",
                    d.alg.as_str()
                ),
            }),
        }
    }
}

/// Checks the signature against every key that fits the header (`kid`, key type, curve,
/// `alg`); a set holds at most [`crate::keys::MAX_KEYS`] keys, which bounds the work.
pub fn check_signature(d: &Decoded<'_>, keys: &KeySet) -> Result<SignatureCheck> {
    let mut tried = false;
    for key in keys.candidates(d.alg, d.kid.as_deref()) {
        tried = true;
        if key.verify(d.alg, d.signing_input.as_bytes(), d.signature)? {
            return Ok(SignatureCheck::Valid);
        }
    }
    Ok(if tried {
        SignatureCheck::Invalid
    } else {
        SignatureCheck::NoKey
    })
}

/// [`check_signature`], failing unless it is valid.
pub fn verify_signature(d: &Decoded<'_>, keys: &KeySet) -> Result<()> {
    match check_signature(d, keys)? {
        SignatureCheck::Valid => Ok(()),
        other => Err(other.error(d)),
    }
}

pub(crate) fn numeric(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>> {
    // A present `null` is not "no expiry": a time claim that is there must be a number.
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f)),
            _ => Err(invalid(format!("The `{name}` claim is out of range."))),
        },
        Some(_) => Err(invalid(format!("The `{name}` claim is not a number."))),
    }
}

pub(crate) fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("The `{name}` claim is not a string."))),
    }
}

/// `token_use` says what a token is for (Amazon Cognito JWTs: `access` or `id`; Ory Hydra
/// introspection answers: `access_token` or `refresh_token`). ID and refresh tokens are signed by
/// the same keys and may name the same audience, so only this claim tells them apart.
pub(crate) fn check_token_use(claims: &Map<String, Value>) -> Result<()> {
    match string_claim(claims, "token_use")?.as_deref() {
        None | Some("access" | "access_token") => Ok(()),
        Some(other) => Err(invalid(format!(
            "The token is a `{other}` token (`token_use`), not an access token."
        ))),
    }
}

fn scope_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        // RFC 6749 §3.3: scope tokens are separated by SP only; other whitespace (a no-break
        // space, a tab) is part of a token, which no configured scope matches.
        Some(Value::String(s)) => Ok(Some(
            s.split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        )),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("The `{name}` claim holds a non-string scope.")))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid(format!(
            "The `{name}` claim is neither a string nor a list."
        ))),
    }
}

/// `aud` as one string or a list of non-empty strings.
pub(crate) fn audience_claim(claims: &Map<String, Value>) -> Result<Option<Audience>> {
    Ok(match claims.get("aud") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(Audience::One(s.clone())),
        Some(Value::Array(a)) => Some(Audience::Many(
            a.iter()
                .map(|v| match v {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(invalid(
                        "The `aud` claim holds a value that is not a non-empty string.",
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
        )),
        Some(_) => {
            return Err(invalid(
                "The `aud` claim is neither a string nor a list of strings.",
            ))
        }
    })
}

/// Scopes from the first non-empty of `scope`, `scopes` and `scp` (string or list each).
pub(crate) fn scopes_claim(claims: &Map<String, Value>) -> Result<Vec<String>> {
    let mut scopes = None;
    for name in ["scope", "scopes", "scp"] {
        if let Some(s) = scope_claim(claims, name)? {
            if scopes.is_none() && !s.is_empty() {
                scopes = Some(s);
            }
        }
    }
    Ok(scopes.unwrap_or_default())
}

/// Time and shape checks on verified claims, then the AuthInfo they describe.
pub fn auth_info(token: &str, claims: Map<String, Value>, opts: &JwtOptions) -> Result<AuthInfo> {
    let now = opts.now();
    let leeway = opts.leeway.max(0.0);
    let exp = check_time(&claims, now, leeway, opts)?;
    let issuer = match claims.get("iss") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(invalid(
                "The JWT payload does not contain the `iss` field or it is malformed.",
            ))
        }
    };
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(invalid(
                "The JWT payload does not contain the `sub` field or it is malformed.",
            ))
        }
    };
    check_token_use(&claims)?;
    let audience = audience_claim(&claims)?;
    let client_id = match string_claim(&claims, "client_id")? {
        Some(c) => Some(c),
        None => string_claim(&claims, "azp")?,
    };
    opts.claims.check(&claims, now, leeway)?;
    let scopes = scopes_claim(&claims)?;
    Ok(AuthInfo {
        token: token.to_string(),
        issuer,
        client_id,
        scopes,
        subject: Some(subject),
        audience,
        expires_at: exp.map(|e| e as i64),
        claims,
    })
}

/// What of [`auth_info`] depends on the clock or on the claim rules, which a token verified
/// before must pass again on every request (`verifier`'s cache of verified tokens).
pub(crate) fn check_again(info: &AuthInfo, opts: &JwtOptions) -> Result<()> {
    let now = opts.now();
    let leeway = opts.leeway.max(0.0);
    check_time(&info.claims, now, leeway, opts)?;
    opts.claims.check(&info.claims, now, leeway)
}

/// `exp`, `nbf` and `iat` at `now`; the token's `exp`, if any.
fn check_time(
    claims: &Map<String, Value>,
    now: f64,
    leeway: f64,
    opts: &JwtOptions,
) -> Result<Option<f64>> {
    let exp = numeric(claims, "exp")?;
    if let Some(exp) = exp {
        if exp <= now - leeway {
            return Err(invalid("The token has expired."));
        }
    } else if opts.requires_at_jwt() {
        return Err(invalid(
            "The token has no `exp`, which an RFC 9068 access token must have.",
        ));
    }
    if let Some(nbf) = numeric(claims, "nbf")? {
        if nbf > now + leeway {
            return Err(invalid("The token is not yet valid (nbf)."));
        }
    }
    if let Some(iat) = numeric(claims, "iat")? {
        if iat > now + leeway {
            return Err(invalid("The token is not yet valid (iat)."));
        }
    }
    Ok(exp)
}

/// Verifies `token` against `keys` with no issuer policy (`create_verify_jwt` / `createVerifyJwt`).
pub fn verify_with_keys(token: &str, keys: &KeySet, opts: &JwtOptions) -> Result<AuthInfo> {
    let d = decode(token, opts)?;
    verify_signature(&d, keys)?;
    auth_info(token, d.claims, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_tokens_are_rejected_before_parsing() {
        let opts = JwtOptions::default();
        let big = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
        let e = decode(&big, &opts).unwrap_err();
        assert_eq!(e.code(), "invalid_token");
        assert!(e.to_string().contains("larger than"));
    }

    #[test]
    fn any_typ_can_be_required() {
        let t = |typ: &str| {
            let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#));
            let p = URL_SAFE_NO_PAD.encode(br#"{"iss":"a","sub":"b"}"#);
            format!("{h}.{p}.c2ln")
        };
        let want = |typ: &str| JwtOptions {
            typ: Some(typ.into()),
            ..JwtOptions::default()
        };
        assert!(decode(&t("JWT"), &want("jwt")).is_ok());
        assert!(decode(&t("application/JWT"), &want("JWT")).is_ok());
        assert!(decode(&t("at+jwt"), &want("JWT")).is_err());
        assert!(decode(&t("JWT"), &want("application/at+jwt")).is_err());
    }

    #[test]
    fn at_jwt_is_enforced_when_asked() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"iss":"a","sub":"b"}"#);
        let t = format!("{h}.{p}.c2ln");
        assert!(decode(&t, &JwtOptions::default()).is_ok());
        let strict = JwtOptions {
            require_at_jwt: true,
            ..JwtOptions::default()
        };
        assert!(decode(&t, &strict).is_err());
        let h2 = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"application/at+JWT"}"#);
        assert!(decode(&format!("{h2}.{p}.c2ln"), &strict).is_ok());
    }

    #[test]
    fn claim_rules() {
        let claims: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "iss": "https://a", "sub": "u", "aud": ["x", "y"], "iat": 1000.0, "tenant": "t"
        }))
        .unwrap();
        let rules = |r: ClaimRules| JwtOptions {
            claims: r,
            now: Some(1100.0),
            ..JwtOptions::default()
        };
        let ok = |r: ClaimRules| auth_info("t", claims.clone(), &rules(r)).is_ok();
        assert!(ok(ClaimRules {
            issuer: Some(vec!["https://a".into()]),
            audience: Some(vec!["y".into()]),
            subject: Some("u".into()),
            required: vec!["tenant".into()],
            max_age: Some(200.0)
        }));
        assert!(!ok(ClaimRules {
            issuer: Some(vec!["https://b".into()]),
            ..ClaimRules::default()
        }));
        assert!(!ok(ClaimRules {
            audience: Some(vec!["z".into()]),
            ..ClaimRules::default()
        }));
        assert!(!ok(ClaimRules {
            subject: Some("v".into()),
            ..ClaimRules::default()
        }));
        assert!(!ok(ClaimRules {
            required: vec!["org".into()],
            ..ClaimRules::default()
        }));
        let e = auth_info(
            "t",
            claims.clone(),
            &rules(ClaimRules {
                max_age: Some(50.0),
                ..ClaimRules::default()
            }),
        )
        .unwrap_err();
        assert_eq!(
            e.details().cause.as_ref().unwrap()["code"],
            "ERR_JWT_EXPIRED"
        );
    }

    #[test]
    fn algorithm_allow_list() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"iss":"a"}"#);
        let t = format!("{h}.{p}.c2ln");
        let only_rs = JwtOptions {
            algorithms: Some(vec![Alg::RS256]),
            ..JwtOptions::default()
        };
        assert!(decode(&t, &only_rs)
            .unwrap_err()
            .to_string()
            .contains("not allowed"));
    }
}
