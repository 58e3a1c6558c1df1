//! One protected route: header -> token -> verification -> policy -> (per-operation rules), or
//! the answer to send.

use std::sync::Arc;
use std::task::Poll;

use crate::bearer::{parse_authorization, AuthResponse, Policy};
use crate::error::Result;
use crate::introspection::IntrospectionVerifier;
use crate::jwt::AuthInfo;
use crate::operations::{McpRequest, Operation, OperationRules};

use crate::verifier::{TokenVerifier, Verify};

/// How a route's tokens are checked: the built-in modes.
#[derive(Debug, Clone)]
pub enum Mode {
    Jwt(Arc<TokenVerifier>),
    Introspection(Arc<IntrospectionVerifier>),
}

impl Mode {
    fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        match self {
            Mode::Jwt(v) => v.verify_now(token),
            Mode::Introspection(v) => Verify::verify_now(&**v, token),
        }
    }

    async fn verify(&self, token: &str) -> Result<AuthInfo> {
        match self {
            Mode::Jwt(v) => v.verify(token).await,
            Mode::Introspection(v) => v.verify(token).await,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Authenticator {
    mode: Mode,
    policy: Policy,
    operations: Option<Arc<OperationRules>>,
}

impl Authenticator {
    /// The `'jwt'` mode.
    pub fn new(verifier: Arc<TokenVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Jwt(verifier),
            policy,
            operations: None,
        }
    }

    /// The `'introspection'` mode (RFC 7662).
    pub fn with_introspection(verifier: Arc<IntrospectionVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Introspection(verifier),
            policy,
            operations: None,
        }
    }

    /// Per-operation rules and the scope hierarchy, as a binding hands them over.
    pub fn with_operation_config(mut self, c: crate::operations::OperationConfig) -> Self {
        self.policy.scope_hierarchy = c.hierarchy.map(Arc::new);
        self.operations = c.rules.map(Arc::new);
        self
    }

    /// Adds per-operation rules; rules that configure nothing leave the route endpoint-only.
    pub fn with_operations(mut self, rules: OperationRules) -> Self {
        self.operations = (!rules.is_empty()).then(|| Arc::new(rules));
        self
    }

    pub fn operations(&self) -> Option<&OperationRules> {
        self.operations.as_deref()
    }

    /// How many body bytes the host should read for [`Self::authenticate_request_now`]:
    /// `None` when this request is decided without its body.
    pub fn body_limit(&self, http_method: &str, content_length: Option<&str>) -> Option<usize> {
        self.operations
            .as_ref()
            .and_then(|r| r.body_limit(http_method, content_length))
    }

    /// After verification: the endpoint's scopes, or, with per-operation rules, the endpoint's
    /// and the operations' scopes together.
    fn decide(&self, info: &AuthInfo, req: &McpRequest<'_>) -> Result<Vec<Operation>> {
        crate::operations::decide(&self.policy, self.operations.as_deref(), info, req)
    }

    /// The whole check of one HTTP request without I/O; `Pending` when metadata or keys must
    /// be fetched. The token is checked before the body: a request without credentials is
    /// answered 401 whatever it carries.
    pub fn authenticate_request_now(
        &self,
        header: Option<&str>,
        req: &McpRequest<'_>,
    ) -> Poll<Result<(AuthInfo, Vec<Operation>)>> {
        let token = match parse_authorization(header) {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match self.mode.verify_now(token) {
            Poll::Ready(Ok(info)) => Poll::Ready(self.decide(&info, req).map(|ops| (info, ops))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// [`Self::authenticate_request_now`], fetching what is missing.
    pub async fn authenticate_request(
        &self,
        header: Option<&str>,
        req: &McpRequest<'_>,
    ) -> Result<(AuthInfo, Vec<Operation>)> {
        let token = parse_authorization(header)?;
        let info = self.mode.verify(token).await?;
        let ops = self.decide(&info, req)?;
        Ok((info, ops))
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The whole check without I/O; `Pending` when metadata or keys must be fetched.
    pub fn authenticate_now(&self, header: Option<&str>) -> Poll<Result<AuthInfo>> {
        let token = match parse_authorization(header) {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match self.mode.verify_now(token) {
            Poll::Ready(Ok(info)) => crate::guard::sync(|| Poll::Ready(self.policy.check(&info)))
                .map(|r| r.map(|_| info)),
            other => other,
        }
    }

    /// The whole check, fetching what is missing.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<AuthInfo> {
        let token = parse_authorization(header)?;
        let info = self.mode.verify(token).await?;
        self.policy.check(&info)?;
        Ok(info)
    }

    pub fn respond(&self, err: &crate::Error) -> AuthResponse {
        self.policy.respond(err)
    }
}
