//! napi-rs binding: the `mcp-auth` native addon. Conversions only; behaviour lives in
//! `mcp-auth-core`.
//!
//! Values cross as plain JSON-like objects; core errors cross as one shape
//! (`kind`, `code`, `message`, `details`) that the TypeScript layer turns into its error classes.

mod auth;
mod convert;
mod errors;
mod metadata;
mod resource;

pub use auth::*;
pub use metadata::*;
pub use resource::*;

/// Runs `fut` on the core's runtime (where its pooled connections live) and awaits it from the
/// host's.
pub(crate) async fn on_core_runtime<F, T>(fut: F) -> napi::Result<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    mcp_auth_core::runtime::spawn(fut)
        .await
        .map_err(|e| napi::Error::from_reason(format!("mcp-auth task failed: {e}")))
}
