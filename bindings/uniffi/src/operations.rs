//! Per-operation authorization across the boundary: one HTTP request to an MCP endpoint (the
//! headers that matter and the body bytes) in, the operations it asks for or the answer out.
//! Classification, matching and the scope decision are the core's.

use mcp_auth_core::{Error, McpRequest, OperationConfig};
use serde_json::Value;

use crate::auth::{AuthInfo, Rejection};
use crate::errors::McpAuthError;

/// One HTTP request to an MCP endpoint as per-operation rules read it. Header values as sent
/// (a header sent several times joined with `", "`), `None` when absent; `body` holds the bytes
/// read as [`crate::auth::Authenticator::body_limit`] asked (`None` when it asked for none).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct McpHttpRequest {
    pub method: String,
    pub content_type: Option<String>,
    pub content_length: Option<String>,
    pub protocol_version: Option<String>,
    pub mcp_method: Option<String>,
    pub mcp_name: Option<String>,
    pub body: Option<Vec<u8>>,
}

impl McpHttpRequest {
    pub(crate) fn core(&self) -> McpRequest<'_> {
        McpRequest {
            method: &self.method,
            content_type: self.content_type.as_deref(),
            content_length: self.content_length.as_deref(),
            protocol_version: self.protocol_version.as_deref(),
            mcp_method: self.mcp_method.as_deref(),
            mcp_name: self.mcp_name.as_deref(),
            body: self.body.as_deref(),
        }
    }
}

/// One thing a request asks the server to do: a JSON-RPC method and, for `tools/call` and
/// `prompts/get`, the name, for `resources/read`, the URI.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Operation {
    pub method: String,
    pub name: Option<String>,
}

impl From<mcp_auth_core::Operation> for Operation {
    fn from(o: mcp_auth_core::Operation) -> Self {
        Operation {
            method: o.method,
            name: o.name,
        }
    }
}

/// What a route decided about one request to an MCP endpoint.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum RequestOutcome {
    /// Let it through: the caller, and the operations the body carries (empty for a request
    /// decided without its body).
    Authenticated {
        info: AuthInfo,
        operations: Vec<Operation>,
    },
    /// Answer it with `rejection.response`: 401/403 with the challenge, or 400/413/415 with a
    /// JSON-RPC error body for a body that cannot be classified.
    Rejected { rejection: Rejection },
}

/// The snake_case per-operation configuration (`tool_scopes`, `resource_scopes`,
/// `prompt_scopes`, `method_scopes`, `scope_hierarchy`, `max_body_bytes`), checked by core.
pub(crate) fn operation_config(json: Option<&str>) -> Result<OperationConfig, McpAuthError> {
    let value = match json {
        None => Value::Null,
        Some(s) => serde_json::from_str(s).map_err(|e| {
            McpAuthError::from(Error::config(
                mcp_auth_core::operations::INVALID_OPERATION_RULES,
                format!("per-operation rules are not JSON: {e}"),
            ))
        })?,
    };
    Ok(OperationConfig::from_json(&value)?)
}

/// What a route's per-operation rules say about a request whose token the host's own verifier
/// accepted.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum OperationDecision {
    Allowed { operations: Vec<Operation> },
    Rejected { rejection: Rejection },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthPolicy;
    use crate::errors::ErrorKind;
    use crate::resource_server::{AuthorizationServer, ResourceConfig, ResourceServer};

    const RESOURCE: &str = "https://api.example.com/mcp";

    fn policy(operations_json: Option<&str>) -> AuthPolicy {
        AuthPolicy {
            audience: Some(RESOURCE.into()),
            required_scopes: vec![],
            show_error_details: false,
            leeway_seconds: 60.0,
            require_at_jwt: false,
            algorithms: None,
            operations_json: operations_json.map(str::to_string),
            accept_any_audience: false,
            dpop_json: None,
        }
    }

    fn server() -> std::sync::Arc<ResourceServer> {
        ResourceServer::new(vec![ResourceConfig {
            resource: RESOURCE.into(),
            authorization_servers: vec![AuthorizationServer::Issuer {
                issuer: "https://issuer.example.com".into(),
                server_type: None,
            }],
            scopes_supported: None,
            metadata_json: None,
        }])
        .unwrap()
    }

    fn config_code(json: &str) -> String {
        match server().authenticator(RESOURCE.into(), policy(Some(json))) {
            Err(McpAuthError::Config { code, .. }) => code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_core_refuses_are_config_errors_with_its_codes() {
        assert_eq!(
            config_code(r#"{"tool_scopes":{"":["x"]}}"#),
            "invalid_operation_rules"
        );
        assert_eq!(
            config_code(r#"{"scope_hierarchy":{"a":["b"],"b":["a"]}}"#),
            "invalid_scope_config"
        );
        assert_eq!(
            config_code(r#"{"toolScopes":{}}"#),
            "invalid_operation_rules"
        );
    }

    #[test]
    fn dpop_settings_core_refuses_are_config_errors() {
        let code = |json: &str| {
            let mut p = policy(None);
            p.dpop_json = Some(json.into());
            match server().authenticator(RESOURCE.into(), p) {
                Err(McpAuthError::Config { code, reason, .. }) => (code, reason),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(code(r#"{"iatWindow":5}"#).0, "invalid_dpop_config");
        assert!(code(r#"{"mode":"sometimes"}"#)
            .1
            .contains("unknown DPoP mode"));
        assert_eq!(code("not json").0, "invalid_dpop_config");
        let mut p = policy(None);
        p.dpop_json = Some(r#"{"mode":"required"}"#.into());
        let guard = server().authenticator(RESOURCE.into(), p.clone()).unwrap();
        assert_eq!(
            guard.dpop_metadata_json().unwrap(),
            r#"{"dpop_signing_alg_values_supported":["ES256","ES384","ES512","EdDSA","PS256","PS384","PS512","RS256","RS384","RS512"],"dpop_bound_access_tokens_required":true}"#
        );
        assert!(matches!(
            server().bearer_policy(RESOURCE.into(), p),
            Err(McpAuthError::Config { .. })
        ));
    }

    fn request(body: &[u8]) -> McpHttpRequest {
        McpHttpRequest {
            method: "POST".into(),
            content_type: Some("application/json".into()),
            content_length: None,
            protocol_version: None,
            mcp_method: None,
            mcp_name: None,
            body: Some(body.to_vec()),
        }
    }

    fn caller(scopes: &[&str]) -> crate::auth::AuthInfo {
        crate::auth::AuthInfo {
            token: "t".into(),
            issuer: "https://issuer.example.com".into(),
            client_id: None,
            subject: Some("u".into()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audience: vec![RESOURCE.into()],
            expires_at: None,
            claims_json: "{}".into(),
            jkt: None,
        }
    }

    #[test]
    fn a_body_that_cannot_be_classified_is_an_answer_not_an_error() {
        let p = server()
            .bearer_policy(
                RESOURCE.into(),
                policy(Some(r#"{"tool_scopes":{"add-todo":["create:todos"]}}"#)),
            )
            .unwrap();
        assert_eq!(p.body_limit("POST".into(), None), Some(4 * 1024 * 1024 + 1));
        assert_eq!(p.body_limit("GET".into(), None), None);
        match p.decide(caller(&[]), request(b"{name:1}")) {
            OperationDecision::Rejected { rejection } => {
                assert_eq!(rejection.error.kind, ErrorKind::Request);
                assert_eq!(rejection.response.status, 400);
                assert_eq!(rejection.response.www_authenticate, None);
            }
            other => panic!("{other:?}"),
        }
        let call =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add-todo"}}"#;
        match p.decide(caller(&[]), request(call)) {
            OperationDecision::Rejected { rejection } => {
                assert_eq!(rejection.response.status, 403)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p.decide(caller(&["create:todos"]), request(call)),
            OperationDecision::Allowed {
                operations: vec![Operation {
                    method: "tools/call".into(),
                    name: Some("add-todo".into())
                }]
            }
        );
    }
}
