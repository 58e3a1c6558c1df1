//! JS configuration objects -> core options, core results -> JS objects.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use mcp_auth_core::introspection::INVALID_INTROSPECTION_CONFIG;
use mcp_auth_core::metadata::finish;
use mcp_auth_core::{
    Accepted, Alg, AuthInfo, AuthResponse, AuthServer, AuthServerType, ClaimRules,
    ClientAuthMethod, Error, FetchOptions, IntrospectionOptions, JwksOptions, JwtOptions,
    Operation, Policy, Refused, VerifierOptions,
};
use napi::Either;
use serde_json::{json, Map, Value};

use crate::errors::{error_json, invalid_arg, to_napi, FLAVOR};

type R<T> = napi::Result<T>;

fn obj<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// A duration option in milliseconds, through core's bounds (a configuration error otherwise).
fn millis(v: &Value, key: &str) -> R<Option<Duration>> {
    match obj(v, key) {
        None => Ok(None),
        Some(n) => match n.as_f64() {
            Some(ms) => mcp_auth_core::duration::from_millis(key, ms)
                .map(Some)
                .map_err(to_napi),
            None => Err(to_napi(mcp_auth_core::Error::config(
                mcp_auth_core::duration::INVALID_DURATION,
                format!("`{key}` must be a number of milliseconds, not {n}."),
            ))),
        },
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

fn headers(v: Option<&Value>) -> Vec<(String, String)> {
    match v.and_then(Value::as_object) {
        Some(m) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        None => vec![],
    }
}

pub fn server_type(s: &str) -> R<AuthServerType> {
    AuthServerType::parse(s).ok_or_else(|| invalid_arg(format!("Unknown server type `{s}`.")))
}

/// A string or a list of strings (jose's `issuer` and `audience`).
fn one_or_many(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::String(s)) => Some(vec![s.clone()]),
        other => strings(other),
    }
}

/// `{ algorithms, clockTolerance (s), requireAtJwt, typ, maxTokenBytes, now (s), issuer, audience,
/// subject, requiredClaims, maxTokenAge (s) }`
pub fn jwt_options(v: &Value) -> R<JwtOptions> {
    let mut o = JwtOptions::default();
    if let Some(algs) = strings(obj(v, "algorithms")) {
        let parsed: Vec<Alg> = algs.iter().filter_map(|a| Alg::parse(a)).collect();
        o.algorithms = Some(parsed);
    }
    if let Some(l) = obj(v, "clockTolerance").and_then(Value::as_f64) {
        o.leeway = l;
    }
    if let Some(b) = obj(v, "requireAtJwt").and_then(Value::as_bool) {
        o.require_at_jwt = b;
    }
    o.typ = obj(v, "typ").and_then(Value::as_str).map(str::to_string);
    if let Some(n) = obj(v, "maxTokenBytes").and_then(Value::as_u64) {
        o.max_token_bytes = n as usize;
    }
    o.now = obj(v, "now").and_then(Value::as_f64);
    o.claims = ClaimRules {
        issuer: one_or_many(obj(v, "issuer")),
        audience: one_or_many(obj(v, "audience")),
        subject: obj(v, "subject")
            .and_then(Value::as_str)
            .map(str::to_string),
        required: strings(obj(v, "requiredClaims")).unwrap_or_default(),
        max_age: obj(v, "maxTokenAge").and_then(Value::as_f64),
    };
    Ok(o)
}

/// jose `RemoteJWKSetOptions`: `{ timeoutDuration, cooldownDuration, cacheMaxAge, headers }`
/// plus `maxStaleDuration` (ms).
pub fn jwks_options(v: &Value) -> R<JwksOptions> {
    let mut o = JwksOptions::default();
    if let Some(d) = millis(v, "timeoutDuration")? {
        o.timeout = d;
    }
    if let Some(d) = millis(v, "cooldownDuration")? {
        o.cooldown = d;
    }
    if let Some(d) = millis(v, "cacheMaxAge")? {
        o.cache_max_age = d;
    }
    if let Some(d) = millis(v, "maxStaleDuration")? {
        o.max_stale = d;
    }
    o.headers = headers(obj(v, "headers"));
    o.validate().map_err(to_napi)?;
    Ok(o)
}

/// `{ timeout (ms), checkIssuer, headers }`
pub fn fetch_options(v: &Value) -> R<FetchOptions> {
    let mut o = FetchOptions {
        flavor: FLAVOR,
        ..FetchOptions::default()
    };
    if let Some(d) = millis(v, "timeout")? {
        o.timeout = d;
    }
    if let Some(b) = obj(v, "checkIssuer").and_then(Value::as_bool) {
        o.check_issuer = b;
    }
    o.headers = headers(obj(v, "headers"));
    Ok(o)
}

pub fn verifier_options(v: &Value) -> R<VerifierOptions> {
    let null = Value::Null;
    let mut o = VerifierOptions {
        jwt: jwt_options(obj(v, "jwt").unwrap_or(&null))?,
        jwks: jwks_options(obj(v, "jwks").unwrap_or(&null))?,
        fetch: fetch_options(obj(v, "fetch").unwrap_or(&null))?,
        flavor: FLAVOR,
        ..VerifierOptions::default()
    };
    if let Some(d) = millis(v, "metadataTtl")? {
        o.metadata_ttl = d;
    }
    Ok(o)
}

fn introspection_error(message: String) -> napi::Error {
    to_napi(Error::config(INVALID_INTROSPECTION_CONFIG, message))
}

const INTROSPECTION_KEYS: [&str; 8] = [
    "clientId",
    "clientSecret",
    "endpoint",
    "authMethod",
    "cacheMaxAge",
    "timeoutDuration",
    "clockTolerance",
    "headers",
];

/// A duration option in `unit`s, or absent: core's `invalid_duration` unless finite, not
/// negative and within core's bound.
fn duration_in(v: &Value, key: &str, unit: f64) -> R<Option<Duration>> {
    match obj(v, key) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let what = format!("introspection.{key}");
            let x = n.as_f64().unwrap_or(f64::NAN);
            let d = if unit < 1.0 {
                mcp_auth_core::duration::from_millis(&what, x)
            } else {
                mcp_auth_core::duration::from_secs(&what, x * unit)
            };
            d.map(Some).map_err(to_napi)
        }
        Some(other) => Err(introspection_error(format!(
            "`introspection.{key}` must be a non-negative number of {}, not {other}.",
            if unit < 1.0 {
                "milliseconds"
            } else {
                "seconds"
            }
        ))),
    }
}

/// A clock tolerance in seconds: finite and not negative (a tolerance, not a deadline: no bound).
fn tolerance(v: &Value, key: &str) -> R<f64> {
    match obj(v, key) {
        None => Ok(0.0),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|x| x.is_finite() && x >= 0.0) => {
            Ok(n.as_f64().unwrap_or(0.0))
        }
        Some(other) => Err(introspection_error(format!(
            "`introspection.{key}` must be a non-negative number of seconds, not {other}."
        ))),
    }
}

fn required_string(v: &Value, key: &str) -> R<String> {
    match obj(v, key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None => Err(introspection_error(format!(
            "`introspection.{key}` is required: the resource server authenticates to the introspection endpoint with it."
        ))),
        Some(other) => Err(introspection_error(format!(
            "`introspection.{key}` must be a string, not {other}."
        ))),
    }
}

/// The `'introspection'` mode's `introspection` object (camelCase, milliseconds except
/// `clockTolerance` in seconds) -> core options and the leeway. Every mistake is an
/// `invalid_introspection_config` error naming the option.
pub fn introspection_options(v: Option<&Value>) -> R<(IntrospectionOptions, f64)> {
    let Some(v @ Value::Object(m)) = v.filter(|x| !x.is_null()) else {
        return Err(introspection_error(
            "The 'introspection' mode needs `introspection: { clientId, clientSecret }` (and optionally `endpoint`, `authMethod`, `cacheMaxAge`, `timeoutDuration`, `clockTolerance`).".into(),
        ));
    };
    if let Some(k) = m.keys().find(|k| !INTROSPECTION_KEYS.contains(&k.as_str())) {
        return Err(introspection_error(format!(
            "Unknown option `introspection.{k}`; the options are {}.",
            INTROSPECTION_KEYS.map(|k| format!("`{k}`")).join(", ")
        )));
    }
    let mut o = IntrospectionOptions {
        client_id: required_string(v, "clientId")?,
        client_secret: required_string(v, "clientSecret")?,
        ..IntrospectionOptions::default()
    };
    o.endpoint = match obj(v, "endpoint") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(introspection_error(format!(
                "`introspection.endpoint` must be a URL string, not {other}."
            )))
        }
    };
    if let Some(m) = obj(v, "authMethod") {
        o.auth_method = m.as_str().and_then(ClientAuthMethod::parse).ok_or_else(|| {
            introspection_error(format!(
                "Unknown `introspection.authMethod` {m}: use `client_secret_basic` (the default) or `client_secret_post`."
            ))
        })?;
    }
    o.cache_ttl = duration_in(v, "cacheMaxAge", 0.001)?.filter(|d| !d.is_zero());
    if let Some(t) = duration_in(v, "timeoutDuration", 0.001)? {
        if t.is_zero() {
            return Err(introspection_error(
                "`introspection.timeoutDuration` must be more than 0 milliseconds.".into(),
            ));
        }
        o.timeout = t;
    }
    let leeway = tolerance(v, "clockTolerance")?;
    match obj(v, "headers") {
        None | Some(Value::Object(_)) => o.headers = headers(obj(v, "headers")),
        Some(other) => {
            return Err(introspection_error(format!(
                "`introspection.headers` must be an object of header names to values, not {other}."
            )))
        }
    }
    Ok((o, leeway))
}

/// `[{ metadata: <snake_case>, type }]` or `[{ issuer, type? }]`.
pub fn auth_servers(v: Option<&Value>) -> R<Vec<AuthServer>> {
    let Some(list) = v.and_then(Value::as_array) else {
        return Ok(vec![]);
    };
    list.iter()
        .map(|s| {
            let ty = obj(s, "type")
                .and_then(Value::as_str)
                .map(server_type)
                .transpose()?;
            if let Some(m) = obj(s, "metadata") {
                let config = finish(m.clone(), ty.unwrap_or(AuthServerType::OAuth), None)
                    .map_err(crate::errors::to_napi)?;
                Ok(AuthServer::Resolved(Arc::new(config)))
            } else {
                let issuer = obj(s, "issuer").and_then(Value::as_str).ok_or_else(|| {
                    invalid_arg("An authorization server needs `metadata` or `issuer`.")
                })?;
                Ok(AuthServer::Discovery {
                    issuer: issuer.to_string(),
                    server_type: ty,
                })
            }
        })
        .collect()
}

/// `{ issuers?, audience?, audienceFromResource?, requiredScopes?, resourceMetadata?,
/// showErrorDetails? }`
pub fn policy(v: &Value) -> Policy {
    Policy {
        issuers: strings(obj(v, "issuers")),
        audience: obj(v, "audience")
            .and_then(Value::as_str)
            .map(str::to_string),
        audience_from_resource: obj(v, "audienceFromResource")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        required_scopes: strings(obj(v, "requiredScopes")).unwrap_or_default(),
        resource_metadata: obj(v, "resourceMetadata")
            .and_then(Value::as_str)
            .map(str::to_string),
        show_error_details: obj(v, "showErrorDetails")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        flavor: FLAVOR,
        ..Policy::default()
    }
}

/// The SDK's `AuthInfo` shape (camelCase; a missing client id is `''` as upstream).
pub fn auth_info_js(a: &AuthInfo) -> Value {
    let mut m = Map::new();
    m.insert("token".into(), json!(a.token));
    m.insert("issuer".into(), json!(a.issuer));
    m.insert(
        "clientId".into(),
        json!(a.client_id.clone().unwrap_or_default()),
    );
    m.insert("scopes".into(), json!(a.scopes));
    if let Some(s) = &a.subject {
        m.insert("subject".into(), json!(s));
    }
    if let Some(aud) = &a.audience {
        m.insert("audience".into(), aud.to_json());
    }
    if let Some(e) = a.expires_at {
        m.insert("expiresAt".into(), json!(e));
    }
    m.insert("claims".into(), Value::Object(a.claims.clone()));
    if let Some(jkt) = a.jkt() {
        m.insert("jkt".into(), json!(jkt));
    }
    Value::Object(m)
}

/// A JS `AuthInfo` (from a user's verifier) as core sees it for the policy checks.
pub fn auth_info_from_js(v: &Value) -> AuthInfo {
    use mcp_auth_core::Audience;
    let s = |k: &str| obj(v, k).and_then(Value::as_str).map(str::to_string);
    let audience = match obj(v, "audience") {
        Some(Value::String(a)) => Some(Audience::One(a.clone())),
        Some(Value::Array(_)) => strings(obj(v, "audience")).map(Audience::Many),
        _ => None,
    };
    AuthInfo {
        token: s("token").unwrap_or_default(),
        issuer: s("issuer").unwrap_or_default(),
        client_id: s("clientId"),
        scopes: strings(obj(v, "scopes")).unwrap_or_default(),
        subject: s("subject"),
        audience,
        expires_at: obj(v, "expiresAt").and_then(Value::as_i64),
        claims: obj(v, "claims")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    }
}

/// `{ status, body, wwwAuthenticate, challenges, headers }`: `challenges` one `WWW-Authenticate`
/// line each, `headers` as `[name, value]` pairs (`DPoP-Nonce`).
pub fn response_js(r: &AuthResponse) -> Value {
    json!({
        "status": r.status,
        "body": r.body,
        "wwwAuthenticate": r.www_authenticate,
        "challenges": r.challenges,
        "headers": r.headers,
    })
}

/// What a verification call hands to JavaScript: a success as one JSON text (see
/// [`auth_info_text`]), anything else as an object.
pub type Outcome = Either<String, Value>;

/// Largest integer napi hands over as a number; beyond it, napi makes a BigInt.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Deeper claims than this keep napi's own conversion (and its depth limit).
const MAX_TEXT_DEPTH: u32 = 100;

/// Whether `JSON.parse` of `v`'s JSON text gives JavaScript exactly what napi's conversion of
/// `v` gives: not for integers napi turns into BigInts, nor for `__proto__` keys (napi sets them
/// through the prototype setter, `JSON.parse` makes an own property), nor for very deep values.
fn same_through_text(v: &Value, depth: u32) -> bool {
    match v {
        Value::Number(n) => {
            n.is_f64()
                || n.as_i64()
                    .is_some_and(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER)
        }
        Value::Array(a) => {
            depth < MAX_TEXT_DEPTH && a.iter().all(|x| same_through_text(x, depth + 1))
        }
        Value::Object(m) => {
            depth < MAX_TEXT_DEPTH
                && m.iter()
                    .all(|(k, x)| k != "__proto__" && same_through_text(x, depth + 1))
        }
        _ => true,
    }
}

/// Whether [`auth_info_text`] can carry `a` (see [`same_through_text`]).
fn fits_text(a: &AuthInfo) -> bool {
    !a.claims.contains_key("__proto__")
        && a.claims.values().all(|v| same_through_text(v, 1))
        && a.expires_at
            .is_none_or(|e| e.unsigned_abs() <= MAX_SAFE_INTEGER)
}

/// A verified `AuthInfo` as the JSON text of `[token, issuer, clientId, scopes, subject,
/// audience, expiresAt, claims, operations?]` (`null` for what is absent; `token` too when the
/// caller holds it already), which `native-outcome.ts` turns into the SDK's `AuthInfo` with
/// one `JSON.parse`. Setting each property from Rust costs a V8 runtime call per property,
/// several times the price of the parse. `None` when the claims would not come out the same
/// (see [`same_through_text`]).
pub fn auth_info_text(a: &AuthInfo, with_token: bool, ops: Option<&[Operation]>) -> Option<String> {
    if !fits_text(a) {
        return None;
    }
    let token = with_token.then_some(a.token.as_str());
    let client_id = a.client_id.as_deref().unwrap_or_default();
    let (iss, scopes, sub, aud, exp, claims) = (
        &a.issuer,
        &a.scopes,
        &a.subject,
        &a.audience,
        a.expires_at,
        &a.claims,
    );
    // Sized for a typical access token, so the text is not regrown while it is written.
    let mut text = Vec::with_capacity(256 + if with_token { a.token.len() } else { 0 });
    match ops {
        None => serde_json::to_writer(
            &mut text,
            &(token, iss, client_id, scopes, sub, aud, exp, claims),
        ),
        Some(ops) => serde_json::to_writer(
            &mut text,
            &(token, iss, client_id, scopes, sub, aud, exp, claims, ops),
        ),
    }
    .ok()?;
    // serde_json writes UTF-8 only.
    String::from_utf8(text).ok()
}

fn failure(e: &Error, response: Option<AuthResponse>) -> Value {
    let mut m = Map::new();
    m.insert("ok".into(), json!(false));
    m.insert("error".into(), error_json(e));
    if let Some(resp) = response {
        m.insert("response".into(), response_js(&resp));
    }
    Value::Object(m)
}

/// A success as [`auth_info_text`] (or `{ ok: true, authInfo }` when the claims need napi's
/// conversion), `{ ok: false, error, response? }` or `{ pending: true }`.
pub fn outcome(
    r: Poll<Result<AuthInfo, Error>>,
    with_token: bool,
    respond: impl Fn(&Error) -> Option<AuthResponse>,
) -> Outcome {
    match r {
        Poll::Pending => Either::B(json!({ "pending": true })),
        Poll::Ready(Ok(info)) => match auth_info_text(&info, with_token, None) {
            Some(text) => Either::A(text),
            None => Either::B(json!({ "ok": true, "authInfo": auth_info_js(&info) })),
        },
        Poll::Ready(Err(e)) => Either::B(failure(&e, respond(&e))),
    }
}

/// [`outcome`] for a request checked with per-operation rules: a success also carries the
/// operations core classified (`[{ method, name? }]`).
pub fn request_outcome(
    r: Poll<Result<(AuthInfo, Vec<Operation>), Error>>,
    respond: impl Fn(&Error) -> AuthResponse,
) -> Outcome {
    match r {
        Poll::Ready(Ok((info, ops))) => match auth_info_text(&info, true, Some(&ops)) {
            Some(text) => Either::A(text),
            None => Either::B(json!({
                "ok": true,
                "authInfo": auth_info_js(&info),
                "operations": ops,
            })),
        },
        Poll::Ready(Err(e)) => Either::B(failure(&e, Some(respond(&e)))),
        Poll::Pending => Either::B(json!({ "pending": true })),
    }
}

/// A request checked with [`mcp_auth_core::Authenticator::check_request_now`]: a success as the
/// JSON text of `[token, issuer, clientId, scopes, subject, audience, expiresAt, claims,
/// operations, headers, jkt]` (`headers` as `[name, value]` pairs for the application's answer),
/// or `{ ok: true, authInfo, operations, headers }` when the claims need napi's conversion; a
/// refusal as `{ ok: false, error, response }`; `{ pending: true }`.
pub fn checked_outcome(r: Poll<Result<Accepted, Refused>>) -> Outcome {
    match r {
        Poll::Pending => Either::B(json!({ "pending": true })),
        Poll::Ready(Ok(a)) => match accepted_text(&a) {
            Some(text) => Either::A(text),
            None => Either::B(json!({
                "ok": true,
                "authInfo": auth_info_js(&a.info),
                "operations": a.operations,
                "headers": a.headers,
            })),
        },
        Poll::Ready(Err(f)) => Either::B(failure(&f.error, Some(f.response))),
    }
}

fn accepted_text(a: &Accepted) -> Option<String> {
    let info = &a.info;
    if !fits_text(info) {
        return None;
    }
    let client_id = info.client_id.as_deref().unwrap_or_default();
    let mut text = Vec::with_capacity(512 + info.token.len());
    serde_json::to_writer(
        &mut text,
        &(
            &info.token,
            &info.issuer,
            client_id,
            &info.scopes,
            &info.subject,
            &info.audience,
            info.expires_at,
            &info.claims,
            &a.operations,
            &a.headers,
            info.jkt(),
        ),
    )
    .ok()?;
    String::from_utf8(text).ok()
}
