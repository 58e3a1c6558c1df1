//! Token verification and the per-route policy as Python classes.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::Poll;

use mcp_auth_core::{
    Accepted, Alg, Audience, AuthInfo, AuthResponse, AuthServer,
    Authenticator as CoreAuthenticator, AuthorizationServerMetadata, DpopOptions, Error,
    JwksOptions, JwtOptions, JwtVerifier as CoreJwtVerifier, Key, KeySet, KeySource,
    OperationRules, Policy as CorePolicy, Refused, RequestAuth, ServerConfig,
    TokenVerifier as CoreTokenVerifier, VerifierOptions, Verify, INTERNAL_ERROR,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::auth_info::{auth_info_to_py, auth_info_to_py_owned};
use crate::bridge::{block_on, spawn_py};
use crate::convert::{from_py, map_to_py, object_from_py};
use crate::errors::{from_parts, IntoPyResult, FLAVOR};
use crate::introspection::IntrospectionVerifier;
use crate::metadata::parse_type;
use crate::operations::{operation_config, RequestParts};

fn algorithms(list: Option<Vec<String>>) -> PyResult<Option<Vec<Alg>>> {
    list.map(|l| {
        l.iter()
            .map(|a| {
                Alg::parse(a)
                    .ok_or_else(|| PyValueError::new_err(format!("unsupported algorithm `{a}`")))
            })
            .collect()
    })
    .transpose()
}

fn jwt_options(
    leeway: f64,
    algs: Option<Vec<String>>,
    require_at_jwt: bool,
) -> PyResult<JwtOptions> {
    Ok(JwtOptions {
        algorithms: algorithms(algs)?,
        leeway,
        require_at_jwt,
        ..JwtOptions::default()
    })
}

/// An AuthInfo handed back by a custom verifier (as a dict), for the policy check.
fn info_from_py(obj: &Bound<'_, PyAny>) -> PyResult<AuthInfo> {
    let m = object_from_py(obj)?;
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let audience = match m.get("audience") {
        Some(Value::String(a)) => Some(Audience::One(a.clone())),
        Some(Value::Array(a)) => Some(Audience::Many(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
        )),
        _ => None,
    };
    Ok(AuthInfo {
        token: s("token").unwrap_or_default(),
        issuer: s("issuer").unwrap_or_default(),
        client_id: s("client_id"),
        scopes: m
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        subject: s("subject"),
        audience,
        expires_at: m.get("expires_at").and_then(Value::as_i64),
        claims: match m.get("claims") {
            Some(Value::Object(c)) => c.clone(),
            _ => Default::default(),
        },
    })
}

/// The header as text, borrowed from the Python object whenever it can be (no copy per request).
fn header_str<'a>(header: Option<&'a Bound<'_, PyAny>>) -> PyResult<Option<Cow<'a, str>>> {
    field_str(header, "the Authorization header")
}

/// A request field (header value, path) as text; `what` names it in the type error.
fn field_str<'a>(
    header: Option<&'a Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<Cow<'a, str>>> {
    let Some(h) = header else { return Ok(None) };
    if h.is_none() {
        return Ok(None);
    }
    if let Ok(b) = h.cast::<PyBytes>() {
        // Header bytes are latin-1 on the wire; a non-ASCII byte can never be in a token68,
        // so a lossy decode only ever turns a bad header into another bad header.
        // `from_utf8` first: its ASCII fast path is many times quicker than the lossy scan.
        let b = b.as_bytes();
        return Ok(Some(match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        }));
    }
    if let Ok(s) = h.cast::<PyString>() {
        return Ok(Some(Cow::Borrowed(s.to_str()?)));
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be bytes, str or None"
    )))
}

/// Every `DPoP` field line as text, in order.
fn dpop_lines<'a>(lines: &'a [Bound<'_, PyAny>]) -> PyResult<Vec<Cow<'a, str>>> {
    lines
        .iter()
        .map(|l| Ok(field_str(Some(l), "a DPoP header")?.unwrap_or_default()))
        .collect()
}

/// The AuthInfo model, or `None` when metadata or keys must be fetched first (GIL released).
/// The token is read in place and, in the AuthInfo, is the very string passed in.
pub fn verify_now<V: Verify>(
    py: Python<'_>,
    v: &V,
    token: &Bound<'_, PyString>,
) -> PyResult<Option<Py<PyAny>>> {
    let text = token.to_str()?;
    match py.detach(|| v.verify_now(text)) {
        Poll::Ready(r) => auth_info_to_py(py, r.py()?, Some(token)).map(Some),
        Poll::Pending => Ok(None),
    }
}

pub fn verify_blocking<V: Verify>(
    py: Python<'_>,
    v: &Arc<V>,
    token: String,
) -> PyResult<Py<PyAny>> {
    let v = v.clone();
    let info = block_on(py, async move { v.verify(&token).await })?;
    auth_info_to_py(py, info, None)
}

pub fn verify_spawn<V: Verify>(v: &Arc<V>, token: String, done: Py<PyAny>) {
    let v = v.clone();
    spawn_py(
        async move { v.verify(&token).await },
        done,
        auth_info_to_py_owned,
    );
}

/// The answer to a request that failed authentication: status, JSON body, challenge.
#[pyclass(frozen, get_all, module = "mcpauth._core")]
pub struct Failure {
    pub status: u16,
    pub body: Py<PyBytes>,
    pub www_authenticate: Option<String>,
    /// Each challenge on its own, one `WWW-Authenticate` line each.
    pub challenges: Vec<String>,
    /// Further response headers (`DPoP-Nonce`), names as core spells them.
    pub headers: Vec<(String, String)>,
    pub kind: String,
    pub code: String,
    /// Why, for logs: code, message and cause; never the token.
    pub reason: String,
}

impl Failure {
    fn new(py: Python<'_>, r: AuthResponse, e: &Error) -> Self {
        Failure {
            status: r.status,
            body: PyBytes::new(py, r.body_string().as_bytes()).unbind(),
            www_authenticate: r.www_authenticate,
            challenges: r.challenges,
            headers: r.headers,
            kind: e.kind().as_str().to_string(),
            code: e.code().to_string(),
            reason: e.reason(),
        }
    }
}

#[pymethods]
impl Failure {
    fn __repr__(&self) -> String {
        format!("Failure({}, {})", self.status, self.reason)
    }
}

/// `servers`: a list of `(issuer, metadata dict | None, type | None)`; metadata `None` is a
/// lazily discovered server.
#[pyclass(frozen, module = "mcpauth._core")]
pub struct TokenVerifier {
    inner: Arc<CoreTokenVerifier>,
}

pub type ServerSpec = (String, Option<Py<PyAny>>, Option<String>);

/// The trusted servers of a resource from `(issuer, metadata dict | None, type | None)`.
pub fn auth_servers(py: Python<'_>, servers: Vec<ServerSpec>) -> PyResult<Vec<AuthServer>> {
    let mut list = vec![];
    for (issuer, metadata, ty) in servers {
        let ty = parse_type(ty.as_deref())?;
        list.push(match metadata {
            Some(m) => {
                let metadata = AuthorizationServerMetadata::from_json(from_py(m.bind(py))?).py()?;
                AuthServer::Resolved(Arc::new(ServerConfig {
                    metadata,
                    server_type: ty.unwrap_or(mcp_auth_core::AuthServerType::Oidc),
                }))
            }
            None => AuthServer::Discovery {
                issuer,
                server_type: ty,
            },
        });
    }
    Ok(list)
}

#[pymethods]
impl TokenVerifier {
    #[new]
    #[pyo3(signature = (servers, leeway=60.0, algorithms=None, check_issuer=true, require_at_jwt=false))]
    fn new(
        py: Python<'_>,
        servers: Vec<ServerSpec>,
        leeway: f64,
        algorithms: Option<Vec<String>>,
        check_issuer: bool,
        require_at_jwt: bool,
    ) -> PyResult<Self> {
        let list = auth_servers(py, servers)?;
        let mut opts = VerifierOptions {
            jwt: jwt_options(leeway, algorithms, require_at_jwt)?,
            flavor: FLAVOR,
            ..VerifierOptions::default()
        };
        opts.fetch.check_issuer = check_issuer;
        Ok(TokenVerifier {
            inner: Arc::new(CoreTokenVerifier::new(list, opts)),
        })
    }

    fn issuers(&self) -> Vec<String> {
        self.inner
            .issuers()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    fn check_issuer(&self, issuer: &str) -> PyResult<()> {
        self.inner.check_issuer(issuer).py()
    }

    /// The AuthInfo model, or `None` when metadata or keys must be fetched first.
    fn verify_now(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyString>,
    ) -> PyResult<Option<Py<PyAny>>> {
        verify_now(py, &*self.inner, token)
    }

    fn verify_blocking(&self, py: Python<'_>, token: String) -> PyResult<Py<PyAny>> {
        verify_blocking(py, &self.inner, token)
    }

    fn verify_spawn(&self, token: String, done: Py<PyAny>) {
        verify_spawn(&self.inner, token, done)
    }
}

/// `create_verify_jwt`: one key source, no issuer policy.
#[pyclass(frozen, module = "mcpauth._core")]
pub struct JwtVerifier {
    inner: Arc<CoreJwtVerifier>,
}

#[pymethods]
impl JwtVerifier {
    /// `source`: a JWKS URI (str), a JWK or JWK Set (dict), or an HMAC secret (bytes).
    #[new]
    #[pyo3(signature = (source, leeway=60.0, algorithms=None, headers=None, require_at_jwt=false))]
    fn new(
        source: &Bound<'_, PyAny>,
        leeway: f64,
        algorithms: Option<Vec<String>>,
        headers: Option<Vec<(String, String)>>,
        require_at_jwt: bool,
    ) -> PyResult<Self> {
        let options = jwt_options(leeway, algorithms, require_at_jwt)?;
        let algs = options.algorithms.as_deref();
        let source = if let Ok(s) = source.cast::<PyString>() {
            KeySource::Remote {
                uri: s.to_str()?.to_string(),
                options: JwksOptions {
                    headers: headers.unwrap_or_default(),
                    ..JwksOptions::default()
                },
            }
        } else if let Ok(b) = source.cast::<PyBytes>() {
            KeySource::static_key(Key::from_secret(b.as_bytes(), algs).py()?)
        } else {
            KeySource::Static(Arc::new(KeySet::configured(&from_py(source)?, algs).py()?))
        };
        Ok(JwtVerifier {
            inner: Arc::new(CoreJwtVerifier::new(source, options)),
        })
    }

    fn verify_now(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyString>,
    ) -> PyResult<Option<Py<PyAny>>> {
        verify_now(py, &*self.inner, token)
    }

    fn verify_blocking(&self, py: Python<'_>, token: String) -> PyResult<Py<PyAny>> {
        verify_blocking(py, &self.inner, token)
    }

    fn verify_spawn(&self, token: String, done: Py<PyAny>) {
        verify_spawn(&self.inner, token, done)
    }
}

/// What a protected route demands and how failures are answered; with `operations` (see
/// `operations::operation_config`), also what each MCP operation demands.
#[pyclass(frozen, module = "mcpauth._core")]
pub struct Policy {
    inner: CorePolicy,
    rules: Option<Arc<OperationRules>>,
}

#[pymethods]
impl Policy {
    /// `audience_from_resource`: `audience` is the resource identifier because none was
    /// configured (see `route_audience`).
    #[new]
    #[pyo3(signature = (issuers=None, audience=None, required_scopes=None, resource_metadata=None, show_error_details=false, operations=None, audience_from_resource=false))]
    fn new(
        issuers: Option<Vec<String>>,
        audience: Option<String>,
        required_scopes: Option<Vec<String>>,
        resource_metadata: Option<String>,
        show_error_details: bool,
        operations: Option<&Bound<'_, PyAny>>,
        audience_from_resource: bool,
    ) -> PyResult<Self> {
        let ops = operation_config(operations)?;
        Ok(Policy {
            inner: CorePolicy {
                issuers,
                audience,
                audience_from_resource,
                required_scopes: required_scopes.unwrap_or_default(),
                resource_metadata,
                show_error_details,
                flavor: FLAVOR,
                scope_hierarchy: ops.hierarchy.map(Arc::new),
            },
            rules: ops.rules.map(Arc::new),
        })
    }

    /// Issuer, audience and scopes of an AuthInfo dict; raises `CoreError` on a mismatch.
    fn check(&self, info: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.check(&info_from_py(info)?).py()
    }

    /// True when per-operation rules are configured (requests are then decided by `decide`).
    fn has_rules(&self) -> bool {
        self.rules.is_some()
    }

    /// How many body bytes to read before `decide`; `None`: decide without the body.
    #[pyo3(signature = (method, content_length=None))]
    fn body_limit(&self, method: &str, content_length: Option<&str>) -> Option<usize> {
        self.rules
            .as_ref()
            .and_then(|r| r.body_limit(method, content_length))
    }

    /// The decision for an AuthInfo dict a custom verifier returned: `None` to let the request
    /// through, or the `Failure` to answer with. Runs with the GIL released.
    #[pyo3(signature = (info, request, body=None))]
    fn decide(
        &self,
        py: Python<'_>,
        info: &Bound<'_, PyAny>,
        request: RequestParts,
        body: Option<&Bound<'_, PyBytes>>,
    ) -> PyResult<Option<Failure>> {
        let info = info_from_py(info)?;
        let body = body.map(|b| b.as_bytes());
        let (policy, rules) = (&self.inner, self.rules.as_deref());
        let outcome = py.detach(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                mcp_auth_core::operations::decide(policy, rules, &info, &request.request(body))
            }))
            .unwrap_or_else(|_| {
                Err(Error::config(
                    INTERNAL_ERROR,
                    "mcp-auth internal error: panic in the per-operation decision",
                ))
            })
        });
        Ok(match outcome {
            Ok(_) => None,
            Err(e) => Some(Failure::new(py, self.inner.respond(&e), &e)),
        })
    }

    /// The answer to an error given as its parts.
    #[pyo3(signature = (kind, code, message=None, details_json=None))]
    fn respond(
        &self,
        py: Python<'_>,
        kind: &str,
        code: &str,
        message: Option<String>,
        details_json: Option<&str>,
    ) -> PyResult<Failure> {
        let e = from_parts(kind, code, message, details_json)?;
        Ok(Failure::new(py, self.inner.respond(&e), &e))
    }
}

/// The whole `jwt` mode of one route: header -> token -> verification -> policy.
#[pyclass(frozen, module = "mcpauth._core")]
pub struct Authenticator {
    inner: Arc<CoreAuthenticator>,
}

enum Outcome {
    Info(AuthInfo),
    Failed(AuthResponse, Error),
}

fn outcome_to_py(py: Python<'_>, o: Outcome) -> PyResult<Py<PyAny>> {
    match o {
        Outcome::Info(i) => auth_info_to_py(py, i, None),
        Outcome::Failed(r, e) => Ok(Py::new(py, Failure::new(py, r, &e))?.into_any()),
    }
}

/// `(AuthInfo, headers)` for an accepted request (header names lowered, names and values as
/// bytes, ready for an ASGI response start), or the `Failure` to answer with.
fn checked_to_py(py: Python<'_>, r: Result<Accepted, Refused>) -> PyResult<Py<PyAny>> {
    match r {
        Ok(a) => {
            let headers = PyList::empty(py);
            for (k, v) in &a.headers {
                let pair = (
                    PyBytes::new(py, k.to_ascii_lowercase().as_bytes()),
                    PyBytes::new(py, v.as_bytes()),
                );
                headers.append(PyTuple::new(py, [pair.0, pair.1])?)?;
            }
            let info = auth_info_to_py(py, a.info, None)?;
            Ok(PyTuple::new(py, [info, headers.into_any().unbind()])?
                .into_any()
                .unbind())
        }
        Err(f) => Ok(Py::new(py, Failure::new(py, f.response, &f.error))?.into_any()),
    }
}

#[pymethods]
impl Authenticator {
    /// `verifier`: a `TokenVerifier` (the `jwt` mode) or an `IntrospectionVerifier`; the
    /// policy's per-operation rules and scope hierarchy come along. `dpop`: the route's DPoP
    /// settings in core's shape (`DpopOptions::from_json`), a dict or a JSON string.
    #[new]
    #[pyo3(signature = (verifier, policy, dpop=None))]
    fn new(
        verifier: &Bound<'_, PyAny>,
        policy: &Policy,
        dpop: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let rules = policy.rules.clone();
        let policy = policy.inner.clone();
        let mut inner = if let Ok(v) = verifier.cast::<TokenVerifier>() {
            CoreAuthenticator::new(v.get().inner.clone(), policy)
        } else if let Ok(v) = verifier.cast::<IntrospectionVerifier>() {
            CoreAuthenticator::with_introspection(v.get().inner.clone(), policy)
        } else {
            return Err(PyTypeError::new_err(
                "an Authenticator needs a TokenVerifier or an IntrospectionVerifier",
            ));
        };
        if let Some(r) = rules {
            inner = inner.with_operations(Arc::unwrap_or_clone(r));
        }
        if let Some(d) = dpop.filter(|d| !d.is_none()) {
            let value = match d.cast::<PyString>() {
                Ok(s) => serde_json::from_str(s.to_str()?).map_err(|e| {
                    crate::errors::to_pyerr(&Error::config(
                        mcp_auth_core::dpop::INVALID_DPOP_CONFIG,
                        format!("DPoP settings are not JSON: {e}"),
                    ))
                })?,
                Err(_) => from_py(d)?,
            };
            inner = inner.with_dpop(DpopOptions::from_json(&value).py()?).py()?;
        }
        Ok(Authenticator {
            inner: Arc::new(inner),
        })
    }

    /// True when the route has DPoP settings (use `check_request_now`).
    fn has_dpop(&self) -> bool {
        self.inner.dpop().is_some()
    }

    /// The PRM fields with this route's DPoP members (`None` without DPoP settings).
    fn dpop_metadata<'py>(
        &self,
        py: Python<'py>,
        fields: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(d) = self.inner.dpop() else {
            return Ok(None);
        };
        let fields = object_from_py(fields)?;
        map_to_py(py, &mcp_auth_core::resource::with_dpop_fields(&fields, d)).map(Some)
    }

    /// When a `DPoP-Nonce` this route sent was made (seconds since the epoch), `None` for a
    /// nonce it did not make.
    fn dpop_nonce_issued_at(&self, nonce: &str) -> Option<u64> {
        self.inner.dpop().and_then(|d| d.nonce_issued_at(nonce))
    }

    /// The whole check of one HTTP request, DPoP included: `(AuthInfo, headers)` when it
    /// passes (`headers`: `(name, value)` bytes for the application's answer), the `Failure`
    /// to answer with, or `None` when keys or metadata must be fetched or a Redis replay store
    /// asked (then call `check_request_spawn`). `dpop`: every `DPoP` field line; `path`: the
    /// raw request path; `now` pins the DPoP clock (tests). Runs with the GIL released.
    #[pyo3(signature = (header, dpop, path, request, body=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn check_request_now(
        &self,
        py: Python<'_>,
        header: Option<&Bound<'_, PyAny>>,
        dpop: Vec<Bound<'_, PyAny>>,
        path: &Bound<'_, PyAny>,
        request: RequestParts,
        body: Option<&Bound<'_, PyBytes>>,
        now: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let h = header_str(header)?;
        let lines = dpop_lines(&dpop)?;
        let proofs: Vec<&str> = lines.iter().map(|l| l.as_ref()).collect();
        let path = field_str(Some(path), "the request path")?.unwrap_or_default();
        let body = body.map(|b| b.as_bytes());
        let auth = RequestAuth {
            authorization: h.as_deref(),
            dpop: &proofs,
            path: &path,
            now,
        };
        let a = &self.inner;
        match py.detach(|| a.check_request_now(&auth, &request.request(body))) {
            std::task::Poll::Ready(r) => checked_to_py(py, r),
            std::task::Poll::Pending => Ok(py.None()),
        }
    }

    /// Like `check_request_now`, fetching and asking what is needed; reports to `done(ok, value)`.
    #[pyo3(signature = (header, dpop, path, request, body, now, done))]
    #[allow(clippy::too_many_arguments)]
    fn check_request_spawn(
        &self,
        header: Option<&Bound<'_, PyAny>>,
        dpop: Vec<Bound<'_, PyAny>>,
        path: &Bound<'_, PyAny>,
        request: RequestParts,
        body: Option<&Bound<'_, PyBytes>>,
        now: Option<f64>,
        done: Py<PyAny>,
    ) -> PyResult<()> {
        let h = header_str(header)?.map(Cow::into_owned);
        let lines: Vec<String> = dpop_lines(&dpop)?
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        let path = field_str(Some(path), "the request path")?
            .unwrap_or_default()
            .into_owned();
        let body: Option<Vec<u8>> = body.map(|b| b.as_bytes().to_vec());
        let a = self.inner.clone();
        spawn_py(
            async move {
                let proofs: Vec<&str> = lines.iter().map(String::as_str).collect();
                let auth = RequestAuth {
                    authorization: h.as_deref(),
                    dpop: &proofs,
                    path: &path,
                    now,
                };
                let req = request.request(body.as_deref());
                Ok(a.check_request(&auth, &req).await)
            },
            done,
            checked_to_py,
        );
        Ok(())
    }

    /// True when per-operation rules are configured (use `authenticate_request_now`).
    fn has_rules(&self) -> bool {
        self.inner.operations().is_some()
    }

    /// How many body bytes to read for `authenticate_request_now`; `None`: none at all.
    #[pyo3(signature = (method, content_length=None))]
    fn body_limit(&self, method: &str, content_length: Option<&str>) -> Option<usize> {
        self.inner.body_limit(method, content_length)
    }

    /// `authenticate_now` for one HTTP request to an MCP endpoint: the token first, then the
    /// operations of `body` (as many bytes as `body_limit` asked for). AuthInfo dict,
    /// `Failure`, or `None` when keys or metadata must be fetched first (then call
    /// `authenticate_request_spawn`). Runs with the GIL released.
    #[pyo3(signature = (header, request, body=None))]
    fn authenticate_request_now(
        &self,
        py: Python<'_>,
        header: Option<&Bound<'_, PyAny>>,
        request: RequestParts,
        body: Option<&Bound<'_, PyBytes>>,
    ) -> PyResult<Py<PyAny>> {
        let h = header_str(header)?;
        let body = body.map(|b| b.as_bytes());
        let a = &self.inner;
        match py.detach(|| a.authenticate_request_now(h.as_deref(), &request.request(body))) {
            Poll::Ready(Ok((info, _))) => auth_info_to_py(py, info, None),
            Poll::Ready(Err(e)) => {
                Ok(Py::new(py, Failure::new(py, self.inner.respond(&e), &e))?.into_any())
            }
            Poll::Pending => Ok(py.None()),
        }
    }

    /// Like `authenticate_request_now`, fetching what is missing; reports to `done(ok, value)`.
    fn authenticate_request_spawn(
        &self,
        header: Option<&Bound<'_, PyAny>>,
        request: RequestParts,
        body: Option<&Bound<'_, PyBytes>>,
        done: Py<PyAny>,
    ) -> PyResult<()> {
        let h = header_str(header)?.map(Cow::into_owned);
        let body: Option<Vec<u8>> = body.map(|b| b.as_bytes().to_vec());
        let a = self.inner.clone();
        spawn_py(
            async move {
                let req = request.request(body.as_deref());
                Ok(match a.authenticate_request(h.as_deref(), &req).await {
                    Ok((i, _)) => Outcome::Info(i),
                    Err(e) => Outcome::Failed(a.respond(&e), e),
                })
            },
            done,
            outcome_to_py,
        );
        Ok(())
    }

    /// AuthInfo dict, `Failure`, or `None` when keys or metadata must be fetched first
    /// (then call `authenticate_spawn`). Runs with the GIL released.
    #[pyo3(signature = (header))]
    fn authenticate_now(
        &self,
        py: Python<'_>,
        header: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let h = header_str(header)?;
        let a = &self.inner;
        match py.detach(|| a.authenticate_now(h.as_deref())) {
            Poll::Ready(Ok(info)) => auth_info_to_py(py, info, None),
            Poll::Ready(Err(e)) => {
                Ok(Py::new(py, Failure::new(py, self.inner.respond(&e), &e))?.into_any())
            }
            Poll::Pending => Ok(py.None()),
        }
    }

    /// Like `authenticate_now`, fetching what is missing; reports to `done(ok, value)`.
    fn authenticate_spawn(
        &self,
        header: Option<&Bound<'_, PyAny>>,
        done: Py<PyAny>,
    ) -> PyResult<()> {
        let h = header_str(header)?.map(Cow::into_owned);
        let a = self.inner.clone();
        spawn_py(
            async move {
                Ok(match a.authenticate(h.as_deref()).await {
                    Ok(i) => Outcome::Info(i),
                    Err(e) => Outcome::Failed(a.respond(&e), e),
                })
            },
            done,
            outcome_to_py,
        );
        Ok(())
    }

    #[pyo3(signature = (kind, code, message=None, details_json=None))]
    fn respond(
        &self,
        py: Python<'_>,
        kind: &str,
        code: &str,
        message: Option<String>,
        details_json: Option<&str>,
    ) -> PyResult<Failure> {
        let e = from_parts(kind, code, message, details_json)?;
        Ok(Failure::new(py, self.inner.respond(&e), &e))
    }
}
