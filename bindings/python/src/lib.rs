//! PyO3 binding: `mcpauth._core`. Conversions only; behaviour lives in `mcp-auth-core`.
