//! One protected route: header -> token -> verification -> policy, or the answer to send.

use std::sync::Arc;
use std::task::Poll;

use crate::bearer::{parse_authorization, AuthResponse, Policy};
use crate::error::Result;
use crate::introspection::IntrospectionVerifier;
use crate::jwt::AuthInfo;
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
}

impl Authenticator {
    /// The `'jwt'` mode.
    pub fn new(verifier: Arc<TokenVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Jwt(verifier),
            policy,
        }
    }

    /// The `'introspection'` mode (RFC 7662).
    pub fn with_introspection(verifier: Arc<IntrospectionVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Introspection(verifier),
            policy,
        }
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
