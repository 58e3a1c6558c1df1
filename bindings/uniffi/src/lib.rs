//! mcp-auth for JVM (and any uniffi) hosts: the core's resource-server decisions behind a small,
//! language-neutral surface. Everything here converts; the decisions are the core's.
//!
//! - [`metadata`]: authorization-server metadata (fetch, parse, validate).
//! - [`resource_server`]: protected resources, their metadata documents, route guards.
//! - [`auth`]: the outcome of one request's `Authorization` header (auth info or the answer).
//! - [`operations`]: one HTTP request to an MCP endpoint for per-operation rules (headers and
//!   body bytes in; auth info and operations, or the answer, out).
//! - [`errors`]: core errors as typed exceptions (kind, code, message, details).

uniffi::setup_scaffolding!();

pub mod auth;
pub mod errors;
pub mod metadata;
pub mod operations;
pub mod resource_server;

/// What the core asked to be logged once (warning level) since the last call.
#[uniffi::export]
pub fn take_notices() -> Vec<String> {
    mcp_auth_core::notice::take()
}

/// Forgets the process's cached key sets and discovered metadata: the next verification
/// fetches them again.
#[uniffi::export]
pub fn clear_caches() {
    mcp_auth_core::runtime::clear_caches()
}

/// Every message follows the Node package's wording where the two packages differ.
pub(crate) const FLAVOR: mcp_auth_core::Flavor = mcp_auth_core::Flavor::Node;

/// Runs a core future on the core's runtime (never another one) and awaits it from whatever
/// executor the host polls with.
pub(crate) async fn on_core_runtime<F, T>(fut: F) -> Result<T, errors::McpAuthError>
where
    F: std::future::Future<Output = mcp_auth_core::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    match mcp_auth_core::runtime::spawn(fut).await {
        Ok(r) => r.map_err(errors::McpAuthError::from),
        Err(e) => Err(errors::internal(format!("mcp-auth task failed: {e}"))),
    }
}
