//! Core errors cross as one exception type, `CoreError(kind, code, message, details_json)`;
//! `mcpauth._errors` turns it into the public exception classes.

use mcp_auth_core::{Details, Error, ErrorKind, Flavor};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use serde_json::Value;

pyo3::create_exception!(_core, CoreError, PyException);

pub const FLAVOR: Flavor = Flavor::Python;

pub fn to_pyerr(e: &Error) -> PyErr {
    let details = if e.details().is_empty() {
        None
    } else {
        Some(e.details().to_json().to_string())
    };
    CoreError::new_err((
        e.kind().as_str(),
        e.code().to_string(),
        e.message(FLAVOR),
        details,
    ))
}

pub trait IntoPyResult<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for mcp_auth_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| to_pyerr(&e))
    }
}

/// Rebuilds a core error from the parts a Python exception carries.
pub fn from_parts(
    kind: &str,
    code: &str,
    message: Option<String>,
    details_json: Option<&str>,
) -> PyResult<Error> {
    let kind = ErrorKind::parse(kind)
        .ok_or_else(|| PyValueError::new_err(format!("unknown error kind `{kind}`")))?;
    let mut err = Error::new(kind, code);
    if let Some(m) = message {
        err = err.with_message(m);
    }
    if let Some(j) = details_json {
        let v: Value = serde_json::from_str(j)
            .map_err(|e| PyValueError::new_err(format!("details are not JSON: {e}")))?;
        err = err.with_details(Details::from_json(&v));
    }
    Ok(err)
}
