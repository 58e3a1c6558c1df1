//! No panic leaves the core through its verification entry points: a bug becomes a 500
//! `internal_error` for that one request, and the process keeps serving.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use futures::FutureExt;

use crate::error::{Error, Result};

pub const INTERNAL_ERROR: &str = "internal_error";

fn internal(payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::config(INTERNAL_ERROR, format!("mcp-auth internal error: {what}"))
}

pub(crate) fn sync<T>(f: impl FnOnce() -> Poll<Result<T>>) -> Poll<Result<T>> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Poll::Ready(Err(internal(p))))
}

pub(crate) fn call<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(internal(p)))
}

pub(crate) async fn future<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    AssertUnwindSafe(f)
        .catch_unwind()
        .await
        .unwrap_or_else(|p| Err(internal(p)))
}

/// Test hook: with `MCP_AUTH_TEST_PANIC=<token>` in the environment, verifying exactly that
/// token panics inside the core, so the bindings' tests can prove a panic never crosses. Only
/// in debug builds and builds with the `test-hooks` feature: a shipped library has no way to
/// be made to panic from its environment.
#[cfg(any(debug_assertions, feature = "test-hooks"))]
pub(crate) fn test_hook(token: &str) {
    static TRIGGER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let trigger = TRIGGER.get_or_init(|| {
        std::env::var("MCP_AUTH_TEST_PANIC")
            .ok()
            .filter(|v| !v.is_empty())
    });
    if trigger.as_deref() == Some(token) {
        panic!("panic requested by MCP_AUTH_TEST_PANIC");
    }
}

#[cfg(not(any(debug_assertions, feature = "test-hooks")))]
#[inline(always)]
pub(crate) fn test_hook(_token: &str) {}
