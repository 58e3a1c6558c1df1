//! One protected route: header -> token -> verification -> policy, or the answer to send.

use std::sync::Arc;
use std::task::Poll;

use crate::bearer::{parse_authorization, AuthResponse, Policy};
use crate::error::Result;
use crate::jwt::AuthInfo;
use crate::verifier::TokenVerifier;

#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Arc<TokenVerifier>,
    policy: Policy,
}

impl Authenticator {
    pub fn new(verifier: Arc<TokenVerifier>, policy: Policy) -> Self {
        Authenticator { verifier, policy }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// The whole check without I/O; `Pending` when metadata or keys must be fetched.
    pub fn authenticate_now(&self, header: Option<&str>) -> Poll<Result<AuthInfo>> {
        let token = match parse_authorization(header) {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match self.verifier.verify_now(token) {
            Poll::Ready(Ok(info)) => crate::guard::sync(|| Poll::Ready(self.policy.check(&info)))
                .map(|r| r.map(|_| info)),
            other => other,
        }
    }

    /// The whole check, fetching what is missing.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<AuthInfo> {
        let token = parse_authorization(header)?;
        let info = self.verifier.verify(token).await?;
        self.policy.check(&info)?;
        Ok(info)
    }

    pub fn respond(&self, err: &crate::Error) -> AuthResponse {
        self.policy.respond(err)
    }
}
