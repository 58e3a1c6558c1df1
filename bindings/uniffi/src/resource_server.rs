//! Protected resources (RFC 9728): their metadata documents, where they are served, and the
//! guards of their routes.

use std::sync::Arc;

use std::time::Duration;

use mcp_auth_core::{
    resource, AuthServer, ClientAuthMethod as CoreAuthMethod, Error, IntrospectionOptions,
    IntrospectionVerifier, TokenVerifier, VerifierOptions,
};
use serde_json::{json, Map, Value};

use crate::auth::{AuthOutcome, AuthPolicy, Authenticator, BearerPolicy};
use crate::errors::{invalid_argument, McpAuthError};
use crate::metadata::{ServerConfig, ServerType};
use crate::FLAVOR;

/// A trusted authorization server: its metadata, or an issuer discovered on first use (so the
/// resource server starts even while the authorization server is down).
#[derive(Debug, Clone, uniffi::Enum)]
pub enum AuthorizationServer {
    Metadata {
        config: Arc<ServerConfig>,
    },
    Issuer {
        issuer: String,
        server_type: Option<ServerType>,
    },
}

impl AuthorizationServer {
    fn core(&self) -> AuthServer {
        match self {
            AuthorizationServer::Metadata { config } => AuthServer::Resolved(config.inner.clone()),
            AuthorizationServer::Issuer {
                issuer,
                server_type,
            } => AuthServer::Discovery {
                issuer: issuer.clone(),
                server_type: server_type.map(Into::into),
            },
        }
    }
}

/// How the resource server authenticates to the introspection endpoint (RFC 7591 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
}

/// Token introspection (RFC 7662) for opaque tokens.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IntrospectionConfig {
    pub client_id: String,
    pub client_secret: String,
    /// `None`: the `introspection_endpoint` of the one trusted authorization server's metadata.
    pub endpoint: Option<String>,
    pub auth_method: ClientAuthMethod,
    /// How long an active answer may be reused, in seconds; `None` asks for every request.
    pub cache_ttl_seconds: Option<f64>,
    pub timeout_seconds: f64,
}

fn seconds(what: &str, s: f64) -> Result<Duration, McpAuthError> {
    Ok(mcp_auth_core::duration::from_secs(what, s)?)
}

impl IntrospectionConfig {
    fn core(&self) -> Result<IntrospectionOptions, McpAuthError> {
        Ok(IntrospectionOptions {
            endpoint: self.endpoint.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth_method: match self.auth_method {
                ClientAuthMethod::ClientSecretBasic => CoreAuthMethod::ClientSecretBasic,
                ClientAuthMethod::ClientSecretPost => CoreAuthMethod::ClientSecretPost,
            },
            timeout: seconds("timeout", self.timeout_seconds)?,
            cache_ttl: self
                .cache_ttl_seconds
                .map(|s| seconds("cacheTtl", s))
                .transpose()?,
            ..IntrospectionOptions::default()
        })
    }
}

/// One protected resource and what its metadata document says.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ResourceConfig {
    /// The resource identifier: the URL clients connect to (e.g. `https://api.example.com/mcp`).
    pub resource: String,
    pub authorization_servers: Vec<AuthorizationServer>,
    pub scopes_supported: Option<Vec<String>>,
    /// Further RFC 9728 fields as a snake_case JSON object (`resource_name`,
    /// `bearer_methods_supported`, ...), served as given.
    pub metadata_json: Option<String>,
}

#[derive(Debug)]
struct Resource {
    resource: String,
    servers: Vec<AuthServer>,
    path: String,
    url: String,
    /// The configured RFC 9728 fields, `resource` first, without `authorization_servers`.
    fields: Map<String, Value>,
    document: String,
}

impl Resource {
    fn issuers(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| s.issuer().to_string())
            .collect()
    }
}

/// The protected resources of one server.
#[derive(Debug, uniffi::Object)]
pub struct ResourceServer {
    resources: Vec<Resource>,
    warnings: Vec<String>,
}

fn warnings_message(issuer: &str, warnings: &[mcp_auth_core::metadata::Finding]) -> String {
    let lines: Vec<String> = warnings
        .iter()
        .map(|w| format!("  - {}", w.description))
        .collect();
    format!(
        "The authorization server (issuer: `{issuer}`) configuration has warnings:\n\n{}\n",
        lines.join("\n")
    )
}

fn fields(config: &ResourceConfig) -> Result<Map<String, Value>, McpAuthError> {
    let mut fields = Map::new();
    fields.insert("resource".into(), Value::String(config.resource.clone()));
    if let Some(extra) = &config.metadata_json {
        match serde_json::from_str::<Value>(extra) {
            Ok(Value::Object(m)) => fields.extend(m),
            _ => {
                return Err(invalid_argument(
                    "The resource metadata must be a JSON object.",
                ))
            }
        }
    }
    if let Some(scopes) = &config.scopes_supported {
        fields.insert("scopes_supported".into(), scopes.clone().into());
    }
    Ok(fields)
}

fn document(fields: &Map<String, Value>, issuers: &[String]) -> String {
    Value::Object(resource::protected_resource_metadata(fields, issuers)).to_string()
}

#[uniffi::export]
impl ResourceServer {
    /// Checks the configuration as the Python and Node packages do: at least one resource, no
    /// resource or issuer twice, a PRM URL for each resource, and every given metadata fit for
    /// MCP (`invalid_server_config` with the findings otherwise; warnings are kept for logging).
    #[uniffi::constructor]
    pub fn new(resources: Vec<ResourceConfig>) -> Result<Arc<Self>, McpAuthError> {
        if resources.is_empty() {
            return Err(Error::invalid_server_config(
                "No authorization server or protected resource metadata is provided.",
            )
            .into());
        }
        let servers: Vec<Vec<AuthServer>> = resources
            .iter()
            .map(|r| r.authorization_servers.iter().map(|s| s.core()).collect())
            .collect();
        let listed: Vec<(&str, Vec<&str>)> = resources
            .iter()
            .zip(&servers)
            .map(|(r, s)| {
                (
                    r.resource.as_str(),
                    s.iter().map(AuthServer::issuer).collect(),
                )
            })
            .collect();
        resource::validate_resources(&listed, FLAVOR)?;

        let mut warnings = vec![];
        for server in servers.iter().flatten() {
            if let AuthServer::Resolved(config) = server {
                let result =
                    mcp_auth_core::metadata::validate_server_config(&config.metadata, FLAVOR);
                if !result.is_valid {
                    return Err(
                        Error::auth_server(mcp_auth_core::codes::INVALID_SERVER_CONFIG)
                            .with_cause(
                                json!({ "errors": result.errors, "warnings": result.warnings }),
                            )
                            .into(),
                    );
                }
                if !result.warnings.is_empty() {
                    warnings.push(warnings_message(&config.metadata.issuer, &result.warnings));
                }
            }
        }

        let mut out = vec![];
        for (config, servers) in resources.iter().zip(servers) {
            let issuers: Vec<String> = servers.iter().map(|s| s.issuer().to_string()).collect();
            let fields = fields(config)?;
            out.push(Resource {
                resource: config.resource.clone(),
                path: resource::resource_metadata_path(&config.resource)?,
                url: resource::resource_metadata_url(&config.resource)?,
                document: document(&fields, &issuers),
                fields,
                servers,
            });
        }
        Ok(Arc::new(ResourceServer {
            resources: out,
            warnings,
        }))
    }

    /// The resource identifiers, in configuration order.
    pub fn resources(&self) -> Vec<String> {
        self.resources.iter().map(|r| r.resource.clone()).collect()
    }

    /// Configuration warnings of the given authorization servers, one message each.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// The route path a resource's metadata is served at
    /// (`/.well-known/oauth-protected-resource/mcp` for `https://api.example.com/mcp`).
    pub fn metadata_path(&self, resource: String) -> Result<String, McpAuthError> {
        Ok(self.find(&resource)?.path.clone())
    }

    /// The URL of that document, as challenges advertise it (`resource_metadata`).
    pub fn metadata_url(&self, resource: String) -> Result<String, McpAuthError> {
        Ok(self.find(&resource)?.url.clone())
    }

    /// The RFC 9728 document to serve (JSON).
    pub fn metadata_document(&self, resource: String) -> Result<String, McpAuthError> {
        Ok(self.find(&resource)?.document.clone())
    }

    /// The RFC 9728 document of a resource whose routes `guard` protects: with the DPoP
    /// members its DPoP settings give (`dpop_signing_alg_values_supported`,
    /// `dpop_bound_access_tokens_required`), replacing configured ones.
    pub fn metadata_document_for(
        &self,
        resource: String,
        guard: Arc<Authenticator>,
    ) -> Result<String, McpAuthError> {
        let r = self.find(&resource)?;
        Ok(match guard.inner.dpop() {
            None => r.document.clone(),
            Some(d) => document(&resource::with_dpop_fields(&r.fields, d), &r.issuers()),
        })
    }

    /// What to log once, at warning level, for a route of `resource` with `policy`: set when
    /// tokens for any audience pass.
    pub fn audience_warning(
        &self,
        resource: String,
        policy: AuthPolicy,
    ) -> Result<Option<String>, McpAuthError> {
        let r = self.find(&resource)?;
        Ok(policy.route_audience(&r.resource)?.warning)
    }

    /// The JWT-mode guard of a resource's routes.
    pub fn authenticator(
        &self,
        resource: String,
        policy: AuthPolicy,
    ) -> Result<Arc<Authenticator>, McpAuthError> {
        let r = self.find(&resource)?;
        let options = VerifierOptions {
            jwt: policy.jwt_options()?,
            flavor: FLAVOR,
            ..VerifierOptions::default()
        };
        let operations = policy.operation_config()?;
        let verifier = Arc::new(TokenVerifier::new(r.servers.clone(), options));
        let core = mcp_auth_core::Authenticator::new(
            verifier,
            policy.core_policy(&r.resource, r.issuers(), r.url.clone())?,
        )
        .with_operation_config(operations);
        with_dpop(core, &policy, &r.resource)
    }

    /// The guard of a resource's routes for tokens checked by introspection at the
    /// authorization server (opaque tokens).
    pub fn introspection_authenticator(
        &self,
        resource: String,
        policy: AuthPolicy,
        introspection: IntrospectionConfig,
    ) -> Result<Arc<Authenticator>, McpAuthError> {
        let r = self.find(&resource)?;
        let verifier = VerifierOptions {
            jwt: policy.jwt_options()?,
            flavor: FLAVOR,
            ..VerifierOptions::default()
        };
        let operations = policy.operation_config()?;
        let v = IntrospectionVerifier::new(r.servers.clone(), introspection.core()?, verifier)?;
        let core = mcp_auth_core::Authenticator::with_introspection(
            Arc::new(v),
            policy.core_policy(&r.resource, r.issuers(), r.url.clone())?,
        )
        .with_operation_config(operations);
        with_dpop(core, &policy, &r.resource)
    }

    /// The policy of a resource's routes, for a host-side token verifier.
    pub fn bearer_policy(
        &self,
        resource: String,
        policy: AuthPolicy,
    ) -> Result<Arc<BearerPolicy>, McpAuthError> {
        let r = self.find(&resource)?;
        if policy.dpop_json.is_some() {
            return Err(Error::config(
                mcp_auth_core::dpop::INVALID_DPOP_CONFIG,
                "DPoP settings need one of the built-in token checks (JWT or introspection); a route with a verifier of its own takes bearer tokens only.",
            )
            .into());
        }
        let operations = policy.operation_config()?;
        let mut inner = policy.core_policy(&r.resource, r.issuers(), r.url.clone())?;
        inner.scope_hierarchy = operations.hierarchy.map(Arc::new);
        Ok(Arc::new(BearerPolicy {
            inner,
            rules: operations.rules,
        }))
    }

    /// One request through a resource's JWT-mode guard (builds the guard each call; keep an
    /// [`Authenticator`] for a route instead).
    pub async fn authenticate(
        &self,
        authorization_header: Option<String>,
        resource: String,
        policy: AuthPolicy,
    ) -> Result<AuthOutcome, McpAuthError> {
        let guard = self.authenticator(resource, policy)?;
        if let Some(done) = guard.authenticate_now(authorization_header.clone()) {
            return Ok(done);
        }
        Ok(guard.authenticate(authorization_header).await)
    }
}

/// `core` with the route's DPoP settings, checked now so that a bad one is refused when the
/// route is built.
fn with_dpop(
    core: mcp_auth_core::Authenticator,
    policy: &AuthPolicy,
    resource: &str,
) -> Result<Arc<Authenticator>, McpAuthError> {
    let core = match policy.dpop_options(resource)? {
        Some(o) => core.with_dpop(o)?,
        None => core,
    };
    Ok(Arc::new(Authenticator {
        inner: Arc::new(core),
    }))
}

impl ResourceServer {
    fn find(&self, resource: &str) -> Result<&Resource, McpAuthError> {
        self.resources
            .iter()
            .find(|r| r.resource == resource)
            .ok_or_else(|| {
                Error::invalid_server_config(format!(
                    "No token verifier found for the specified resource: `{resource}`. Please ensure that this resource is correctly configured in the `protectedResources` array in the MCPAuth constructor."
                ))
                .into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(r: &str, issuers: &[&str]) -> ResourceConfig {
        ResourceConfig {
            resource: r.into(),
            authorization_servers: issuers
                .iter()
                .map(|i| AuthorizationServer::Issuer {
                    issuer: i.to_string(),
                    server_type: None,
                })
                .collect(),
            scopes_supported: Some(vec!["read".into()]),
            metadata_json: Some(r#"{"resource_name":"Notes"}"#.into()),
        }
    }

    #[test]
    fn serves_the_document_at_the_well_known_path() {
        let s = ResourceServer::new(vec![resource(
            "https://api.example.com/mcp",
            &["https://issuer.example.com"],
        )])
        .unwrap();
        let r = "https://api.example.com/mcp".to_string();
        assert_eq!(
            s.metadata_path(r.clone()).unwrap(),
            "/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            s.metadata_document(r).unwrap(),
            r#"{"resource":"https://api.example.com/mcp","resource_name":"Notes","scopes_supported":["read"],"authorization_servers":["https://issuer.example.com"]}"#
        );
    }

    #[test]
    fn refuses_what_the_packages_refuse() {
        let code = |r: Result<Arc<ResourceServer>, McpAuthError>| match r {
            Err(McpAuthError::AuthServer { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(ResourceServer::new(vec![])), "invalid_server_config");
        let twice = resource("https://api.example.com/mcp", &[]);
        assert_eq!(
            code(ResourceServer::new(vec![twice.clone(), twice])),
            "invalid_server_config"
        );
        let s = ResourceServer::new(vec![resource("https://api.example.com/mcp", &[])]).unwrap();
        assert!(matches!(
            s.metadata_url("https://other.example.com".into()),
            Err(McpAuthError::AuthServer { .. })
        ));
    }
}
