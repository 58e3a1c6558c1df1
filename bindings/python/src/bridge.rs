//! Core futures run on the core's runtime; their outcome is handed to a Python callback
//! `done(ok, value)` from a runtime thread. The Python side passes a callback that forwards
//! to its event loop with `call_soon_threadsafe`, so no Python code runs off the loop.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use mcp_auth_core::{runtime, Error};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_pyerr;

pub type Convert<T> = fn(Python<'_>, T) -> PyResult<Py<PyAny>>;

pub fn spawn_py<T, F>(fut: F, done: Py<PyAny>, convert: Convert<T>)
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    spawn_py_with(fut, done, convert, |_, e| e)
}

/// `spawn_py` whose failures pass through `on_err` (to attach a Python cause, say).
pub fn spawn_py_with<T, F, E>(fut: F, done: Py<PyAny>, convert: Convert<T>, on_err: E)
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    E: FnOnce(Python<'_>, PyErr) -> PyErr + Send + 'static,
{
    runtime::spawn(async move {
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        Python::attach(|py| {
            let (ok, value) = match outcome {
                Ok(Ok(v)) => match convert(py, v) {
                    Ok(obj) => (true, obj),
                    Err(e) => (false, e.value(py).clone().into_any().unbind()),
                },
                Ok(Err(e)) => (
                    false,
                    on_err(py, to_pyerr(&e))
                        .value(py)
                        .clone()
                        .into_any()
                        .unbind(),
                ),
                Err(_) => (
                    false,
                    PyRuntimeError::new_err("mcp-auth: internal error (panic) in the native core")
                        .value(py)
                        .clone()
                        .into_any()
                        .unbind(),
                ),
            };
            // The loop may be closed by now; nobody is left to tell.
            let _ = done.call1(py, (ok, value));
        });
    });
}

/// Runs `fut` to completion on the core's runtime with the GIL released.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let r =
        py.detach(move || std::panic::catch_unwind(AssertUnwindSafe(|| runtime::block_on(fut))));
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(&e)),
        Err(_) => Err(PyRuntimeError::new_err(
            "mcp-auth: internal error (panic) in the native core",
        )),
    }
}
