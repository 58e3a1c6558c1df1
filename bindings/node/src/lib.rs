//! napi-rs binding: the `mcp-auth` native addon. Conversions only; behaviour lives in
//! `mcp-auth-core`.
