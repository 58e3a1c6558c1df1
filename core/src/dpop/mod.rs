//! DPoP (RFC 9449) at the resource server: sender-constrained access tokens.
//!
//! A DPoP-bound token names a key (`cnf.jkt`, the RFC 7638 thumbprint of a public JWK), and
//! every request that uses it carries a `DPoP` header: a JWS signed with that key over the
//! request's method and URL, the hash of the token, a fresh `jti` and the time. A token copied
//! from a log or a proxy is useless without the key.
//!
//! - [`proof`]: one proof against the request (RFC 9449 §4.3).
//! - [`thumbprint`]: RFC 7638 thumbprints.
//! - `htu`: the request URL the proof must name, built from the configured resource
//!   identifier's origin and the request path (never from `Host`).
//! - [`replay`], [`redis`]: proofs seen within their window, in process or in Redis.
//! - `nonce`: stateless server nonces (RFC 9449 §8), AEAD-sealed timestamps.
//!
//! A route is in one of three [`DpopMode`]s. In every one of them a token that carries
//! `cnf.jkt` is refused when it comes as a bearer token or without a valid proof (RFC 9449
//! §7.2): a stolen bound token cannot be downgraded to a bearer token.

mod htu;
mod nonce;
pub mod proof;
pub mod redis;
pub mod replay;
pub mod thumbprint;

use std::task::Poll;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::bearer::{Challenges, Credentials, Policy, Scheme};
use crate::error::{codes, Error, Result};
use crate::jwt::AuthInfo;
use crate::keys::Alg;

pub use nonce::{MIN_SECRET_BYTES, NONCE_CHARS};
pub use proof::{ProofRequest, VerifiedProof, MAX_JTI_BYTES, MAX_PROOF_BYTES};
pub use redis::RedisStore;
pub use replay::{MemoryStore, ReplayStore, DEFAULT_MAX_ENTRIES};
pub use thumbprint::jwk_thumbprint;

pub const INVALID_DPOP_CONFIG: &str = "invalid_dpop_config";

/// The default `iat` window, either side of now (SEP-1932: ±5 minutes).
pub const DEFAULT_IAT_WINDOW: f64 = 300.0;
/// The default lifetime of a server nonce.
pub const DEFAULT_NONCE_WINDOW: f64 = 300.0;
const MAX_WINDOW: f64 = 3600.0;
const MAX_LEEWAY: f64 = 600.0;
const MAX_MAX_ENTRIES: usize = 10_000_000;
const MAX_PREFIX_BYTES: usize = 128;

/// Algorithms accepted when none are configured: every asymmetric one the core verifies.
pub const DEFAULT_ALGORITHMS: [Alg; 10] = [
    Alg::ES256,
    Alg::ES384,
    Alg::ES512,
    Alg::EdDSA,
    Alg::PS256,
    Alg::PS384,
    Alg::PS512,
    Alg::RS256,
    Alg::RS384,
    Alg::RS512,
];

/// How a protected route treats DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// Bearer and DPoP-bound tokens both accepted; 401s offer both schemes.
    #[default]
    Allowed,
    /// Only DPoP-bound tokens with a proof; bearer tokens are refused.
    Required,
    /// Bearer only, as without DPoP; bound tokens are still refused.
    Off,
}

impl DpopMode {
    pub fn parse(s: &str) -> Option<DpopMode> {
        Some(match s {
            "allowed" => DpopMode::Allowed,
            "required" => DpopMode::Required,
            "off" => DpopMode::Off,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DpopMode::Allowed => "allowed",
            DpopMode::Required => "required",
            DpopMode::Off => "off",
        }
    }
}

/// A route's DPoP settings, as a binding hands them over.
#[derive(Debug, Clone, PartialEq)]
pub struct DpopOptions {
    pub mode: DpopMode,
    /// The resource identifier: the origin of every proof's `htu`.
    pub resource: String,
    /// Algorithm names (RFC 7518); `None` for [`DEFAULT_ALGORITHMS`].
    pub algorithms: Option<Vec<String>>,
    /// How far `iat` may be from now, either way, in seconds (plus `leeway`).
    pub iat_window: f64,
    /// Clock skew tolerated on top of the window; `None` takes the token verifier's leeway.
    pub leeway: Option<f64>,
    /// Server nonces on, sealed under this secret (at least [`MIN_SECRET_BYTES`] bytes).
    pub nonce_secret: Option<Vec<u8>>,
    /// How long a nonce stays valid, in seconds.
    pub nonce_window: f64,
    /// `None` or `"memory"` for the in-process store, else a Redis URL.
    pub replay_store: Option<String>,
    /// Live entries the in-process store holds at most.
    pub replay_max_entries: usize,
    /// Time limit of every Redis call.
    pub replay_timeout: Duration,
    /// Accept proofs unrecorded when Redis cannot answer (default: refuse them).
    pub replay_fail_open: bool,
    /// Prefix of the Redis keys.
    pub replay_key_prefix: String,
}

impl Default for DpopOptions {
    fn default() -> Self {
        DpopOptions {
            mode: DpopMode::default(),
            resource: String::new(),
            algorithms: None,
            iat_window: DEFAULT_IAT_WINDOW,
            leeway: None,
            nonce_secret: None,
            nonce_window: DEFAULT_NONCE_WINDOW,
            replay_store: None,
            replay_max_entries: DEFAULT_MAX_ENTRIES,
            replay_timeout: redis::DEFAULT_TIMEOUT,
            replay_fail_open: false,
            replay_key_prefix: redis::DEFAULT_KEY_PREFIX.to_string(),
        }
    }
}

fn config(message: impl Into<String>) -> Error {
    Error::config(INVALID_DPOP_CONFIG, message)
}

const MEMBERS: [&str; 12] = [
    "mode",
    "resource",
    "algorithms",
    "iat_window",
    "leeway",
    "nonce_secret",
    "nonce_window",
    "replay_store",
    "replay_max_entries",
    "replay_timeout_ms",
    "replay_fail_open",
    "replay_key_prefix",
];

fn seconds(v: &Value, member: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| config(format!("`{member}` must be a number of seconds.")))
}

impl DpopOptions {
    /// The one shape every binding hands DPoP settings over in (snake_case members, each
    /// optional but `resource`): `mode`, `resource`, `algorithms`, `iat_window`, `leeway`,
    /// `nonce_secret` (a string), `nonce_window`, `replay_store`, `replay_max_entries`,
    /// `replay_timeout_ms`, `replay_fail_open`, `replay_key_prefix`. Unknown members and
    /// mistyped values are refused.
    pub fn from_json(v: &Value) -> Result<DpopOptions> {
        let Value::Object(obj) = v else {
            return Err(config("DPoP settings must be an object."));
        };
        if let Some(unknown) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(config(format!(
                "unknown DPoP option `{}` (known: {}).",
                crate::operations::shown(unknown),
                MEMBERS.join(", ")
            )));
        }
        let mut o = DpopOptions::default();
        for (k, v) in obj {
            if v.is_null() {
                continue;
            }
            let string = |what: &str| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| config(format!("`{k}` must be {what}.")))
            };
            match k.as_str() {
                "mode" => {
                    let m = string("a string")?;
                    o.mode = DpopMode::parse(&m).ok_or_else(|| {
                        config(format!(
                            "unknown DPoP mode `{}` (known: allowed, required, off).",
                            crate::operations::shown(&m)
                        ))
                    })?;
                }
                "resource" => o.resource = string("the resource identifier")?,
                "algorithms" => {
                    let list = v
                        .as_array()
                        .ok_or_else(|| config("`algorithms` must be a list of names."))?;
                    o.algorithms = Some(
                        list.iter()
                            .map(|a| {
                                a.as_str()
                                    .map(str::to_string)
                                    .ok_or_else(|| config("`algorithms` must be a list of names."))
                            })
                            .collect::<Result<_>>()?,
                    );
                }
                "iat_window" => o.iat_window = seconds(v, k)?,
                "leeway" => o.leeway = Some(seconds(v, k)?),
                "nonce_secret" => o.nonce_secret = Some(string("a string")?.into_bytes()),
                "nonce_window" => o.nonce_window = seconds(v, k)?,
                "replay_store" => o.replay_store = Some(string("`memory` or a Redis URL")?),
                "replay_max_entries" => {
                    o.replay_max_entries = v
                        .as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| config("`replay_max_entries` must be a positive integer."))?
                }
                "replay_timeout_ms" => {
                    o.replay_timeout =
                        Duration::from_millis(v.as_u64().ok_or_else(|| {
                            config("`replay_timeout_ms` must be a positive integer.")
                        })?)
                }
                "replay_fail_open" => {
                    o.replay_fail_open = v
                        .as_bool()
                        .ok_or_else(|| config("`replay_fail_open` must be true or false."))?
                }
                "replay_key_prefix" => o.replay_key_prefix = string("a string")?,
                other => {
                    return Err(config(format!(
                        "unknown DPoP option `{}`.",
                        crate::operations::shown(other)
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// A route's DPoP rules, checked and ready.
#[derive(Debug)]
pub struct Dpop {
    mode: DpopMode,
    algorithms: Vec<Alg>,
    /// `algorithms` as challenges and messages list them.
    algs: String,
    iat_window: f64,
    leeway: f64,
    origin: htu::Origin,
    nonce: Option<nonce::NonceKey>,
    replay: Option<ReplayStore>,
}

fn window(v: f64, what: &str) -> Result<f64> {
    if !v.is_finite() || v <= 0.0 || v > MAX_WINDOW {
        return Err(config(format!(
            "`{what}` must be more than 0 and at most {MAX_WINDOW} seconds (got {v})."
        )));
    }
    Ok(v)
}

impl Dpop {
    /// Checks `o`; `verifier_leeway` is used when `o.leeway` is `None`. No connection is made
    /// to a Redis store until the first proof.
    pub fn new(o: DpopOptions, verifier_leeway: f64) -> Result<Dpop> {
        let origin = htu::Origin::of(&o.resource).map_err(|why| {
            config(format!(
                "DPoP needs the resource identifier, an http(s) URL: {why}."
            ))
        })?;
        let algorithms: Vec<Alg> = match &o.algorithms {
            None => DEFAULT_ALGORITHMS.to_vec(),
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for n in names {
                    let a = Alg::parse(n).filter(|a| a.as_str() == n).ok_or_else(|| {
                        let why = if n.eq_ignore_ascii_case("none") {
                            "unsigned proofs are never accepted".to_string()
                        } else {
                            format!("known: {}", DEFAULT_ALGORITHMS.map(Alg::as_str).join(", "))
                        };
                        config(format!(
                            "unknown DPoP algorithm `{}` ({why}).",
                            crate::operations::shown(n)
                        ))
                    })?;
                    if a.is_hmac() {
                        return Err(config(format!(
                            "`{n}` is a symmetric algorithm; DPoP proofs are signed with the client's private key (RFC 9449 §4.2)."
                        )));
                    }
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
                if out.is_empty() {
                    return Err(config("`algorithms` must name at least one algorithm."));
                }
                out
            }
        };
        let iat_window = window(o.iat_window, "iat_window")?;
        let leeway = o.leeway.unwrap_or(verifier_leeway);
        if !leeway.is_finite() || !(0.0..=MAX_LEEWAY).contains(&leeway) {
            return Err(config(format!(
                "`leeway` must be between 0 and {MAX_LEEWAY} seconds (got {leeway})."
            )));
        }
        let nonce = match &o.nonce_secret {
            None => None,
            Some(secret) => Some(
                nonce::NonceKey::new(secret, window(o.nonce_window, "nonce_window")?)
                    .map_err(|why| config(format!("DPoP nonces: {why}.")))?,
            ),
        };
        if o.replay_max_entries == 0 || o.replay_max_entries > MAX_MAX_ENTRIES {
            return Err(config(format!(
                "`replay_max_entries` must be between 1 and {MAX_MAX_ENTRIES}."
            )));
        }
        if o.replay_timeout.is_zero() || o.replay_timeout > Duration::from_secs(60) {
            return Err(config(
                "`replay_timeout_ms` must be more than 0 and at most 60000.",
            ));
        }
        if o.replay_key_prefix.len() > MAX_PREFIX_BYTES {
            return Err(config(format!(
                "`replay_key_prefix` must be at most {MAX_PREFIX_BYTES} bytes."
            )));
        }
        let replay = match o.replay_store.as_deref() {
            _ if o.mode == DpopMode::Off => None,
            None | Some("memory") => Some(ReplayStore::Memory(MemoryStore::new(
                o.replay_max_entries,
                iat_window / 2.0,
            ))),
            Some(url) => Some(ReplayStore::Redis(
                RedisStore::new(
                    url,
                    &o.replay_key_prefix,
                    o.replay_timeout,
                    o.replay_fail_open,
                )
                .map_err(|why| config(format!("`replay_store`: {why}.")))?,
            )),
        };
        Ok(Dpop {
            mode: o.mode,
            algs: algorithms
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            algorithms,
            iat_window,
            leeway,
            origin,
            nonce,
            replay,
        })
    }

    pub fn mode(&self) -> DpopMode {
        self.mode
    }

    pub fn algorithms(&self) -> &[Alg] {
        &self.algorithms
    }

    pub fn replay_store(&self) -> Option<&ReplayStore> {
        self.replay.as_ref()
    }

    /// Whether a request in `scheme` may go on to token verification: a `required` route
    /// refuses bearer tokens (401 without an error code: an unsupported scheme, RFC 6750 §3.1).
    pub fn check_scheme(&self, scheme: Scheme) -> Result<()> {
        match (self.mode, scheme) {
            (DpopMode::Required, Scheme::Bearer) => Err(Error::bearer(codes::DPOP_REQUIRED)
                .with_cause("The route accepts only DPoP-bound access tokens.")),
            (DpopMode::Off, Scheme::DPoP) => Err(Error::bearer(codes::INVALID_AUTH_HEADER_FORMAT)
                .with_cause("The `Authorization` scheme is not `Bearer`.")),
            _ => Ok(()),
        }
    }

    /// After the token was verified: a bearer token must not be DPoP-bound; a DPoP token must
    /// be, to the key of a valid proof for this request. Returns the proof to record.
    pub fn confirm(
        &self,
        creds: &Credentials<'_>,
        info: &AuthInfo,
        dpop_values: &[&str],
        method: &str,
        path: &str,
        now: f64,
    ) -> Result<Option<VerifiedProof>> {
        self.check_scheme(creds.scheme)?;
        let bound = token_jkt(info)?;
        match creds.scheme {
            Scheme::Bearer => {
                refuse_bound_bearer(bound)?;
                Ok(None)
            }
            Scheme::DPoP => {
                let Some(bound) = bound else {
                    return Err(Error::bearer(codes::INVALID_TOKEN)
                        .with_message(
                            "The access token is not DPoP-bound; send it with the `Bearer` scheme.",
                        )
                        .with_cause("The token has no `cnf.jkt` confirmation."));
                };
                let proof = self.verify_proof(
                    dpop_values,
                    &ProofRequest {
                        method,
                        path,
                        access_token: creds.token,
                        now,
                    },
                )?;
                if proof.jkt != bound {
                    return Err(Error::bearer(codes::INVALID_TOKEN)
                        .with_message("Invalid DPoP key binding: the proof is signed with another key than the token is bound to.")
                        .with_cause("The token's `cnf.jkt` is not the thumbprint of the proof's `jwk`."));
                }
                Ok(Some(proof))
            }
        }
    }

    /// How long a verified proof must be remembered: while its `iat` keeps it acceptable.
    pub fn replay_until(&self, proof: &VerifiedProof) -> f64 {
        proof.iat + self.iat_window + self.leeway
    }

    /// Whether a request in `scheme` needs the network to be decided (a DPoP request on a
    /// route whose replay store is Redis): the synchronous entry points say `Pending` at once
    /// rather than check the proof twice.
    pub fn needs_network(&self, scheme: Scheme) -> bool {
        scheme == Scheme::DPoP && matches!(self.replay, Some(ReplayStore::Redis(_)))
    }

    /// The whole DPoP check once the token is verified, for hosts that verify tokens with
    /// their own code as for the built-in modes: [`Self::confirm`], then the proof's `jti` into
    /// the replay store. `Pending` when the store is Redis (then await [`Self::check`]).
    pub fn check_now(
        &self,
        creds: &Credentials<'_>,
        info: &AuthInfo,
        dpop_values: &[&str],
        method: &str,
        path: &str,
        now: f64,
    ) -> Poll<Result<()>> {
        if self.needs_network(creds.scheme) {
            return Poll::Pending;
        }
        let proof = match self.confirm(creds, info, dpop_values, method, path, now) {
            Ok(Some(p)) => p,
            Ok(None) => return Poll::Ready(Ok(())),
            Err(e) => return Poll::Ready(Err(e)),
        };
        match &self.replay {
            Some(store) => store
                .record_now(
                    &replay::replay_key(&proof.jkt, &proof.jti),
                    self.replay_until(&proof),
                    now,
                )
                .map(|r| r.and_then(fresh)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// [`Self::check_now`], asking the Redis store when there is one.
    pub async fn check(
        &self,
        creds: &Credentials<'_>,
        info: &AuthInfo,
        dpop_values: &[&str],
        method: &str,
        path: &str,
        now: f64,
    ) -> Result<()> {
        let Some(proof) = self.confirm(creds, info, dpop_values, method, path, now)? else {
            return Ok(());
        };
        match &self.replay {
            Some(store) => fresh(
                store
                    .record(
                        &replay::replay_key(&proof.jkt, &proof.jti),
                        self.replay_until(&proof),
                        now,
                    )
                    .await?,
            ),
            None => Ok(()),
        }
    }

    /// The challenges of this route for a request in `used`.
    pub fn challenges(&self, used: Option<Scheme>) -> Challenges<'_> {
        match self.mode {
            DpopMode::Off => Challenges::BEARER,
            DpopMode::Allowed => Challenges {
                used,
                bearer: true,
                dpop_algs: Some(&self.algs),
            },
            DpopMode::Required => Challenges {
                used,
                bearer: false,
                dpop_algs: Some(&self.algs),
            },
        }
    }

    /// The answer to `err` for a request whose credentials used `used`, with the headers
    /// every answer of this route carries.
    pub fn respond(
        &self,
        policy: &Policy,
        err: &Error,
        used: Option<Scheme>,
        now: f64,
    ) -> crate::AuthResponse {
        let mut r = crate::bearer::respond_with(err, policy, &self.challenges(used));
        r.headers.extend(self.answer_headers(now));
        r
    }

    /// Headers for every answer of this route: the newest `DPoP-Nonce` when nonces are on.
    pub fn answer_headers(&self, now: f64) -> Vec<(String, String)> {
        match (&self.nonce, self.mode) {
            (Some(n), DpopMode::Allowed | DpopMode::Required) => {
                let v = n.mint(now);
                if v.is_empty() {
                    vec![]
                } else {
                    vec![("DPoP-Nonce".to_string(), v)]
                }
            }
            _ => vec![],
        }
    }

    /// When a nonce of this route was issued (seconds since the epoch), if it is one.
    pub fn nonce_issued_at(&self, nonce: &str) -> Option<u64> {
        self.nonce.as_ref()?.issued_at(nonce)
    }

    /// The RFC 9728 §2 members this route adds to its protected-resource metadata (none when
    /// DPoP is off).
    pub fn metadata_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if self.mode != DpopMode::Off {
            m.insert(
                "dpop_signing_alg_values_supported".into(),
                self.algorithms
                    .iter()
                    .map(|a| Value::String(a.as_str().into()))
                    .collect(),
            );
            m.insert(
                "dpop_bound_access_tokens_required".into(),
                Value::Bool(self.mode == DpopMode::Required),
            );
        }
        m
    }
}

/// A proof seen before within its window is refused.
fn fresh(first_use: bool) -> Result<()> {
    if first_use {
        return Ok(());
    }
    Err(Error::bearer(codes::INVALID_DPOP_PROOF)
        .with_cause("The DPoP proof was used before (its `jti` was seen within its window)."))
}

/// The token's `cnf.jkt`, `None` when the token is not DPoP-bound. A `cnf` that is not an
/// object, or a `jkt` that is not a non-empty string, makes the token invalid.
pub fn token_jkt(info: &AuthInfo) -> Result<Option<&str>> {
    let malformed = |why: &str| {
        Err(Error::bearer(codes::INVALID_TOKEN).with_cause(format!(
            "The token's `cnf` confirmation is malformed: {why}."
        )))
    };
    match info.claims.get("cnf") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            None => Ok(None),
            Some(Value::String(j)) if !j.is_empty() && j.len() <= 128 => Ok(Some(j)),
            Some(_) => malformed("`jkt` is not a thumbprint"),
        },
        Some(_) => malformed("it is not an object"),
    }
}

/// RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
pub(crate) fn refuse_bound_bearer(bound: Option<&str>) -> Result<()> {
    if bound.is_some() {
        return Err(Error::bearer(codes::INVALID_TOKEN)
            .with_message(
                "The access token is DPoP-bound; send it with the `DPoP` scheme and a DPoP proof.",
            )
            .with_cause("A token with a `cnf.jkt` confirmation came as a bearer token."));
    }
    Ok(())
}

/// For routes without DPoP settings: the bearer token must not be DPoP-bound.
pub fn check_bearer_token(info: &AuthInfo) -> Result<()> {
    refuse_bound_bearer(token_jkt(info)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> Result<Dpop> {
        Dpop::new(DpopOptions::from_json(&v)?, 0.0)
    }

    #[test]
    fn configuration_errors_are_clear() {
        let r = "https://mcp.example.com/mcp";
        for (v, says) in [
            (
                json!({"resource": r, "algorithms": ["XS256"]}),
                "unknown DPoP algorithm `XS256`",
            ),
            (
                json!({"resource": r, "algorithms": ["none"]}),
                "never accepted",
            ),
            (json!({"resource": r, "algorithms": ["HS256"]}), "symmetric"),
            (
                json!({"resource": r, "algorithms": ["es256"]}),
                "unknown DPoP algorithm",
            ),
            (json!({"resource": r, "algorithms": []}), "at least one"),
            (
                json!({"resource": r, "iat_window": 0}),
                "`iat_window` must be more than 0",
            ),
            (json!({"resource": r, "iat_window": 86400}), "at most 3600"),
            (
                json!({"resource": r, "leeway": -1}),
                "`leeway` must be between",
            ),
            (
                json!({"resource": r, "nonce_secret": "short"}),
                "at least 32 bytes",
            ),
            (
                json!({"resource": r, "nonce_secret": "x".repeat(32), "nonce_window": -5}),
                "`nonce_window`",
            ),
            (
                json!({"resource": r, "replay_store": "http://127.0.0.1:6379"}),
                "not a Redis URL",
            ),
            (
                json!({"resource": r, "replay_max_entries": 0}),
                "`replay_max_entries`",
            ),
            (
                json!({"resource": r, "replay_timeout_ms": 0}),
                "`replay_timeout_ms`",
            ),
            (
                json!({"resource": r, "mode": "sometimes"}),
                "unknown DPoP mode",
            ),
            (
                json!({"resource": r, "window": 5}),
                "unknown DPoP option `window`",
            ),
            (
                json!({"resource": "mcp.example.com"}),
                "resource identifier",
            ),
            (json!({}), "resource identifier"),
            (
                json!({"resource": r, "iat_window": "300"}),
                "number of seconds",
            ),
        ] {
            let e = opts(v.clone()).unwrap_err();
            assert_eq!(e.code(), INVALID_DPOP_CONFIG, "{v}");
            assert!(e.to_string().contains(says), "{v}: {e}");
        }
        let ok = opts(json!({"resource": r, "algorithms": ["ES256", "EdDSA", "ES256"]})).unwrap();
        assert_eq!(ok.algs, "ES256 EdDSA");
        assert!(opts(json!({"resource": r, "replay_store": "redis://127.0.0.1:1/0"})).is_ok());
    }

    #[test]
    fn metadata_fields_follow_the_mode() {
        let r = "https://mcp.example.com/mcp";
        let req =
            opts(json!({"resource": r, "mode": "required", "algorithms": ["ES256"]})).unwrap();
        assert_eq!(
            Value::Object(req.metadata_fields()),
            json!({"dpop_signing_alg_values_supported": ["ES256"], "dpop_bound_access_tokens_required": true})
        );
        let off = opts(json!({"resource": r, "mode": "off"})).unwrap();
        assert!(off.metadata_fields().is_empty());
        assert!(off.replay_store().is_none());
    }
}
