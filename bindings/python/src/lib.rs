//! PyO3 binding: `mcpauth._core`. Conversions only; behaviour lives in `mcp-auth-core`.

mod auth_info;
mod bridge;
mod convert;
mod errors;
mod introspection;
mod metadata;
mod operations;
mod verify;

use mcp_auth_core::{parse_authorization as core_parse, resource};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{map_to_py, object_from_py};
use crate::errors::{IntoPyResult, FLAVOR};

/// The PRM URL of a resource identifier.
#[pyfunction]
fn resource_metadata_url(resource_id: &str) -> PyResult<String> {
    resource::resource_metadata_url(resource_id).py()
}

/// The route path the PRM of a resource identifier is served at.
#[pyfunction]
fn resource_metadata_path(resource_id: &str) -> PyResult<String> {
    resource::resource_metadata_path(resource_id).py()
}

/// The PRM document from snake_case fields and the trusted issuers.
#[pyfunction]
fn protected_resource_metadata<'py>(
    py: Python<'py>,
    fields: &Bound<'py, PyAny>,
    issuers: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    map_to_py(
        py,
        &resource::protected_resource_metadata(&object_from_py(fields)?, &issuers),
    )
}

/// Duplicate resources, or an issuer twice within a resource: `invalid_server_config`.
#[pyfunction]
fn validate_resources(resources: Vec<(String, Vec<String>)>) -> PyResult<()> {
    let list: Vec<(&str, Vec<&str>)> = resources
        .iter()
        .map(|(r, i)| (r.as_str(), i.iter().map(String::as_str).collect()))
        .collect();
    resource::validate_resources(&list, FLAVOR).py()
}

/// The bearer token of an `Authorization` header value.
#[pyfunction]
#[pyo3(signature = (header))]
fn parse_authorization(header: Option<&str>) -> PyResult<String> {
    core_parse(header).map(str::to_string).py()
}

/// `Bearer k="v", ...` from parameters in order, values escaped as RFC 9110 quoted-strings.
#[pyfunction]
fn format_challenge(params: Vec<(String, String)>) -> String {
    let params: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    mcp_auth_core::bearer::format_challenge(&params)
}

/// The audience of a route: `(expected, from_resource, warning)` for the server's mode
/// (`resource_mode`: `protected_resources`), its resource, the configured audience and whether
/// the check is turned off.
#[pyfunction]
#[pyo3(signature = (resource_mode, resource, audience, accept_any_audience))]
fn route_audience(
    resource_mode: bool,
    resource: Option<&str>,
    audience: Option<&str>,
    accept_any_audience: bool,
) -> PyResult<(Option<String>, bool, Option<String>)> {
    let mode = if resource_mode {
        mcp_auth_core::RouteMode::Resource
    } else {
        mcp_auth_core::RouteMode::Legacy
    };
    let a = mcp_auth_core::route_audience(mode, resource, audience, accept_any_audience).py()?;
    Ok((a.expected, a.from_resource, a.warning))
}

/// What the core asked to be logged once (warning level) since the last call.
#[pyfunction]
fn take_notices() -> Vec<String> {
    mcp_auth_core::notice::take()
}

/// Forgets the process's cached key sets and discovered metadata.
#[pyfunction]
fn clear_caches() {
    mcp_auth_core::runtime::clear_caches()
}

/// How many times a JWKS URI was fetched in this process.
#[pyfunction]
fn jwks_fetch_count(uri: &str) -> u64 {
    mcp_auth_core::runtime::globals().jwks.fetch_count(uri)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CoreError", m.py().get_type::<errors::CoreError>())?;
    m.add_class::<verify::Failure>()?;
    m.add_class::<verify::TokenVerifier>()?;
    m.add_class::<verify::JwtVerifier>()?;
    m.add_class::<verify::Policy>()?;
    m.add_class::<verify::Authenticator>()?;
    m.add_class::<introspection::IntrospectionVerifier>()?;
    m.add_function(wrap_pyfunction!(metadata::fetch_server_config, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::fetch_server_config_spawn, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::discover_spawn, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::well_known_url, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::parse_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::validate_server_config, m)?)?;
    m.add_function(wrap_pyfunction!(metadata::check_provider, m)?)?;
    m.add_function(wrap_pyfunction!(resource_metadata_url, m)?)?;
    m.add_function(wrap_pyfunction!(resource_metadata_path, m)?)?;
    m.add_function(wrap_pyfunction!(protected_resource_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(validate_resources, m)?)?;
    m.add_function(wrap_pyfunction!(parse_authorization, m)?)?;
    m.add_function(wrap_pyfunction!(jwks_fetch_count, m)?)?;
    m.add_function(wrap_pyfunction!(format_challenge, m)?)?;
    m.add_function(wrap_pyfunction!(route_audience, m)?)?;
    m.add_function(wrap_pyfunction!(take_notices, m)?)?;
    m.add_function(wrap_pyfunction!(clear_caches, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
