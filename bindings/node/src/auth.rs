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
        let source = KeySource::Remote {
            uri,
            options: jwks_options(jwks.as_ref().unwrap_or(&Value::Null)),
        };
        Self::build(source, jwt)
    }

    /// Keys from a JWK Set or a single JWK.
    #[napi(factory)]
    pub fn from_jwks(keys: Value, jwt: Option<Value>) -> napi::Result<Self> {
        let set = KeySet::from_json(&keys).map_err(to_napi)?;
        Self::build(KeySource::Static(Arc::new(set)), jwt)
    }

    /// An HMAC shared secret.
    #[napi(factory)]
    pub fn from_secret(secret: Uint8Array, jwt: Option<Value>) -> napi::Result<Self> {
        Self::build(KeySource::static_key(Key::from_secret(&secret)), jwt)
    }

    fn build(source: KeySource, jwt: Option<Value>) -> napi::Result<Self> {
        let options = jwt_options(jwt.as_ref().unwrap_or(&Value::Null))?;
        Ok(NativeJwtVerifier {
            inner: Arc::new(JwtVerifier { source, options }),
        })
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

/// How many times a JWKS URI was fetched in this process (diagnostics and tests).
#[napi]
pub fn jwks_fetch_count(uri: String) -> u32 {
    mcp_auth_core::runtime::globals().jwks.fetch_count(&uri) as u32
}
