//! One protected route: header -> token -> verification -> policy -> (per-operation rules), or
//! the answer to send.

use std::sync::Arc;
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::bearer::{
    parse_authorization, parse_credentials, scheme_of, AuthResponse, Credentials, Policy, Scheme,
};
use crate::dpop::{Dpop, DpopMode, DpopOptions};
use crate::error::{Error, Result};
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

    /// The clock skew the token verifier tolerates.
    fn leeway(&self) -> f64 {
        match self {
            Mode::Jwt(v) => v.options().jwt.leeway,
            Mode::Introspection(v) => v.verifier_options().jwt.leeway,
        }
        .max(0.0)
    }
}

/// The credentials of one HTTP request, as a host reads them, for [`Authenticator::check_request`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestAuth<'a> {
    /// The `Authorization` header, `None` when absent.
    pub authorization: Option<&'a str>,
    /// Every `DPoP` header field value, one element per field line, in order (empty when
    /// there is none). More than one is refused.
    pub dpop: &'a [&'a str],
    /// The request target's path as the client sent it (`/mcp?x=1`; the query is ignored).
    /// With the resource identifier's origin it forms the URL a proof's `htu` must name. Pass
    /// the raw, still percent-encoded path, including any prefix a proxy strips.
    pub path: &'a str,
    /// "Now" in seconds since the epoch for the DPoP checks (`iat`, nonces, replay), for
    /// tests; `None` reads the clock. Token time claims follow the verifier's own options.
    pub now: Option<f64>,
}

/// A request the route lets through.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub info: AuthInfo,
    pub operations: Vec<Operation>,
    /// Headers the host adds to the application's answer (`DPoP-Nonce` when nonces are on).
    pub headers: Vec<(String, String)>,
}

/// A request the route refuses: the error (for host exceptions and logs) and the whole answer
/// to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub error: Error,
    pub response: AuthResponse,
}

fn clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Debug, Clone)]
pub struct Authenticator {
    mode: Mode,
    policy: Policy,
    operations: Option<Arc<OperationRules>>,
    dpop: Option<Arc<Dpop>>,
}

impl Authenticator {
    /// The `'jwt'` mode.
    pub fn new(verifier: Arc<TokenVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Jwt(verifier),
            policy,
            operations: None,
            dpop: None,
        }
    }

    /// The `'introspection'` mode (RFC 7662).
    pub fn with_introspection(verifier: Arc<IntrospectionVerifier>, policy: Policy) -> Self {
        Authenticator {
            mode: Mode::Introspection(verifier),
            policy,
            operations: None,
            dpop: None,
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

    /// DPoP for this route (RFC 9449). Without it the route is bearer-only and still refuses
    /// DPoP-bound tokens (`cnf.jkt`) sent as bearer tokens. The DPoP leeway defaults to the
    /// token verifier's.
    pub fn with_dpop(mut self, options: DpopOptions) -> Result<Self> {
        let d = Dpop::new(options, self.mode.leeway())?;
        self.dpop = Some(Arc::new(d));
        Ok(self)
    }

    pub fn dpop(&self) -> Option<&Dpop> {
        self.dpop.as_deref()
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
    /// answered 401 whatever it carries. Bearer only: for DPoP use [`Self::check_request_now`].
    pub fn authenticate_request_now(
        &self,
        header: Option<&str>,
        req: &McpRequest<'_>,
    ) -> Poll<Result<(AuthInfo, Vec<Operation>)>> {
        let auth = RequestAuth {
            authorization: header,
            ..RequestAuth::default()
        };
        self.check_now(&auth, req, clock())
            .map(|r| r.map(|a| (a.info, a.operations)))
    }

    /// [`Self::authenticate_request_now`], fetching what is missing.
    pub async fn authenticate_request(
        &self,
        header: Option<&str>,
        req: &McpRequest<'_>,
    ) -> Result<(AuthInfo, Vec<Operation>)> {
        let auth = RequestAuth {
            authorization: header,
            ..RequestAuth::default()
        };
        self.check(&auth, req, clock())
            .await
            .map(|a| (a.info, a.operations))
    }

    /// The whole check of one HTTP request, DPoP included, without I/O: `Pending` when
    /// metadata or keys must be fetched or a Redis replay store asked (then await
    /// [`Self::check_request`]). On success the host publishes `info` and adds `headers` to
    /// the application's answer; on refusal it sends `response` as it is.
    pub fn check_request_now(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
    ) -> Poll<Result<Accepted, Refused>> {
        let now = auth.now.unwrap_or_else(clock);
        match self.check_now(auth, req, now) {
            Poll::Ready(Ok(a)) => Poll::Ready(Ok(a)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.refused(e, auth, now))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// [`Self::check_request_now`], fetching and asking what is needed.
    pub async fn check_request(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
    ) -> Result<Accepted, Refused> {
        let now = auth.now.unwrap_or_else(clock);
        self.check(auth, req, now)
            .await
            .map_err(|e| self.refused(e, auth, now))
    }

    /// The check of a request whose caller (`info`) another guard of the same resource already
    /// accepted in this very request, for hosts that stack two guards on one route (an
    /// authentication provider around a route plugin): everything [`Self::check_request_now`]
    /// checks, this route's token verification and DPoP proof rules included, except that the
    /// proof's `jti` is not recorded again (a proof counts once, and the other guard recorded
    /// it: a second record would find it replayed). `info` must be that guard's answer for this
    /// request's own token.
    pub fn check_accepted_now(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
        info: &AuthInfo,
    ) -> Poll<Result<Accepted, Refused>> {
        let now = auth.now.unwrap_or_else(clock);
        let creds = match self.accepted_credentials(auth, info) {
            Ok(c) => c,
            Err(e) => return Poll::Ready(Err(self.refused(e, auth, now))),
        };
        match self.mode.verify_now(creds.token) {
            Poll::Ready(Ok(verified)) => Poll::Ready(
                self.accepted_again(&creds, verified, auth, req, now)
                    .map_err(|e| self.refused(e, auth, now)),
            ),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.refused(e, auth, now))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// [`Self::check_accepted_now`], fetching what is needed.
    pub async fn check_accepted(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
        info: &AuthInfo,
    ) -> Result<Accepted, Refused> {
        let now = auth.now.unwrap_or_else(clock);
        let checked = async {
            let creds = self.accepted_credentials(auth, info)?;
            let verified = self.mode.verify(creds.token).await?;
            self.accepted_again(&creds, verified, auth, req, now)
        };
        checked.await.map_err(|e| self.refused(e, auth, now))
    }

    fn accepted_credentials<'h>(
        &self,
        auth: &RequestAuth<'h>,
        info: &AuthInfo,
    ) -> Result<Credentials<'h>> {
        let creds = self.credentials(auth.authorization)?;
        if creds.token != info.token {
            return Err(Error::bearer(crate::error::codes::INVALID_TOKEN)
                .with_cause("The caller was accepted with another token than this request's."));
        }
        Ok(creds)
    }

    fn accepted_again(
        &self,
        creds: &Credentials<'_>,
        info: AuthInfo,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
        now: f64,
    ) -> Result<Accepted> {
        crate::guard::call(|| match self.dpop.as_deref() {
            // The whole proof check, without the record the other guard made.
            Some(d) => d
                .confirm(creds, &info, auth.dpop, req.method, auth.path, now)
                .map(|_| ()),
            None => crate::dpop::check_bearer_token(&info),
        })?;
        self.accepted(info, req, now)
    }

    fn refused(&self, error: Error, auth: &RequestAuth<'_>, now: f64) -> Refused {
        let response = self.respond_to(&error, scheme_of(auth.authorization), now);
        Refused { error, response }
    }

    /// The token of the `Authorization` header in a scheme this route accepts.
    fn credentials<'h>(&self, header: Option<&'h str>) -> Result<Credentials<'h>> {
        match self.dpop.as_deref() {
            Some(d) if d.mode() != DpopMode::Off => {
                let c = parse_credentials(header)?;
                d.check_scheme(c.scheme)?;
                Ok(c)
            }
            _ => parse_authorization(header).map(|token| Credentials {
                scheme: Scheme::Bearer,
                token,
            }),
        }
    }

    fn accepted(&self, info: AuthInfo, req: &McpRequest<'_>, now: f64) -> Result<Accepted> {
        let operations = self.decide(&info, req)?;
        let headers = self
            .dpop
            .as_deref()
            .map(|d| d.answer_headers(now))
            .unwrap_or_default();
        Ok(Accepted {
            info,
            operations,
            headers,
        })
    }

    fn check_now(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
        now: f64,
    ) -> Poll<Result<Accepted>> {
        let creds = match self.credentials(auth.authorization) {
            Ok(c) => c,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if self
            .dpop
            .as_deref()
            .is_some_and(|d| d.needs_network(creds.scheme))
        {
            return Poll::Pending;
        }
        let info = match self.mode.verify_now(creds.token) {
            Poll::Ready(Ok(info)) => info,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        let confirmed = match self.dpop.as_deref() {
            Some(d) => crate::guard::sync(|| {
                d.check_now(&creds, &info, auth.dpop, req.method, auth.path, now)
            }),
            None => Poll::Ready(crate::dpop::check_bearer_token(&info)),
        };
        match confirmed {
            Poll::Ready(Ok(())) => Poll::Ready(self.accepted(info, req, now)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    async fn check(
        &self,
        auth: &RequestAuth<'_>,
        req: &McpRequest<'_>,
        now: f64,
    ) -> Result<Accepted> {
        let creds = self.credentials(auth.authorization)?;
        let info = self.mode.verify(creds.token).await?;
        match self.dpop.as_deref() {
            Some(d) => {
                crate::guard::future(d.check(&creds, &info, auth.dpop, req.method, auth.path, now))
                    .await?
            }
            None => crate::dpop::check_bearer_token(&info)?,
        }
        self.accepted(info, req, now)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The whole check without I/O; `Pending` when metadata or keys must be fetched. Bearer
    /// tokens only (a DPoP-bound one is refused).
    pub fn authenticate_now(&self, header: Option<&str>) -> Poll<Result<AuthInfo>> {
        let token = match parse_authorization(header) {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match self.mode.verify_now(token) {
            Poll::Ready(Ok(info)) => crate::guard::sync(|| Poll::Ready(self.check_bearer(&info)))
                .map(|r| r.map(|_| info)),
            other => other,
        }
    }

    /// The whole check, fetching what is missing.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<AuthInfo> {
        let token = parse_authorization(header)?;
        let info = self.mode.verify(token).await?;
        self.check_bearer(&info)?;
        Ok(info)
    }

    fn check_bearer(&self, info: &AuthInfo) -> Result<()> {
        if let Some(d) = self.dpop.as_deref() {
            d.check_scheme(Scheme::Bearer)?;
        }
        crate::dpop::check_bearer_token(info)?;
        self.policy.check(info)
    }

    /// The answer to `err` from the bearer-only entry points (a request in the `Bearer`
    /// scheme, answered now).
    pub fn respond(&self, err: &crate::Error) -> AuthResponse {
        match self.dpop.as_deref() {
            None => self.policy.respond(err),
            Some(_) => self.respond_to(err, Some(Scheme::Bearer), clock()),
        }
    }

    /// The answer to `err` for a request whose `Authorization` used `used`, at `now`.
    pub fn respond_to(&self, err: &crate::Error, used: Option<Scheme>, now: f64) -> AuthResponse {
        match self.dpop.as_deref() {
            None => self.policy.respond(err),
            Some(d) => d.respond(&self.policy, err, used, now),
        }
    }
}
