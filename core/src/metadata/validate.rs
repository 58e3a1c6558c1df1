//! Does an authorization server fit MCP? Upstream's checks, codes and descriptions.

use serde::Serialize;
use serde_json::Value;

use super::model::{AuthorizationServerMetadata, DEFAULT_GRANT_TYPES_SUPPORTED};
use crate::error::Flavor;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub description: &'static str,
    /// Only errors carry a cause (the schema error for `invalid_server_metadata`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationResult {
    pub is_valid: bool,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// What passed, in check order (the Node package reports these when `verbose`).
    pub successes: Vec<Finding>,
}

pub fn describe(code: &str) -> &'static str {
    match code {
        "invalid_server_metadata" => "The server metadata is not a valid object or does not conform to the expected schema.",
        "code_response_type_not_supported" => "The server does not support the \"code\" response type or the \"code\" response type is not included in one of the supported response types.",
        "authorization_code_grant_not_supported" => "The server does not support the \"authorization_code\" grant type.",
        "pkce_not_supported" => "The server does not support Proof Key for Code Exchange (PKCE).",
        "s256_code_challenge_method_not_supported" => "The server does not support the \"S256\" code challenge method for Proof Key for Code Exchange (PKCE).",
        "dynamic_registration_not_supported" => "Dynamic Client Registration (RFC 7591) is not supported by the server.",
        "server_metadata_valid" => "The server metadata is valid and conforms to the expected schema.",
        "dynamic_registration_supported" => "Dynamic Client Registration (RFC 7591) is supported by the server.",
        "pkce_supported" => "Proof Key for Code Exchange (PKCE) is supported by the server.",
        "s256_code_challenge_method_supported" => "The \"S256\" code challenge method for Proof Key for Code Exchange (PKCE) is supported by the server.",
        "authorization_code_grant_supported" => "The \"authorization_code\" grant type is supported by the server.",
        "code_response_type_supported" => "The \"code\" response type is supported by the server.",
        _ => "",
    }
}

fn finding(code: &'static str) -> Finding {
    Finding {
        code,
        description: describe(code),
        cause: None,
    }
}

/// Validates metadata JSON (snake_case): first against the schema, then the MCP rules.
pub fn validate_server_metadata_json(value: &Value, flavor: Flavor) -> ValidationResult {
    match AuthorizationServerMetadata::from_json(value.clone()) {
        Ok(m) => validate_server_config(&m, flavor),
        Err(e) => ValidationResult {
            is_valid: false,
            errors: vec![Finding {
                cause: e.details().cause.clone(),
                ..finding("invalid_server_metadata")
            }],
            warnings: vec![],
            successes: vec![],
        },
    }
}

/// The MCP checks on parsed metadata, in upstream's order.
///
/// The packages disagree only on `code_challenge_methods_supported: []`: Python reports
/// `pkce_not_supported`, Node `s256_code_challenge_method_not_supported`; each keeps its answer.
pub fn validate_server_config(m: &AuthorizationServerMetadata, flavor: Flavor) -> ValidationResult {
    let mut errors = vec![];
    let mut warnings = vec![];
    let mut successes = vec![finding("server_metadata_valid")];

    let has_code = m
        .response_types_supported
        .iter()
        .any(|t| t.split(' ').any(|p| p == "code"));
    if has_code {
        successes.push(finding("code_response_type_supported"));
    } else {
        errors.push(finding("code_response_type_not_supported"));
    }

    let has_authorization_code = match &m.grant_types_supported {
        Some(g) => g.iter().any(|t| t == "authorization_code"),
        None => DEFAULT_GRANT_TYPES_SUPPORTED.contains(&"authorization_code"),
    };
    if has_authorization_code {
        successes.push(finding("authorization_code_grant_supported"));
    } else {
        errors.push(finding("authorization_code_grant_not_supported"));
    }

    let pkce_listed = match (&m.code_challenge_methods_supported, flavor) {
        (None, _) => None,
        (Some(v), Flavor::Python) if v.is_empty() => None,
        (Some(v), _) => Some(v),
    };
    match pkce_listed {
        None => errors.push(finding("pkce_not_supported")),
        Some(methods) => {
            successes.push(finding("pkce_supported"));
            if methods.iter().any(|x| x == "S256") {
                successes.push(finding("s256_code_challenge_method_supported"));
            } else {
                errors.push(finding("s256_code_challenge_method_not_supported"));
            }
        }
    }

    if m.registration_endpoint
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        successes.push(finding("dynamic_registration_supported"));
    } else {
        warnings.push(finding("dynamic_registration_not_supported"));
    }

    ValidationResult {
        is_valid: errors.is_empty(),
        errors,
        warnings,
        successes,
    }
}
