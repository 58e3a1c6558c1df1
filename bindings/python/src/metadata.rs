//! Authorization-server metadata: well-known URLs, fetching (sync and spawned), validation.

use std::sync::{Arc, Mutex};

use mcp_auth_core::metadata::cache::DEFAULT_TTL;
use mcp_auth_core::metadata::{self, validate_server_metadata_json, well_known_url as core_wk};
use mcp_auth_core::{codes, AuthServerType, Error, FetchOptions, ServerConfig};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::Value;

use crate::bridge::{block_on, spawn_py, spawn_py_with};
use crate::convert::{from_py, to_py};
use crate::errors::{IntoPyResult, FLAVOR};

pub fn parse_type(t: Option<&str>) -> PyResult<Option<AuthServerType>> {
    match t {
        None => Ok(None),
        Some(s) => AuthServerType::parse(s).map(Some).ok_or_else(|| {
            PyValueError::new_err(format!("unknown authorization server type `{s}`"))
        }),
    }
}

fn config_to_py(py: Python<'_>, c: ServerConfig) -> PyResult<Py<PyAny>> {
    let m = to_py(py, &c.metadata.to_json())?;
    Ok(PyTuple::new(
        py,
        [
            m.unbind(),
            c.server_type
                .as_str()
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        ],
    )?
    .into_any()
    .unbind())
}

type Transpile = Box<dyn Fn(Value) -> mcp_auth_core::Result<Value> + Send + Sync>;
type Raised = Arc<Mutex<Option<PyErr>>>;

/// Wraps a Python `transpile_data` callable; what it raises is kept to become the cause.
fn transpiler(f: Option<Py<PyAny>>, source: String, raised: Raised) -> Option<Transpile> {
    let f = f?;
    Some(Box::new(move |v: Value| {
        Python::attach(|py| {
            let out = to_py(py, &v)
                .and_then(|arg| f.call1(py, (arg,)))
                .and_then(|r| from_py(r.bind(py)));
            out.map_err(|e| {
                let why = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
                *raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Error::config(
                    codes::FETCH_SERVER_CONFIG_ERROR,
                    format!("Failed to fetch server config from {source}: {why}"),
                )
            })
        })
    }))
}

fn attach_cause(py: Python<'_>, err: PyErr, raised: &Raised) -> PyErr {
    if let Some(orig) = raised.lock().unwrap_or_else(|p| p.into_inner()).take() {
        err.set_cause(py, Some(orig));
    }
    err
}

struct Fetch {
    target: String,
    by_url: bool,
    ty: Option<AuthServerType>,
    transpile: Option<Transpile>,
    check_issuer: bool,
}

impl Fetch {
    fn new(
        target: String,
        by_url: bool,
        ty: Option<&str>,
        transpile: Option<Py<PyAny>>,
        check_issuer: bool,
        raised: &Raised,
    ) -> PyResult<Self> {
        let ty = parse_type(ty)?;
        let source = match (by_url, ty) {
            (false, Some(t)) => core_wk(&target, t).unwrap_or_else(|_| target.clone()),
            _ => target.clone(),
        };
        Ok(Fetch {
            transpile: transpiler(transpile, source, raised.clone()),
            target,
            by_url,
            ty,
            check_issuer,
        })
    }

    async fn run(self) -> mcp_auth_core::Result<ServerConfig> {
        let opts = FetchOptions {
            check_issuer: self.check_issuer,
            ..FetchOptions::default()
        };
        let t = self.transpile.as_deref();
        if self.by_url {
            let ty = self.ty.unwrap_or(AuthServerType::Oidc);
            metadata::fetch_server_config_by_well_known_url(&self.target, ty, t, &opts).await
        } else {
            metadata::fetch_server_config(&self.target, self.ty, t, &opts).await
        }
    }
}

/// `(issuer, type | None, transpile | None, check_issuer) -> (metadata dict, type)`, blocking.
#[pyfunction]
#[pyo3(signature = (target, server_type, transpile=None, check_issuer=true, by_url=false))]
pub fn fetch_server_config(
    py: Python<'_>,
    target: String,
    server_type: Option<&str>,
    transpile: Option<Py<PyAny>>,
    check_issuer: bool,
    by_url: bool,
) -> PyResult<Py<PyAny>> {
    let raised: Raised = Arc::default();
    let f = Fetch::new(
        target,
        by_url,
        server_type,
        transpile,
        check_issuer,
        &raised,
    )?;
    match block_on(py, f.run()) {
        Ok(c) => config_to_py(py, c),
        Err(e) => Err(attach_cause(py, e, &raised)),
    }
}

/// Same as `fetch_server_config`, reporting to `done(ok, value)` instead of blocking.
#[pyfunction]
#[pyo3(signature = (target, server_type, transpile, check_issuer, by_url, done))]
pub fn fetch_server_config_spawn(
    target: String,
    server_type: Option<&str>,
    transpile: Option<Py<PyAny>>,
    check_issuer: bool,
    by_url: bool,
    done: Py<PyAny>,
) -> PyResult<()> {
    let raised: Raised = Arc::default();
    let f = Fetch::new(
        target,
        by_url,
        server_type,
        transpile,
        check_issuer,
        &raised,
    )?;
    spawn_py_with(f.run(), done, config_to_py, move |py, e| {
        attach_cause(py, e, &raised)
    });
    Ok(())
}

#[pyfunction]
pub fn well_known_url(issuer: &str, server_type: &str) -> PyResult<String> {
    let t = parse_type(Some(server_type))?.unwrap_or(AuthServerType::Oidc);
    core_wk(issuer, t).py()
}

/// Parses metadata as the core models it (`invalid_server_metadata` if it does not fit).
#[pyfunction]
pub fn parse_metadata(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let m = mcp_auth_core::AuthorizationServerMetadata::from_json(from_py(data)?).py()?;
    Ok(to_py(py, &m.to_json())?.unbind())
}

/// `{is_valid, errors, warnings, successes}`, each finding `{code, description, cause?}`.
#[pyfunction]
pub fn validate_server_config(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let r = validate_server_metadata_json(&from_py(data)?, FLAVOR);
    let v = serde_json::to_value(&r).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(to_py(py, &v)?.unbind())
}

/// The metadata of a lazily configured server from the process-wide discovery cache (the one
/// the verifiers use, so a server serving it and verifying with it fetches it once).
#[pyfunction]
#[pyo3(signature = (issuer, server_type, done))]
pub fn discover_spawn(issuer: String, server_type: Option<&str>, done: Py<PyAny>) -> PyResult<()> {
    let ty = parse_type(server_type)?;
    spawn_py(
        async move {
            let g = mcp_auth_core::runtime::globals();
            g.metadata
                .get(&issuer, ty, DEFAULT_TTL, &FetchOptions::default())
                .await
                .map(|d| (*d.config).clone())
        },
        done,
        config_to_py,
    );
    Ok(())
}

/// The provider checker: `{exit_code, text, type?, url?, issuer?, metadata?, is_valid?, errors?,
/// warnings?, successes?, error?, error_description?}`, blocking. Never raises for a provider
/// that cannot be reached: that is exit code 2 with the reason in `text`.
#[pyfunction]
#[pyo3(signature = (target, server_type=None))]
pub fn check_provider(
    py: Python<'_>,
    target: String,
    server_type: Option<&str>,
) -> PyResult<Py<PyAny>> {
    let ty = parse_type(server_type)?;
    let outcome = block_on(py, async move {
        Ok(metadata::check_provider(&target, ty, FLAVOR, &FetchOptions::default()).await)
    })?;
    let report = outcome.to_json(FLAVOR);
    Ok(to_py(py, &report)?.unbind())
}
