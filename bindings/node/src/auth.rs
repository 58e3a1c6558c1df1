//! The verification classes: the whole `'jwt'` mode (`NativeAuthenticator`), the policy alone
//! for custom verifiers (`NativePolicy`), and `createVerifyJwt` (`NativeJwtVerifier`).
//!
//! Each has a synchronous `...Now` call that answers without I/O when keys and metadata are
//! cached (the per-request hot path) or says `pending`, and an async call that fetches.
//!
//! Per-operation rules arrive as core's one snake_case shape (`OperationConfig::from_json`);
//! the request a decision needs crosses as [`McpRequestInput`].

use std::sync::Arc;
use std::task::Poll;

use mcp_auth_core::operations::decide;
use mcp_auth_core::{
    parse_authorization, resource, Authenticator, DpopOptions, IntrospectionVerifier, JwtVerifier,
    Key, KeySet, KeySource, McpRequest, OperationConfig, OperationRules, Policy, RequestAuth,
    TokenVerifier,
};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::convert::{
    auth_info_from_js, auth_servers, checked_outcome, introspection_options, jwks_options,
    jwt_options, outcome, policy, request_outcome, response_js, verifier_options, Outcome,
};
use crate::errors::{error_json, from_json, to_napi};
use crate::on_core_runtime;

/// One HTTP request to an MCP endpoint as per-operation rules read it: header values as sent
/// (several fields of one header joined with `", "`), and the body bytes when `bodyLimit` asked
/// for them.
#[napi(object, object_to_js = false)]
pub struct McpRequestInput {
    pub method: String,
    pub content_type: Option<String>,
    pub content_length: Option<String>,
    pub protocol_version: Option<String>,
    pub mcp_method: Option<String>,
    pub mcp_name: Option<String>,
    pub body: Option<Uint8Array>,
}

/// The credentials of one request for a DPoP route (`RequestAuth`): `Authorization` as sent,
/// every `DPoP` field line on its own, the raw request path, and (tests only) "now" in seconds.
#[napi(object, object_to_js = false)]
pub struct RequestAuthInput {
    pub authorization: Option<String>,
    pub dpop: Vec<String>,
    pub path: String,
    pub now: Option<f64>,
}

/// [`RequestAuthInput`] owned, for checks made on the core runtime.
struct OwnedAuth {
    authorization: Option<String>,
    dpop: Vec<String>,
    path: String,
    now: Option<f64>,
}

impl From<RequestAuthInput> for OwnedAuth {
    fn from(a: RequestAuthInput) -> Self {
        OwnedAuth {
            authorization: a.authorization,
            dpop: a.dpop,
            path: a.path,
            now: a.now,
        }
    }
}

/// [`McpRequestInput`] with its body copied, for decisions made on the core runtime.
struct OwnedRequest {
    method: String,
    content_type: Option<String>,
    content_length: Option<String>,
    protocol_version: Option<String>,
    mcp_method: Option<String>,
    mcp_name: Option<String>,
    body: Option<Vec<u8>>,
}

impl OwnedRequest {
    fn from_input(r: McpRequestInput) -> Self {
        OwnedRequest {
            body: r.body.as_ref().map(|b| b.to_vec()),
            method: r.method,
            content_type: r.content_type,
            content_length: r.content_length,
            protocol_version: r.protocol_version,
            mcp_method: r.mcp_method,
            mcp_name: r.mcp_name,
        }
    }

    fn as_core(&self) -> McpRequest<'_> {
        McpRequest {
            method: &self.method,
            content_type: self.content_type.as_deref(),
            content_length: self.content_length.as_deref(),
            protocol_version: self.protocol_version.as_deref(),
            mcp_method: self.mcp_method.as_deref(),
            mcp_name: self.mcp_name.as_deref(),
            body: self.body.as_deref(),
        }
    }
}

impl McpRequestInput {
    fn as_core(&self) -> McpRequest<'_> {
        McpRequest {
            method: &self.method,
            content_type: self.content_type.as_deref(),
            content_length: self.content_length.as_deref(),
            protocol_version: self.protocol_version.as_deref(),
            mcp_method: self.mcp_method.as_deref(),
            mcp_name: self.mcp_name.as_deref(),
            body: self.body.as_deref(),
        }
    }
}

/// `None` = the request is decided without its body; else how many bytes to read at most.
fn limit_js(limit: Option<usize>) -> Option<u32> {
    limit.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The per-operation configuration (`OperationConfig::from_json`'s shape), `null` for none.
fn operation_config(v: Option<&Value>) -> napi::Result<OperationConfig> {
    OperationConfig::from_json(v.unwrap_or(&Value::Null)).map_err(to_napi)
}

/// `bearerAuth('jwt' | 'introspection', ...)`: header, token, verification and policy in one call.
#[napi]
pub struct NativeAuthenticator {
    inner: Arc<Authenticator>,
}

#[napi]
impl NativeAuthenticator {
    /// `{ servers, options, policy, operations? }` for the JWT mode; `{ mode: 'introspection',
    /// servers, introspection, policy, operations? }` for RFC 7662 (see convert.rs for the
    /// shapes; `operations` is core's snake_case per-operation configuration).
    /// `dpop`, when present, is core's snake_case DPoP shape (`DpopOptions::from_json`).
    #[napi(constructor)]
    pub fn new(config: Value) -> napi::Result<Self> {
        let dpop = match config.get("dpop").filter(|d| !d.is_null()) {
            Some(d) => Some(DpopOptions::from_json(d).map_err(to_napi)?),
            None => None,
        };
        let operations = operation_config(config.get("operations"))?;
        let servers = auth_servers(config.get("servers"))?;
        let mut options = verifier_options(config.get("options").unwrap_or(&Value::Null))?;
        let policy = policy(config.get("policy").unwrap_or(&Value::Null));
        if config.get("mode").and_then(Value::as_str) == Some("introspection") {
            let (introspection, leeway) = introspection_options(config.get("introspection"))?;
            options.jwt.leeway = leeway;
            let verifier = Arc::new(
                IntrospectionVerifier::new(servers, introspection, options).map_err(to_napi)?,
            );
            let a = Authenticator::with_introspection(verifier, policy)
                .with_operation_config(operations);
            return Self::finish(a, dpop);
        }
        let verifier = Arc::new(TokenVerifier::new(servers, options));
        Self::finish(
            Authenticator::new(verifier, policy).with_operation_config(operations),
            dpop,
        )
    }

    fn finish(a: Authenticator, dpop: Option<DpopOptions>) -> napi::Result<Self> {
        let a = match dpop {
            Some(d) => a.with_dpop(d).map_err(to_napi)?,
            None => a,
        };
        Ok(NativeAuthenticator { inner: Arc::new(a) })
    }

    /// The whole check of a request on a DPoP route without I/O (`check_request_now`): see
    /// `convert::checked_outcome` for the answer.
    #[napi(ts_return_type = "string | object")]
    pub fn check_request_now(&self, auth: RequestAuthInput, request: McpRequestInput) -> Outcome {
        let dpop: Vec<&str> = auth.dpop.iter().map(String::as_str).collect();
        let core = RequestAuth {
            authorization: auth.authorization.as_deref(),
            dpop: &dpop,
            path: &auth.path,
            now: auth.now,
        };
        checked_outcome(self.inner.check_request_now(&core, &request.as_core()))
    }

    /// [`Self::check_request_now`], fetching keys and asking the replay store as needed.
    #[napi(ts_return_type = "Promise<string | object>")]
    pub async fn check_request(
        &self,
        auth: RequestAuthInput,
        request: McpRequestInput,
    ) -> napi::Result<Outcome> {
        let a = self.inner.clone();
        let auth = OwnedAuth::from(auth);
        let request = OwnedRequest::from_input(request);
        on_core_runtime(async move {
            let dpop: Vec<&str> = auth.dpop.iter().map(String::as_str).collect();
            let core = RequestAuth {
                authorization: auth.authorization.as_deref(),
                dpop: &dpop,
                path: &auth.path,
                now: auth.now,
            };
            let r = a.check_request(&core, &request.as_core()).await;
            checked_outcome(Poll::Ready(r))
        })
        .await
    }

    /// Whether this route has DPoP settings (then requests go through `checkRequest`).
    #[napi(getter)]
    pub fn has_dpop(&self) -> bool {
        self.inner.dpop().is_some()
    }

    /// When a `DPoP-Nonce` of this route was issued (seconds since the epoch); `null` when it
    /// is not one (diagnostics and tests).
    #[napi]
    pub fn dpop_nonce_issued_at(&self, nonce: String) -> Option<f64> {
        self.inner
            .dpop()
            .and_then(|d| d.nonce_issued_at(&nonce))
            .map(|t| t as f64)
    }

    /// Snake_case protected-resource metadata fields with this route's DPoP members
    /// (`resource::with_dpop_fields`); unchanged without DPoP settings.
    #[napi]
    pub fn with_dpop_fields(&self, fields: Value) -> napi::Result<Value> {
        let Value::Object(m) = fields else {
            return Err(crate::errors::invalid_arg(
                "The resource metadata must be an object.",
            ));
        };
        Ok(Value::Object(match self.inner.dpop() {
            Some(d) => resource::with_dpop_fields(&m, d),
            None => m,
        }))
    }

    /// `null` when the request is decided without its body, else the most bytes to read.
    #[napi]
    pub fn body_limit(&self, method: String, content_length: Option<String>) -> Option<u32> {
        limit_js(self.inner.body_limit(&method, content_length.as_deref()))
    }

    /// Token, policy and per-operation rules for one request, without I/O: on success the JSON
    /// text of the AuthInfo and the operations (`convert::auth_info_text`, or
    /// `{ ok: true, authInfo, operations }`), else `{ ok: false, error, response }` or
    /// `{ pending: true }`.
    #[napi(ts_return_type = "string | object")]
    pub fn authenticate_request_now(
        &self,
        header: Option<String>,
        request: McpRequestInput,
    ) -> Outcome {
        let a = &self.inner;
        request_outcome(
            a.authenticate_request_now(header.as_deref(), &request.as_core()),
            |e| a.respond(e),
        )
    }

    /// [`Self::authenticate_request_now`], fetching what is missing.
    #[napi(ts_return_type = "Promise<string | object>")]
    pub async fn authenticate_request(
        &self,
        header: Option<String>,
        request: McpRequestInput,
    ) -> napi::Result<Outcome> {
        let a = self.inner.clone();
        let request = OwnedRequest::from_input(request);
        on_core_runtime(async move {
            let r = a
                .authenticate_request(header.as_deref(), &request.as_core())
                .await;
            request_outcome(Poll::Ready(r), |e| a.respond(e))
        })
        .await
    }

    /// Token and policy without I/O: on success the JSON text of the AuthInfo
    /// (`convert::auth_info_text`, or `{ ok: true, authInfo }`), else `{ ok: false, error,
    /// response }` or `{ pending: true }`.
    #[napi(ts_return_type = "string | object")]
    pub fn authenticate_now(&self, header: Option<String>) -> Outcome {
        let a = &self.inner;
        outcome(a.authenticate_now(header.as_deref()), true, |e| {
            Some(a.respond(e))
        })
    }

    /// The answer to a failure given as `{ kind, code, message, details }` under this route's
    /// policy (for checks made on the host side after core accepted the token).
    #[napi]
    pub fn respond(&self, error: Value) -> Value {
        response_js(&self.inner.respond(&from_json(&error)))
    }

    #[napi(ts_return_type = "Promise<string | object>")]
    pub async fn authenticate(&self, header: Option<String>) -> napi::Result<Outcome> {
        let a = self.inner.clone();
        on_core_runtime(async move {
            let r = a.authenticate(header.as_deref()).await;
            outcome(Poll::Ready(r), true, |e| Some(a.respond(e)))
        })
        .await
    }
}

/// The issuer/audience/scope policy, the per-operation rules and the answers, for
/// user-supplied verifiers.
#[napi]
pub struct NativePolicy {
    inner: Policy,
    rules: Option<OperationRules>,
}

#[napi]
impl NativePolicy {
    /// The policy (see convert.rs) and, optionally, core's snake_case per-operation
    /// configuration; its scope hierarchy applies to every scope check of this policy.
    #[napi(constructor)]
    pub fn new(config: Value, operations: Option<Value>) -> napi::Result<Self> {
        let operations = operation_config(operations.as_ref())?;
        let mut inner = policy(&config);
        inner.scope_hierarchy = operations.hierarchy.map(Arc::new);
        Ok(NativePolicy {
            inner,
            rules: operations.rules,
        })
    }

    /// `null` when the request is decided without its body, else the most bytes to read.
    #[napi]
    pub fn body_limit(&self, method: String, content_length: Option<String>) -> Option<u32> {
        limit_js(
            self.rules
                .as_ref()
                .and_then(|r| r.body_limit(&method, content_length.as_deref())),
        )
    }

    /// The decision after a verifier accepted the token (`operations::decide`: issuer and
    /// audience, then the endpoint's and the operations' scopes): `null` when the request may
    /// pass (the caller keeps the AuthInfo it has), else `{ ok: false, error, response }`.
    #[napi(catch_unwind)]
    pub fn decide(&self, auth_info: Value, request: McpRequestInput) -> Option<Value> {
        let info = auth_info_from_js(&auth_info);
        decide(&self.inner, self.rules.as_ref(), &info, &request.as_core())
            .err()
            .map(|e| {
                json!({
                    "ok": false,
                    "error": error_json(&e),
                    "response": response_js(&self.inner.respond(&e)),
                })
            })
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
            inner: Arc::new(JwtVerifier::new(source, options)),
        }
    }

    /// On success the JSON text of the AuthInfo without its token, which the caller holds
    /// (`convert::auth_info_text`, or `{ ok: true, authInfo }`); else `{ ok: false, error }` or
    /// `{ pending: true }`.
    #[napi(ts_return_type = "string | object")]
    pub fn verify_now(&self, token: String) -> Outcome {
        outcome(self.inner.verify_now(&token), false, |_| None)
    }

    #[napi(ts_return_type = "Promise<string | object>")]
    pub async fn verify(&self, token: String) -> napi::Result<Outcome> {
        let v = self.inner.clone();
        on_core_runtime(
            async move { outcome(Poll::Ready(v.verify(&token).await), false, |_| None) },
        )
        .await
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
