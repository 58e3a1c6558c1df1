//! Per-operation rules as Python hands them over: the configuration (a JSON string or a dict in
//! core's snake_case shape) and the parts of an HTTP request that core classifies.

use mcp_auth_core::operations::INVALID_OPERATION_RULES;
use mcp_auth_core::{Error, McpRequest, OperationConfig};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::from_py;
use crate::errors::{to_pyerr, IntoPyResult};

/// `None`, a JSON string, or a dict; core checks the shape (unknown members refused).
pub fn operation_config(obj: Option<&Bound<'_, PyAny>>) -> PyResult<OperationConfig> {
    let value = match obj {
        None => serde_json::Value::Null,
        Some(o) if o.is_none() => serde_json::Value::Null,
        Some(o) => match o.cast::<PyString>() {
            Ok(s) => serde_json::from_str(s.to_str()?).map_err(|e| {
                to_pyerr(&Error::config(
                    INVALID_OPERATION_RULES,
                    format!("per-operation rules are not JSON: {e}"),
                ))
            })?,
            Err(_) => from_py(o)?,
        },
    };
    OperationConfig::from_json(&value).py()
}

/// `(method, content_type, content_length, protocol_version, mcp_method, mcp_name)`: the HTTP
/// method and those headers as sent (`None` when absent; repeated fields joined with ", ").
#[derive(FromPyObject)]
pub struct RequestParts(
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl RequestParts {
    pub fn request<'a>(&'a self, body: Option<&'a [u8]>) -> McpRequest<'a> {
        McpRequest {
            method: &self.0,
            content_type: self.1.as_deref(),
            content_length: self.2.as_deref(),
            protocol_version: self.3.as_deref(),
            mcp_method: self.4.as_deref(),
            mcp_name: self.5.as_deref(),
            body,
        }
    }
}
