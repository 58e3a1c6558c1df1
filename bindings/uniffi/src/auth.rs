//! One request's `Authorization` header -> the caller's auth info, or the exact answer to send.

use std::sync::Arc;
use std::task::Poll;

use mcp_auth_core::{parse_authorization, Alg, Audience, Error, JwtOptions, Policy};
use serde_json::{Map, Value};

use crate::errors::{invalid_argument, ErrorInfo, McpAuthError};
use crate::on_core_runtime;
use crate::operations::{McpHttpRequest, OperationDecision, RequestOutcome};

/// Who is calling and with what rights.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuthInfo {
    pub token: String,
    pub issuer: String,
    pub client_id: Option<String>,
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    /// `aud` as a list (a single string becomes one element); empty when absent.
    pub audience: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Every claim of the token, as a JSON object.
    pub claims_json: String,
    /// The DPoP key binding (`cnf.jkt`, RFC 9449 §6): set when a DPoP route accepted the token
    /// with a proof of that key; `None` for bearer tokens.
    pub jkt: Option<String>,
}

impl From<mcp_auth_core::AuthInfo> for AuthInfo {
    fn from(i: mcp_auth_core::AuthInfo) -> Self {
        AuthInfo {
            jkt: i.jkt().map(str::to_string),
            claims_json: Value::Object(i.claims).to_string(),
            token: i.token,
            issuer: i.issuer,
            client_id: i.client_id,
            subject: i.subject,
            scopes: i.scopes,
            audience: match i.audience {
                None => vec![],
                Some(Audience::One(a)) => vec![a],
                Some(Audience::Many(v)) => v,
            },
            expires_at: i.expires_at,
        }
    }
}

impl AuthInfo {
    fn to_core(&self) -> mcp_auth_core::AuthInfo {
        let claims: Map<String, Value> =
            serde_json::from_str(&self.claims_json).unwrap_or_default();
        // A one-element list came from a plain string claim, so failures show it as a string.
        let audience = match self.audience.as_slice() {
            [] => None,
            [one] if !matches!(claims.get("aud"), Some(Value::Array(_))) => {
                Some(Audience::One(one.clone()))
            }
            many => Some(Audience::Many(many.to_vec())),
        };
        mcp_auth_core::AuthInfo {
            token: self.token.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            subject: self.subject.clone(),
            audience,
            expires_at: self.expires_at,
            claims,
        }
    }
}

/// One response header a host adds as it is (`DPoP-Nonce`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

fn headers(h: Vec<(String, String)>) -> Vec<HttpHeader> {
    h.into_iter()
        .map(|(name, value)| HttpHeader { name, value })
        .collect()
}

/// The answer to a request that failed authentication: status, JSON body and, for 401/403,
/// the `WWW-Authenticate` challenges.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuthResponse {
    pub status: u16,
    pub body_json: String,
    /// `challenges` joined with `", "`, for hosts that send one field.
    pub www_authenticate: Option<String>,
    /// One `WWW-Authenticate` field line each (`Bearer ...`, `DPoP algs="..."`).
    pub challenges: Vec<String>,
    /// Further headers of the answer (`DPoP-Nonce`).
    pub headers: Vec<HttpHeader>,
}

impl From<mcp_auth_core::AuthResponse> for AuthResponse {
    fn from(r: mcp_auth_core::AuthResponse) -> Self {
        AuthResponse {
            status: r.status,
            body_json: r.body_string(),
            www_authenticate: r.www_authenticate,
            challenges: r.challenges,
            headers: headers(r.headers),
        }
    }
}

/// Why a request was refused, and what to answer.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Rejection {
    pub error: ErrorInfo,
    pub response: AuthResponse,
}

#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum AuthOutcome {
    Authenticated { info: AuthInfo },
    Rejected { rejection: Rejection },
}

/// What a protected route demands, and how tokens are checked. Defaults live in the host API.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuthPolicy {
    /// The token's `aud` must contain this (RFC 8707: the resource identifier).
    pub audience: Option<String>,
    pub required_scopes: Vec<String>,
    /// Adds the failure's cause to response bodies (for development).
    pub show_error_details: bool,
    /// Clock skew tolerated for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: f64,
    /// RFC 9068: the header `typ` must be `at+jwt`.
    pub require_at_jwt: bool,
    /// Accepted signing algorithms (`RS256`, `ES256`, ...); `None`: every asymmetric one.
    pub algorithms: Option<Vec<String>>,
    /// Per-operation rules as the snake_case JSON object core reads (`tool_scopes`,
    /// `resource_scopes`, `prompt_scopes`, `method_scopes`, `scope_hierarchy`,
    /// `max_body_bytes`); `None`: the endpoint's scopes decide every request.
    pub operations_json: Option<String>,
    /// Accept tokens for any audience (otherwise `audience`, or else the resource identifier).
    pub accept_any_audience: bool,
    /// DPoP settings (RFC 9449) as the snake_case JSON object core reads (`mode`,
    /// `algorithms`, `iat_window`, `leeway`, `nonce_secret`, `nonce_window`, `replay_store`,
    /// `replay_max_entries`, `replay_timeout_ms`, `replay_fail_open`, `replay_key_prefix`;
    /// `resource` defaults to the route's resource); `None`: a bearer-only route.
    pub dpop_json: Option<String>,
}

impl AuthPolicy {
    pub(crate) fn jwt_options(&self) -> Result<JwtOptions, McpAuthError> {
        let algorithms = match &self.algorithms {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        Alg::parse(n)
                            .ok_or_else(|| invalid_argument(format!("Unknown algorithm `{n}`.")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(JwtOptions {
            algorithms,
            leeway: self.leeway_seconds,
            require_at_jwt: self.require_at_jwt,
            ..JwtOptions::default()
        })
    }

    /// The audience rule of a route of `resource` (resource-server mode).
    pub(crate) fn route_audience(
        &self,
        resource: &str,
    ) -> Result<mcp_auth_core::RouteAudience, McpAuthError> {
        Ok(mcp_auth_core::route_audience(
            mcp_auth_core::RouteMode::Resource,
            Some(resource),
            self.audience.as_deref(),
            self.accept_any_audience,
        )?)
    }

    /// The per-operation rules, checked now so that a route is refused when it is built
    /// (`invalid_operation_rules`, `invalid_scope_config`).
    pub(crate) fn operation_config(&self) -> Result<mcp_auth_core::OperationConfig, McpAuthError> {
        crate::operations::operation_config(self.operations_json.as_deref())
    }

    /// The DPoP settings of a route of `resource`, checked by core (`invalid_dpop_config`).
    pub(crate) fn dpop_options(
        &self,
        resource: &str,
    ) -> Result<Option<mcp_auth_core::DpopOptions>, McpAuthError> {
        let Some(json) = &self.dpop_json else {
            return Ok(None);
        };
        let mut value: Value = serde_json::from_str(json).map_err(|e| {
            McpAuthError::from(Error::config(
                mcp_auth_core::dpop::INVALID_DPOP_CONFIG,
                format!("DPoP settings are not JSON: {e}"),
            ))
        })?;
        if let Value::Object(m) = &mut value {
            m.entry("resource")
                .or_insert_with(|| Value::String(resource.to_string()));
        }
        Ok(Some(mcp_auth_core::DpopOptions::from_json(&value)?))
    }

    // Field by field, so that options core may add later keep their defaults.
    #[allow(clippy::field_reassign_with_default)]
    pub(crate) fn core_policy(
        &self,
        resource: &str,
        issuers: Vec<String>,
        resource_metadata: String,
    ) -> Result<Policy, McpAuthError> {
        let mut p = Policy::default();
        p.issuers = Some(issuers);
        p.required_scopes = self.required_scopes.clone();
        p.resource_metadata = Some(resource_metadata);
        p.show_error_details = self.show_error_details;
        p.flavor = crate::FLAVOR;
        Ok(p.with_route_audience(&self.route_audience(resource)?))
    }
}

fn outcome(r: mcp_auth_core::Result<mcp_auth_core::AuthInfo>, policy: &Policy) -> AuthOutcome {
    match r {
        Ok(info) => AuthOutcome::Authenticated { info: info.into() },
        Err(e) => AuthOutcome::Rejected {
            rejection: rejection(&e, policy),
        },
    }
}

fn request_outcome(
    r: mcp_auth_core::Result<(mcp_auth_core::AuthInfo, Vec<mcp_auth_core::Operation>)>,
    policy: &Policy,
) -> RequestOutcome {
    match r {
        Ok((info, ops)) => RequestOutcome::Authenticated {
            info: info.into(),
            operations: ops.into_iter().map(Into::into).collect(),
        },
        Err(e) => RequestOutcome::Rejected {
            rejection: rejection(&e, policy),
        },
    }
}

/// The credentials of one HTTP request for a route that may take DPoP.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RequestCredentials {
    pub authorization: Option<String>,
    /// Every `DPoP` header field value, one element per field line, in order.
    pub dpop: Vec<String>,
    /// The request target as the client sent it (raw, percent-encoded; the query is ignored):
    /// with the resource identifier's origin, the URL a proof's `htu` must name.
    pub path: String,
    /// "Now" for the DPoP checks, seconds since the epoch (tests); `None` reads the clock.
    pub now: Option<f64>,
}

impl RequestCredentials {
    /// The `DPoP` field values as the core borrows them.
    fn dpop_fields(&self) -> Vec<&str> {
        self.dpop.iter().map(String::as_str).collect()
    }

    /// The core's view of these credentials, `dpop` from [`RequestCredentials::dpop_fields`].
    fn core<'a>(&'a self, dpop: &'a [&'a str]) -> mcp_auth_core::RequestAuth<'a> {
        mcp_auth_core::RequestAuth {
            authorization: self.authorization.as_deref(),
            dpop,
            path: &self.path,
            now: self.now,
        }
    }
}

/// What a route decided about one HTTP request, DPoP included.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CheckOutcome {
    /// Let it through, adding `headers` to the application's answer.
    Accepted {
        info: AuthInfo,
        operations: Vec<crate::operations::Operation>,
        headers: Vec<HttpHeader>,
    },
    /// Answer it with `rejection.response`, its challenges and headers included.
    Rejected { rejection: Rejection },
}

fn check_outcome(r: Result<mcp_auth_core::Accepted, mcp_auth_core::Refused>) -> CheckOutcome {
    match r {
        Ok(a) => CheckOutcome::Accepted {
            info: a.info.into(),
            operations: a.operations.into_iter().map(Into::into).collect(),
            headers: headers(a.headers),
        },
        Err(f) => CheckOutcome::Rejected {
            rejection: Rejection {
                error: ErrorInfo::from_core(&f.error),
                response: f.response.into(),
            },
        },
    }
}

fn rejection(e: &Error, policy: &Policy) -> Rejection {
    Rejection {
        error: ErrorInfo::from_core(e),
        response: policy.respond(e).into(),
    }
}

/// A route guard in JWT mode: header, token, keys, claims and policy in one call.
#[derive(Debug, uniffi::Object)]
pub struct Authenticator {
    pub(crate) inner: Arc<mcp_auth_core::Authenticator>,
}

#[uniffi::export]
impl Authenticator {
    /// The whole check without I/O; `None` when metadata or keys must be fetched first
    /// (then call [`Authenticator::authenticate`]).
    pub fn authenticate_now(&self, authorization_header: Option<String>) -> Option<AuthOutcome> {
        match self.inner.authenticate_now(authorization_header.as_deref()) {
            Poll::Pending => None,
            Poll::Ready(r) => Some(outcome(r, self.inner.policy())),
        }
    }

    /// The whole check, fetching what is missing. Never throws: failures are rejections.
    pub async fn authenticate(&self, authorization_header: Option<String>) -> AuthOutcome {
        let a = self.inner.clone();
        let r =
            on_core_runtime(
                async move { Ok(a.authenticate(authorization_header.as_deref()).await) },
            )
            .await;
        match r {
            Ok(r) => outcome(r, self.inner.policy()),
            Err(e) => outcome(Err(ErrorInfo::from(e).to_core()), self.inner.policy()),
        }
    }

    /// How many body bytes to read before [`Authenticator::authenticate_request`]: at most
    /// that many (core answers 413 for more). `None`: do not read the body (no per-operation
    /// rules, or not a POST).
    pub fn body_limit(&self, http_method: String, content_length: Option<String>) -> Option<u64> {
        self.inner
            .body_limit(&http_method, content_length.as_deref())
            .map(|n| n as u64)
    }

    /// One HTTP request without I/O: the token first (401 without credentials whatever the
    /// body), then, with per-operation rules, what the body asks for. `None` when metadata or
    /// keys must be fetched first (then call [`Authenticator::authenticate_request`]).
    pub fn authenticate_request_now(
        &self,
        authorization_header: Option<String>,
        request: McpHttpRequest,
    ) -> Option<RequestOutcome> {
        match self
            .inner
            .authenticate_request_now(authorization_header.as_deref(), &request.core())
        {
            Poll::Pending => None,
            Poll::Ready(r) => Some(request_outcome(r, self.inner.policy())),
        }
    }

    /// [`Authenticator::authenticate_request_now`], fetching what is missing. Never throws:
    /// failures, a body that cannot be classified included, are rejections.
    pub async fn authenticate_request(
        &self,
        authorization_header: Option<String>,
        request: McpHttpRequest,
    ) -> RequestOutcome {
        let a = self.inner.clone();
        let r = on_core_runtime(async move {
            Ok(
                a.authenticate_request(authorization_header.as_deref(), &request.core())
                    .await,
            )
        })
        .await;
        match r {
            Ok(r) => request_outcome(r, self.inner.policy()),
            Err(e) => request_outcome(Err(ErrorInfo::from(e).to_core()), self.inner.policy()),
        }
    }

    /// One HTTP request without I/O, DPoP included: the scheme, the token, the proof, the
    /// replay store, then per-operation rules. `None` when metadata or keys must be fetched or
    /// a Redis replay store asked (then call [`Authenticator::check_request`]).
    pub fn check_request_now(
        &self,
        credentials: RequestCredentials,
        request: McpHttpRequest,
    ) -> Option<CheckOutcome> {
        let dpop = credentials.dpop_fields();
        let auth = credentials.core(&dpop);
        match self.inner.check_request_now(&auth, &request.core()) {
            Poll::Pending => None,
            Poll::Ready(r) => Some(check_outcome(r)),
        }
    }

    /// [`Authenticator::check_request_now`], fetching and asking what is needed. Never throws:
    /// failures are rejections.
    pub async fn check_request(
        &self,
        credentials: RequestCredentials,
        request: McpHttpRequest,
    ) -> CheckOutcome {
        let a = self.inner.clone();
        let r = on_core_runtime(async move {
            let dpop = credentials.dpop_fields();
            let auth = credentials.core(&dpop);
            Ok(a.check_request(&auth, &request.core()).await)
        })
        .await;
        match r {
            Ok(r) => check_outcome(r),
            Err(e) => CheckOutcome::Rejected {
                rejection: rejection(&ErrorInfo::from(e).to_core(), self.inner.policy()),
            },
        }
    }

    /// A request whose caller `info` another guard of the same resource accepted in this very
    /// request (stacked guards), without I/O: the whole check but the replay record the other
    /// guard made (a proof counts once). `None` when keys or metadata must be fetched (then
    /// call [`Authenticator::check_accepted`]).
    pub fn check_accepted_now(
        &self,
        credentials: RequestCredentials,
        request: McpHttpRequest,
        info: AuthInfo,
    ) -> Option<CheckOutcome> {
        let dpop = credentials.dpop_fields();
        let auth = credentials.core(&dpop);
        match self
            .inner
            .check_accepted_now(&auth, &request.core(), &info.to_core())
        {
            Poll::Pending => None,
            Poll::Ready(r) => Some(check_outcome(r)),
        }
    }

    /// [`Authenticator::check_accepted_now`], fetching what is needed. Never throws.
    pub async fn check_accepted(
        &self,
        credentials: RequestCredentials,
        request: McpHttpRequest,
        info: AuthInfo,
    ) -> CheckOutcome {
        let a = self.inner.clone();
        let r = on_core_runtime(async move {
            let dpop = credentials.dpop_fields();
            let auth = credentials.core(&dpop);
            Ok(a.check_accepted(&auth, &request.core(), &info.to_core())
                .await)
        })
        .await;
        match r {
            Ok(r) => check_outcome(r),
            Err(e) => CheckOutcome::Rejected {
                rejection: rejection(&ErrorInfo::from(e).to_core(), self.inner.policy()),
            },
        }
    }

    /// The members this route adds to its resource's metadata document
    /// (`dpop_signing_alg_values_supported`, `dpop_bound_access_tokens_required`) as a JSON
    /// object; `None` without DPoP settings.
    pub fn dpop_metadata_json(&self) -> Option<String> {
        self.inner
            .dpop()
            .map(|d| Value::Object(d.metadata_fields()).to_string())
    }

    /// The answer to a failure found by the host after the token was accepted.
    pub fn respond(&self, error: ErrorInfo) -> AuthResponse {
        self.inner.respond(&error.to_core()).into()
    }
}

/// The policy alone, for routes whose tokens a host-side verifier checks.
#[derive(Debug, uniffi::Object)]
pub struct BearerPolicy {
    pub(crate) inner: Policy,
    pub(crate) rules: Option<mcp_auth_core::OperationRules>,
}

/// The bearer token of a header, or why the request is refused.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum BearerToken {
    Token { token: String },
    Rejected { rejection: Rejection },
}

#[uniffi::export]
impl BearerPolicy {
    pub fn bearer_token(&self, authorization_header: Option<String>) -> BearerToken {
        match parse_authorization(authorization_header.as_deref()) {
            Ok(t) => BearerToken::Token {
                token: t.to_string(),
            },
            Err(e) => BearerToken::Rejected {
                rejection: rejection(&e, &self.inner),
            },
        }
    }

    /// Issuer, audience and scopes of a verifier's result; `None` when they pass.
    pub fn check(&self, info: AuthInfo) -> Option<Rejection> {
        self.inner
            .check(&info.to_core())
            .err()
            .map(|e| rejection(&e, &self.inner))
    }

    /// How many body bytes to read before [`BearerPolicy::decide`]; see
    /// [`Authenticator::body_limit`].
    pub fn body_limit(&self, http_method: String, content_length: Option<String>) -> Option<u64> {
        self.rules
            .as_ref()
            .and_then(|r| r.body_limit(&http_method, content_length.as_deref()))
            .map(|n| n as u64)
    }

    /// Issuer, audience and scopes of a verifier's result for one HTTP request: the endpoint's
    /// scopes or, with per-operation rules, those and the scopes of what the body asks for.
    pub fn decide(&self, info: AuthInfo, request: McpHttpRequest) -> OperationDecision {
        match mcp_auth_core::operations::decide(
            &self.inner,
            self.rules.as_ref(),
            &info.to_core(),
            &request.core(),
        ) {
            Ok(ops) => OperationDecision::Allowed {
                operations: ops.into_iter().map(Into::into).collect(),
            },
            Err(e) => OperationDecision::Rejected {
                rejection: rejection(&e, &self.inner),
            },
        }
    }

    /// The answer to a failure the verifier raised.
    pub fn respond(&self, error: ErrorInfo) -> AuthResponse {
        self.inner.respond(&error.to_core()).into()
    }
}

impl From<McpAuthError> for ErrorInfo {
    fn from(e: McpAuthError) -> Self {
        use crate::errors::ErrorKind as K;
        let (kind, code, reason, details_json) = match e {
            McpAuthError::AuthServer {
                code,
                reason,
                details_json,
            } => (K::AuthServer, code, reason, details_json),
            McpAuthError::Config {
                code,
                reason,
                details_json,
            } => (K::Config, code, reason, details_json),
            McpAuthError::BearerAuth {
                code,
                reason,
                details_json,
            } => (K::BearerAuth, code, reason, details_json),
            McpAuthError::TokenVerification {
                code,
                reason,
                details_json,
            } => (K::TokenVerification, code, reason, details_json),
            McpAuthError::Request {
                code,
                reason,
                details_json,
            } => (K::Request, code, reason, details_json),
        };
        ErrorInfo {
            kind,
            code,
            message: Some(reason),
            details_json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(audience: &[&str], claims: &str) -> AuthInfo {
        AuthInfo {
            token: "t".into(),
            issuer: "https://issuer.example.com".into(),
            client_id: None,
            subject: Some("u".into()),
            scopes: vec![],
            audience: audience.iter().map(|a| a.to_string()).collect(),
            expires_at: None,
            claims_json: claims.into(),
            jkt: None,
        }
    }

    #[test]
    fn audience_keeps_the_shape_of_the_claim() {
        assert_eq!(
            info(&["a"], "{}").to_core().audience,
            Some(Audience::One("a".into()))
        );
        assert_eq!(
            info(&["a"], r#"{"aud":["a"]}"#).to_core().audience,
            Some(Audience::Many(vec!["a".into()]))
        );
        assert_eq!(info(&[], "{}").to_core().audience, None);
    }

    #[test]
    fn unknown_algorithms_are_refused() {
        let policy = AuthPolicy {
            audience: None,
            required_scopes: vec![],
            show_error_details: false,
            leeway_seconds: 0.0,
            require_at_jwt: false,
            algorithms: Some(vec!["RS256".into(), "XX999".into()]),
            operations_json: None,
            accept_any_audience: false,
            dpop_json: None,
        };
        assert!(matches!(
            policy.jwt_options(),
            Err(McpAuthError::Config { .. })
        ));
    }
}
