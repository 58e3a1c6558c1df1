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
