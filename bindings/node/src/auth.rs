//! The verification classes: the whole `'jwt'` mode (`NativeAuthenticator`), the policy alone
//! for custom verifiers (`NativePolicy`), and `createVerifyJwt` (`NativeJwtVerifier`).
//!
//! Each has a synchronous `...Now` call that answers without I/O when keys and metadata are
//! cached (the per-request hot path) or says `pending`, and an async call that fetches.

use std::sync::Arc;
use std::task::Poll;

use mcp_auth_core::{
    parse_authorization, Authenticator, IntrospectionVerifier, JwtVerifier, Key, KeySet, KeySource,
    Policy, TokenVerifier,
};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::convert::{
    auth_info_from_js, auth_servers, introspection_options, jwks_options, jwt_options, outcome,
    policy, response_js, verifier_options,
};
use crate::errors::{error_json, from_json, to_napi};
use crate::on_core_runtime;

/// `bearerAuth('jwt' | 'introspection', ...)`: header, token, verification and policy in one call.
#[napi]
pub struct NativeAuthenticator {
    inner: Arc<Authenticator>,
}

#[napi]
impl NativeAuthenticator {
    /// `{ servers, options, policy }` for the JWT mode; `{ mode: 'introspection', servers,
    /// introspection, policy }` for RFC 7662 (see convert.rs for the shapes).
    #[napi(constructor)]
    pub fn new(config: Value) -> napi::Result<Self> {
        let servers = auth_servers(config.get("servers"))?;
        let mut options = verifier_options(config.get("options").unwrap_or(&Value::Null))?;
        let policy = policy(config.get("policy").unwrap_or(&Value::Null));
        if config.get("mode").and_then(Value::as_str) == Some("introspection") {
            let (introspection, leeway) = introspection_options(config.get("introspection"))?;
            options.jwt.leeway = leeway;
            let verifier = Arc::new(
                IntrospectionVerifier::new(servers, introspection, options).map_err(to_napi)?,
            );
            return Ok(NativeAuthenticator {
                inner: Arc::new(Authenticator::with_introspection(verifier, policy)),
            });
        }
        let verifier = Arc::new(TokenVerifier::new(servers, options));
        Ok(NativeAuthenticator {
            inner: Arc::new(Authenticator::new(verifier, policy)),
        })
    }

    #[napi]
    pub fn authenticate_now(&self, header: Option<String>) -> Value {
        let a = &self.inner;
        outcome(a.authenticate_now(header.as_deref()), |e| {
            Some(a.respond(e))
        })
    }

    /// The answer to a failure given as `{ kind, code, message, details }` under this route's
    /// policy (for checks made on the host side after core accepted the token).
    #[napi]
    pub fn respond(&self, error: Value) -> Value {
        response_js(&self.inner.respond(&from_json(&error)))
    }

    #[napi]
    pub async fn authenticate(&self, header: Option<String>) -> napi::Result<Value> {
        let a = self.inner.clone();
        on_core_runtime(async move {
            let r = a.authenticate(header.as_deref()).await;
            outcome(Poll::Ready(r), |e| Some(a.respond(e)))
        })
        .await
    }
}

/// The issuer/audience/scope policy and the answers, for user-supplied verifiers.
#[napi]
pub struct NativePolicy {
    inner: Policy,
}

#[napi]
impl NativePolicy {
    #[napi(constructor)]
    pub fn new(config: Value) -> Self {
        NativePolicy {
            inner: policy(&config),
        }
    }

    /// `{ ok: true, token }` or `{ ok: false, error, response }`.
    #[napi]
    pub fn parse_header(&self, header: Option<String>) -> Value {
        match parse_authorization(header.as_deref()) {
            Ok(t) => json!({ "ok": true, "token": t }),
            Err(e) => json!({
                "ok": false,
                "error": error_json(&e),
                "response": response_js(&self.inner.respond(&e)),
            }),
        }
    }

    /// Checks a verifier's `AuthInfo`: `null` when it passes, else `{ ok: false, error, response }`.
    #[napi]
    pub fn check(&self, auth_info: Value) -> Option<Value> {
        let info = auth_info_from_js(&auth_info);
        self.inner.check(&info).err().map(|e| {
            json!({
                "ok": false,
                "error": error_json(&e),
                "response": response_js(&self.inner.respond(&e)),
            })
        })
    }

    /// The answer to a failure given as `{ kind, code, message, details }`.
    #[napi]
    pub fn respond(&self, error: Value) -> Value {
        response_js(&self.inner.respond(&from_json(&error)))
    }
}

/// `createVerifyJwt`: one key source, no issuer policy.
#[napi]
pub struct NativeJwtVerifier {
    inner: Arc<JwtVerifier>,
}

#[napi]
impl NativeJwtVerifier {
    /// Keys from a JWKS URI, fetched and cached process-wide.
    #[napi(factory)]
    pub fn remote(uri: String, jwks: Option<Value>, jwt: Option<Value>) -> napi::Result<Self> {
        let options = jwt_options(jwt.as_ref().unwrap_or(&Value::Null))?;
        let source = KeySource::Remote {
            uri,
            options: jwks_options(jwks.as_ref().unwrap_or(&Value::Null))?,
        };
        Ok(Self::build(source, options))
    }

    /// Keys from a JWK Set or a single JWK (an `oct` one is an HMAC secret).
    #[napi(factory)]
    pub fn from_jwks(keys: Value, jwt: Option<Value>) -> napi::Result<Self> {
        let options = jwt_options(jwt.as_ref().unwrap_or(&Value::Null))?;
        let set = KeySet::configured(&keys, options.algorithms.as_deref()).map_err(to_napi)?;
        Ok(Self::build(KeySource::Static(Arc::new(set)), options))
    }

    /// An HMAC shared secret.
    #[napi(factory)]
    pub fn from_secret(secret: Uint8Array, jwt: Option<Value>) -> napi::Result<Self> {
        let options = jwt_options(jwt.as_ref().unwrap_or(&Value::Null))?;
        let key = Key::from_secret(&secret, options.algorithms.as_deref()).map_err(to_napi)?;
        Ok(Self::build(KeySource::static_key(key), options))
    }

    fn build(source: KeySource, options: mcp_auth_core::JwtOptions) -> Self {
        NativeJwtVerifier {
            inner: Arc::new(JwtVerifier { source, options }),
        }
    }

    #[napi]
    pub fn verify_now(&self, token: String) -> Value {
        outcome(self.inner.verify_now(&token), |_| None)
    }

    #[napi]
    pub async fn verify(&self, token: String) -> napi::Result<Value> {
        let v = self.inner.clone();
        on_core_runtime(async move { outcome(Poll::Ready(v.verify(&token).await), |_| None) }).await
    }
}

/// The audience of a route: `{ resourceMode, resource?, audience?, acceptAnyAudience? }` ->
/// `{ expected?, fromResource, warning? }`.
#[napi]
pub fn route_audience(config: Value) -> napi::Result<Value> {
    let mode = if config.get("resourceMode").and_then(Value::as_bool) == Some(true) {
        mcp_auth_core::RouteMode::Resource
    } else {
        mcp_auth_core::RouteMode::Legacy
    };
    let s = |k: &str| config.get(k).and_then(Value::as_str);
    let a = mcp_auth_core::route_audience(
        mode,
        s("resource"),
        s("audience"),
        config.get("acceptAnyAudience").and_then(Value::as_bool) == Some(true),
    )
    .map_err(to_napi)?;
    Ok(json!({
        "expected": a.expected,
        "fromResource": a.from_resource,
        "warning": a.warning,
    }))
}

/// What the core asked to be logged once (warning level) since the last call.
#[napi]
pub fn take_notices() -> Vec<String> {
    mcp_auth_core::notice::take()
}

/// Forgets the process's cached key sets and discovered metadata.
#[napi]
pub fn clear_caches() {
    mcp_auth_core::runtime::clear_caches()
}

/// How many times a JWKS URI was fetched in this process (diagnostics and tests).
#[napi]
pub fn jwks_fetch_count(uri: String) -> u32 {
    mcp_auth_core::runtime::globals().jwks.fetch_count(&uri) as u32
}
