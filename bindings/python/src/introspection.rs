//! The `introspection` mode's verifier (RFC 7662) as a Python class.

use std::sync::Arc;
use std::time::Duration;

use mcp_auth_core::introspection::{
    ClientAuthMethod, IntrospectionOptions, IntrospectionVerifier as CoreIntrospectionVerifier,
};
use mcp_auth_core::{JwtOptions, VerifierOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::{IntoPyResult, FLAVOR};
use crate::verify::{auth_servers, verify_blocking, verify_now, verify_spawn, ServerSpec};

fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    mcp_auth_core::duration::from_secs(what, s).py()
}

/// `servers` as for `TokenVerifier`; seconds for `cache_ttl` (`None`: no cache), `timeout`
/// and `leeway`.
#[pyclass(frozen, module = "mcpauth._core")]
pub struct IntrospectionVerifier {
    pub inner: Arc<CoreIntrospectionVerifier>,
}

#[pymethods]
impl IntrospectionVerifier {
    #[new]
    #[pyo3(signature = (
        servers, client_id, client_secret, endpoint=None, auth_method="client_secret_basic",
        cache_ttl=None, timeout=5.0, leeway=60.0, headers=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        servers: Vec<ServerSpec>,
        client_id: String,
        client_secret: String,
        endpoint: Option<String>,
        auth_method: &str,
        cache_ttl: Option<f64>,
        timeout: f64,
        leeway: f64,
        headers: Option<Vec<(String, String)>>,
    ) -> PyResult<Self> {
        let auth_method = ClientAuthMethod::parse(auth_method).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown introspection auth_method `{auth_method}` (use client_secret_basic or client_secret_post)"
            ))
        })?;
        let opts = IntrospectionOptions {
            endpoint,
            client_id,
            client_secret,
            auth_method,
            timeout: seconds("timeout", timeout)?,
            cache_ttl: cache_ttl.map(|t| seconds("cache_ttl", t)).transpose()?,
            headers: headers.unwrap_or_default(),
            ..IntrospectionOptions::default()
        };
        let verifier = VerifierOptions {
            jwt: JwtOptions {
                leeway,
                ..JwtOptions::default()
            },
            flavor: FLAVOR,
            ..VerifierOptions::default()
        };
        let inner =
            CoreIntrospectionVerifier::new(auth_servers(py, servers)?, opts, verifier).py()?;
        Ok(IntrospectionVerifier {
            inner: Arc::new(inner),
        })
    }

    fn issuers(&self) -> Vec<String> {
        self.inner
            .issuers()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// How many introspection requests this verifier has sent.
    fn requests_sent(&self) -> u64 {
        self.inner.requests_sent()
    }

    /// The AuthInfo dict, or `None` when the endpoint must be asked.
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
