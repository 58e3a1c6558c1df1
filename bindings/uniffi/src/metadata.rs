//! Authorization-server metadata: fetched from an issuer's well-known URL or given as JSON,
//! parsed and checked against what MCP clients need.

use std::sync::Arc;

use mcp_auth_core::metadata::{self, validate::Finding};
use mcp_auth_core::{AuthServerType, FetchOptions};
use serde_json::Value;

use crate::errors::{invalid_argument, McpAuthError};
use crate::{on_core_runtime, FLAVOR};

/// Which discovery document an issuer publishes: RFC 8414 (`oauth`) or OpenID Connect (`oidc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ServerType {
    Oauth,
    Oidc,
}

impl From<ServerType> for AuthServerType {
    fn from(t: ServerType) -> Self {
        match t {
            ServerType::Oauth => AuthServerType::OAuth,
            ServerType::Oidc => AuthServerType::Oidc,
        }
    }
}

impl From<AuthServerType> for ServerType {
    fn from(t: AuthServerType) -> Self {
        match t {
            AuthServerType::OAuth => ServerType::Oauth,
            AuthServerType::Oidc => ServerType::Oidc,
        }
    }
}

/// One authorization server's metadata and type, parsed (unknown fields kept).
#[derive(Debug, uniffi::Object)]
pub struct ServerConfig {
    pub(crate) inner: Arc<metadata::ServerConfig>,
}

#[uniffi::export]
impl ServerConfig {
    /// Metadata given as snake_case JSON (RFC 8414 field names); `invalid_server_metadata`
    /// when it does not fit the schema.
    #[uniffi::constructor]
    pub fn from_json(
        metadata_json: String,
        server_type: ServerType,
    ) -> Result<Arc<Self>, McpAuthError> {
        let value: Value = serde_json::from_str(&metadata_json)
            .map_err(|e| invalid_argument(format!("The metadata is not JSON: {e}")))?;
        let config = metadata::finish(value, server_type.into(), None)?;
        Ok(Arc::new(ServerConfig {
            inner: Arc::new(config),
        }))
    }

    pub fn issuer(&self) -> String {
        self.inner.metadata.issuer.clone()
    }

    pub fn server_type(&self) -> ServerType {
        self.inner.server_type.into()
    }

    /// The metadata as snake_case JSON.
    pub fn metadata_json(&self) -> String {
        self.inner.metadata.to_json().to_string()
    }

    /// Does this server fit MCP (authorization code, PKCE S256, ...)? Errors make the resource
    /// server refuse it; warnings are worth logging.
    pub fn validate(&self) -> ValidationResult {
        metadata::validate_server_config(&self.inner.metadata, FLAVOR).into()
    }
}

/// Fetches an issuer's metadata from the well-known URL of `server_type` and checks that it
/// names the same issuer (`fetch_server_config_error`, `invalid_server_metadata` otherwise).
/// Without a type, the discovery URLs are tried in the order MCP clients use.
#[uniffi::export]
pub async fn fetch_server_config(
    issuer: String,
    server_type: Option<ServerType>,
) -> Result<Arc<ServerConfig>, McpAuthError> {
    let config = on_core_runtime(async move {
        metadata::fetch_server_config(
            &issuer,
            server_type.map(Into::into),
            None,
            &FetchOptions::default(),
        )
        .await
    })
    .await?;
    Ok(Arc::new(ServerConfig {
        inner: Arc::new(config),
    }))
}

/// The well-known URL an issuer's metadata of `server_type` is fetched from.
#[uniffi::export]
pub fn well_known_url(issuer: String, server_type: ServerType) -> Result<String, McpAuthError> {
    Ok(metadata::well_known_url(&issuer, server_type.into())?)
}

/// One check of [`ValidationResult`]: its code, the upstream description and, for errors, a cause.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ValidationFinding {
    pub code: String,
    pub description: String,
    pub cause_json: Option<String>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ValidationResult {
    pub is_valid: bool,
    pub errors: Vec<ValidationFinding>,
    pub warnings: Vec<ValidationFinding>,
    /// What passed, in check order.
    pub successes: Vec<ValidationFinding>,
}

fn findings(list: Vec<Finding>) -> Vec<ValidationFinding> {
    list.into_iter()
        .map(|f| ValidationFinding {
            code: f.code.to_string(),
            description: f.description.to_string(),
            cause_json: f.cause.map(|c| c.to_string()),
        })
        .collect()
}

impl From<metadata::ValidationResult> for ValidationResult {
    fn from(r: metadata::ValidationResult) -> Self {
        ValidationResult {
            is_valid: r.is_valid,
            errors: findings(r.errors),
            warnings: findings(r.warnings),
            successes: findings(r.successes),
        }
    }
}

/// Validates snake_case metadata JSON: the schema first (a single `invalid_server_metadata`
/// error when it does not fit), then MCP's requirements.
#[uniffi::export]
pub fn validate_server_metadata(metadata_json: String) -> Result<ValidationResult, McpAuthError> {
    let value: Value = serde_json::from_str(&metadata_json)
        .map_err(|e| invalid_argument(format!("The metadata is not JSON: {e}")))?;
    Ok(metadata::validate_server_metadata_json(&value, FLAVOR).into())
}

/// The provider checker's verdict: the report in plain words and the exit status
/// (0 compatible with MCP, 1 not compatible, 2 no metadata found; then the report is an error).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProviderCheckReport {
    pub exit_code: i32,
    pub text: String,
}

/// Checks an authorization server for MCP, as `npx mcp-auth check` does: `target` is an issuer
/// (discovered in the MCP order unless a type is given) or a metadata URL.
#[uniffi::export]
pub async fn check_provider(
    target: String,
    server_type: Option<ServerType>,
) -> ProviderCheckReport {
    let outcome = mcp_auth_core::runtime::spawn(async move {
        metadata::check_provider(
            &target,
            server_type.map(Into::into),
            FLAVOR,
            &FetchOptions::default(),
        )
        .await
    })
    .await;
    match outcome {
        Ok(o) => ProviderCheckReport {
            exit_code: o.exit_code(),
            text: o.text(FLAVOR),
        },
        Err(e) => ProviderCheckReport {
            exit_code: metadata::check::EXIT_NO_METADATA,
            text: format!("mcp-auth task failed: {e}"),
        },
    }
}
