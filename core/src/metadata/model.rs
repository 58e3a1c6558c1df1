//! RFC 8414 / OpenID Connect Discovery metadata as upstream models it, plus everything else a
//! provider sends (kept in `extra`, never dropped).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{codes, Error, Result};

/// `oauth` (RFC 8414, well-known path inserted after the host) or `oidc` (OpenID Connect
/// Discovery, well-known path appended to the issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthServerType {
    #[serde(rename = "oauth")]
    OAuth,
    #[serde(rename = "oidc")]
    Oidc,
}

impl AuthServerType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthServerType::OAuth => "oauth",
            AuthServerType::Oidc => "oidc",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oauth" => Some(AuthServerType::OAuth),
            "oidc" => Some(AuthServerType::Oidc),
            _ => None,
        }
    }
}

/// Authorization-server metadata. Field order is upstream's; unknown fields live in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    pub response_types_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_modes_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_documentation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// Every other field the provider sent (`end_session_endpoint`, ...), in its order.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The field names upstream models, in upstream's order.
pub const METADATA_FIELDS: [&str; 23] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "service_documentation",
    "ui_locales_supported",
    "op_policy_uri",
    "op_tos_uri",
    "revocation_endpoint",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "code_challenge_methods_supported",
    "userinfo_endpoint",
];

/// Upstream's `AuthorizationServerMetadataDefaults` / `defaultValues`.
pub const DEFAULT_GRANT_TYPES_SUPPORTED: [&str; 2] = ["authorization_code", "implicit"];
pub const DEFAULT_RESPONSE_MODES_SUPPORTED: [&str; 2] = ["query", "fragment"];

impl AuthorizationServerMetadata {
    /// Parses snake_case metadata JSON; a body that does not fit the schema is
    /// `invalid_server_metadata` with the reason as cause.
    pub fn from_json(value: Value) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::auth_server(codes::INVALID_SERVER_METADATA)
                .with_error_description("The server metadata is not a valid object or is null."));
        }
        // `null` means absent for optional fields; the schema only rejects wrong types.
        let value = match value {
            Value::Object(m) => {
                Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            v => v,
        };
        serde_json::from_value(value).map_err(|e| {
            Error::auth_server(codes::INVALID_SERVER_METADATA).with_error_description(e.to_string())
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Resolved metadata with the type it was discovered as.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub metadata: AuthorizationServerMetadata,
    pub server_type: AuthServerType,
}
