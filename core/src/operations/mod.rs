//! Per-operation authorization: what an MCP request asks to do, and whether the token may.
//!
//! [`classify`] reads an HTTP request to an MCP endpoint (method, the headers that matter, the
//! body bytes) into the operations it carries; [`OperationRules`] says which scopes each
//! operation needs and answers a shortfall with the one 403 challenge SEP-2350 asks for.
//! The body is read strictly ([`strict_json`]) because the MCP SDK behind us reads it again:
//! whatever the two could read differently is refused, never decided by a default rule.

mod classify;
mod config;
mod rules;
pub mod strict_json;
mod template;

pub use classify::{classify, McpRequest, Operation};
pub use config::OperationConfig;
pub use rules::{
    decide, OperationRules, OperationRulesConfig, DEFAULT_MAX_BODY_BYTES, INVALID_OPERATION_RULES,
};
pub use template::UriPattern;

/// Request-error codes (`ErrorKind::Request`): answered with a JSON-RPC error body, no challenge.
pub mod codes {
    /// 400, JSON-RPC -32700: not UTF-8, not strict JSON, or a key twice.
    pub const PARSE_ERROR: &str = "mcp_parse_error";
    /// 400, JSON-RPC -32600: JSON, but not JSON-RPC messages that can be classified.
    pub const INVALID_REQUEST: &str = "mcp_invalid_request";
    /// 400, JSON-RPC -32020: `Mcp-Method` / `Mcp-Name` differ from the body.
    pub const HEADER_MISMATCH: &str = "mcp_header_mismatch";
    /// 413: larger than the inspection limit.
    pub const BODY_TOO_LARGE: &str = "mcp_body_too_large";
    /// 415: not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "mcp_unsupported_media_type";
}

/// HTTP status and JSON-RPC error code of a request-error code.
pub fn status_and_rpc_code(code: &str) -> (u16, i64) {
    match code {
        codes::PARSE_ERROR => (400, -32700),
        codes::HEADER_MISMATCH => (400, -32020),
        codes::BODY_TOO_LARGE => (413, -32600),
        codes::UNSUPPORTED_MEDIA_TYPE => (415, -32600),
        _ => (400, -32600),
    }
}

/// An attacker-supplied fragment as it may appear in a message or a log: no control
/// characters, at most 64 characters.
pub(crate) fn shown(s: &str) -> String {
    crate::error::fragment(s)
}
