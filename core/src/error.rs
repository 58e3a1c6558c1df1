//! The one error type of the core.
//!
//! Every failure carries the upstream `code` string that applications already match on, the
//! family it belongs to (which host-language exception class a binding raises) and structured
//! details. Messages come from the catalogs below so that both packages print exactly what
//! their upstream counterparts printed.

use serde_json::{Map, Value};
use std::fmt;

/// Which host-language exception family an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `MCPAuthAuthServerException` / `MCPAuthAuthServerError`
    AuthServer,
    /// `MCPAuthConfigException` / `MCPAuthConfigError` (free-form code, explicit message)
    Config,
    /// `MCPAuthBearerAuthException` / `MCPAuthBearerAuthError`
    BearerAuth,
    /// `MCPAuthTokenVerificationException` / `MCPAuthTokenVerificationError`
    TokenVerification,
    /// A request to an MCP endpoint that cannot be classified for per-operation rules
    /// (answered 400/413/415 with a JSON-RPC error body; never raised to users' code).
    Request,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AuthServer => "auth_server",
            ErrorKind::Config => "config",
            ErrorKind::BearerAuth => "bearer_auth",
            ErrorKind::TokenVerification => "token_verification",
            ErrorKind::Request => "request",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auth_server" => ErrorKind::AuthServer,
            "config" => ErrorKind::Config,
            "bearer_auth" => ErrorKind::BearerAuth,
            "token_verification" => ErrorKind::TokenVerification,
            "request" => ErrorKind::Request,
            _ => return None,
        })
    }
}

/// The two upstream packages word a few messages differently; each binding keeps its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flavor {
    #[default]
    Python,
    Node,
}

impl Flavor {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "python" => Some(Flavor::Python),
            "node" => Some(Flavor::Node),
            _ => None,
        }
    }
}

pub mod codes {
    pub const INVALID_SERVER_METADATA: &str = "invalid_server_metadata";
    pub const INVALID_SERVER_CONFIG: &str = "invalid_server_config";
    pub const MISSING_JWKS_URI: &str = "missing_jwks_uri";
    pub const MISSING_INTROSPECTION_ENDPOINT: &str = "missing_introspection_endpoint";

    pub const MISSING_AUTH_HEADER: &str = "missing_auth_header";
    pub const INVALID_AUTH_HEADER_FORMAT: &str = "invalid_auth_header_format";
    pub const MISSING_BEARER_TOKEN: &str = "missing_bearer_token";
    pub const INVALID_ISSUER: &str = "invalid_issuer";
    pub const INVALID_AUDIENCE: &str = "invalid_audience";
    pub const MISSING_REQUIRED_SCOPES: &str = "missing_required_scopes";
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// RFC 9449 §7.1: the `DPoP` proof is missing, malformed or does not fit the request.
    pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
    /// RFC 9449 §8-9: the proof must carry the nonce of the `DPoP-Nonce` header sent with it.
    pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
    /// A bearer token on a route that accepts only DPoP-bound tokens.
    pub const DPOP_REQUIRED: &str = "dpop_required";

    /// The DPoP replay store could not be asked (answered 503, the request is refused).
    pub const DPOP_REPLAY_STORE_UNAVAILABLE: &str = "dpop_replay_store_unavailable";
    /// The in-process DPoP replay store holds its maximum of live entries (answered 503).
    pub const DPOP_REPLAY_STORE_FULL: &str = "dpop_replay_store_full";

    pub const TOKEN_VERIFICATION_FAILED: &str = "token_verification_failed";

    pub const FETCH_SERVER_CONFIG_ERROR: &str = "fetch_server_config_error";
}

/// The description an upstream package prints for a code.
pub fn description(kind: ErrorKind, code: &str, flavor: Flavor) -> &'static str {
    use codes::*;
    match kind {
        ErrorKind::AuthServer => match code {
            INVALID_SERVER_METADATA => "The server metadata is invalid or malformed.",
            INVALID_SERVER_CONFIG => {
                "The server configuration does not match the MCP specification."
            }
            MISSING_JWKS_URI => {
                "The server metadata does not contain a JWKS URI, which is required for JWT verification."
            }
            MISSING_INTROSPECTION_ENDPOINT => {
                "The server metadata does not contain an introspection endpoint, which is required for token introspection."
            }
            _ => match flavor {
                Flavor::Python => "An exception occurred with the authorization server.",
                Flavor::Node => "An error occurred with the authorization server.",
            },
        },
        ErrorKind::BearerAuth => match code {
            MISSING_AUTH_HEADER => {
                "Missing `Authorization` header. Please provide a valid bearer token."
            }
            INVALID_AUTH_HEADER_FORMAT => {
                "Invalid `Authorization` header format. Expected \"Bearer <token>\"."
            }
            MISSING_BEARER_TOKEN => {
                "Missing bearer token in `Authorization` header. Please provide a valid token."
            }
            INVALID_ISSUER => "The token issuer does not match the expected issuer.",
            INVALID_AUDIENCE => "The token audience does not match the expected audience.",
            MISSING_REQUIRED_SCOPES => {
                "The token does not contain the necessary scopes for this request."
            }
            INVALID_TOKEN => "The provided token is not valid or has expired.",
            INVALID_DPOP_PROOF => "The DPoP proof is missing or invalid.",
            USE_DPOP_NONCE => {
                "The DPoP proof must carry the nonce the server provided in the `DPoP-Nonce` header."
            }
            DPOP_REQUIRED => {
                "This resource requires a DPoP-bound access token sent with the `DPoP` scheme and a DPoP proof."
            }
            _ => match flavor {
                Flavor::Python => "An exception occurred with the Bearer auth.",
                Flavor::Node => "An error occurred with the Bearer auth.",
            },
        },
        ErrorKind::TokenVerification => match code {
            INVALID_TOKEN => "The provided token is invalid or malformed.",
            TOKEN_VERIFICATION_FAILED => match flavor {
                Flavor::Python => {
                    "The token verification failed due to an error in the verification process."
                }
                Flavor::Node => "Token verification failed due to an error.",
            },
            _ => match flavor {
                Flavor::Python => "An exception occurred while verifying the token.",
                Flavor::Node => "An error occurred while verifying the token.",
            },
        },
        ErrorKind::Config | ErrorKind::Request => "",
    }
}

/// Most characters of attacker-controlled text a failure reason quotes.
pub const MAX_FRAGMENT_CHARS: usize = 64;
/// Most bytes of a failure reason as logged ([`Error::reason`]).
pub const MAX_REASON_BYTES: usize = 320;

/// Text from a request (an `alg`, a `kid`, a JSON key, a claim value) as a failure reason may
/// quote it: control characters dropped and at most [`MAX_FRAGMENT_CHARS`] characters, so one
/// token can neither forge log lines nor fill the log.
pub fn fragment(s: &str) -> String {
    let mut kept = s.chars().filter(|c| !c.is_control());
    let mut out: String = kept.by_ref().take(MAX_FRAGMENT_CHARS).collect();
    if kept.next().is_some() {
        out.push('…');
    }
    out
}

/// Structured details; mirrors upstream's `MCPAuthBearerAuthExceptionDetails` plus a free cause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    /// Free-form cause: a string or a JSON object such as `{"error_description": "..."}`.
    pub cause: Option<Value>,
    pub uri: Option<String>,
    pub missing_scopes: Option<Vec<String>>,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
    /// Every scope the request needs, for the `scope` of a 403 challenge when per-operation
    /// rules decided it (the route's required scopes otherwise). Not part of error bodies.
    pub challenge_scopes: Option<Vec<String>>,
}

impl Details {
    pub fn is_empty(&self) -> bool {
        self.cause.is_none()
            && self.uri.is_none()
            && self.missing_scopes.is_none()
            && self.expected.is_none()
            && self.actual.is_none()
    }

    /// JSON of the details with absent fields left out (snake_case, as bodies show them).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(c) = &self.cause {
            m.insert("cause".into(), c.clone());
        }
        if let Some(u) = &self.uri {
            m.insert("uri".into(), Value::String(u.clone()));
        }
        if let Some(s) = &self.missing_scopes {
            m.insert("missing_scopes".into(), s.clone().into());
        }
        if let Some(e) = &self.expected {
            m.insert("expected".into(), e.clone());
        }
        if let Some(a) = &self.actual {
            m.insert("actual".into(), a.clone());
        }
        Value::Object(m)
    }

    /// The inverse of [`Details::to_json`], for errors raised by host code; `missingScopes` is
    /// read too, as JavaScript hosts spell it. Absent, null or mistyped fields stay unset.
    pub fn from_json(v: &Value) -> Self {
        let get = |k: &str| v.get(k).filter(|x| !x.is_null()).cloned();
        Details {
            cause: get("cause"),
            uri: get("uri").and_then(|u| u.as_str().map(str::to_string)),
            missing_scopes: get("missing_scopes")
                .or_else(|| get("missingScopes"))
                .and_then(|s| {
                    s.as_array().map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                }),
            expected: get("expected"),
            actual: get("actual"),
            challenge_scopes: None,
        }
    }
}

/// An mcp-auth failure. Boxed so that `Result`s on the hot path stay one word wide.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    code: String,
    message: Option<String>,
    details: Details,
}

impl Error {
    pub fn new(kind: ErrorKind, code: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            code: code.into(),
            message: None,
            details: Details::default(),
        }))
    }

    pub fn auth_server(code: &str) -> Self {
        Self::new(ErrorKind::AuthServer, code)
    }
    pub fn bearer(code: &str) -> Self {
        Self::new(ErrorKind::BearerAuth, code)
    }
    pub fn token(code: &str) -> Self {
        Self::new(ErrorKind::TokenVerification, code)
    }
    /// A config error: free-form code and an explicit message.
    pub fn config(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, code).with_message(message)
    }

    /// `invalid_server_config` with `cause = {"error_description": ...}`, upstream's shape.
    pub fn invalid_server_config(description: impl Into<String>) -> Self {
        Self::auth_server(codes::INVALID_SERVER_CONFIG).with_error_description(description)
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.0.message = Some(message.into());
        self
    }
    pub fn with_cause(mut self, cause: impl Into<Value>) -> Self {
        self.0.details.cause = Some(cause.into());
        self
    }
    pub fn with_error_description(self, description: impl Into<String>) -> Self {
        let mut m = Map::new();
        m.insert(
            "error_description".into(),
            Value::String(description.into()),
        );
        self.with_cause(Value::Object(m))
    }
    pub fn with_expected_actual(
        mut self,
        expected: impl Into<Value>,
        actual: impl Into<Value>,
    ) -> Self {
        self.0.details.expected = Some(expected.into());
        self.0.details.actual = Some(actual.into());
        self
    }
    pub fn with_missing_scopes(mut self, scopes: Vec<String>) -> Self {
        self.0.details.missing_scopes = Some(scopes);
        self
    }
    pub fn with_challenge_scopes(mut self, scopes: Vec<String>) -> Self {
        self.0.details.challenge_scopes = Some(scopes);
        self
    }
    pub fn with_details(mut self, details: Details) -> Self {
        self.0.details = details;
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    pub fn code(&self) -> &str {
        &self.0.code
    }
    pub fn details(&self) -> &Details {
        &self.0.details
    }
    /// The explicit message, if any (config errors always have one).
    pub fn explicit_message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// The message a user sees, in a package's wording.
    pub fn message(&self, flavor: Flavor) -> String {
        match &self.0.message {
            Some(m) => m.clone(),
            None => description(self.0.kind, &self.0.code, flavor).to_string(),
        }
    }

    /// Why, for one log record: code, message and cause on one line, control characters
    /// dropped, at most [`MAX_REASON_BYTES`] bytes. Never the token.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        let mut out = String::with_capacity(full.len().min(MAX_REASON_BYTES));
        for c in full.chars().filter(|c| !c.is_control()) {
            if out.len() + c.len_utf8() > MAX_REASON_BYTES - '…'.len_utf8() {
                out.push('…');
                break;
            }
            out.push(c);
        }
        out
    }

    /// True for failures of the request's credentials (answered 401/403), false for failures
    /// of the server's own configuration or its authorization server (answered 500).
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::BearerAuth | ErrorKind::TokenVerification
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.message(Flavor::Python))?;
        if let Some(c) = &self.0.details.cause {
            match c {
                Value::String(s) => write!(f, " ({s})")?,
                Value::Object(m) => {
                    if let Some(Value::String(s)) = m.get("error_description") {
                        write!(f, " ({s})")?
                    } else {
                        write!(f, " ({c})")?
                    }
                }
                other => write!(f, " ({other})")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_and_reasons_stay_short_and_on_one_line() {
        assert_eq!(fragment("a\nb\u{1b}[31mc"), "ab[31mc");
        let long = "x".repeat(1000);
        assert_eq!(fragment(&long).chars().count(), MAX_FRAGMENT_CHARS + 1);
        let e = Error::token(codes::INVALID_TOKEN).with_cause(format!("{long}\n{long}"));
        let r = e.reason();
        assert!(r.len() <= MAX_REASON_BYTES && !r.contains('\n'), "{r}");
    }

    #[test]
    fn details_round_trip_through_json() {
        let d = Details {
            cause: Some(Value::String("why".into())),
            uri: Some("https://x".into()),
            missing_scopes: Some(vec!["a".into(), "b".into()]),
            expected: Some(Value::String("e".into())),
            actual: Some(Value::from(vec!["x"])),
            challenge_scopes: None,
        };
        assert_eq!(Details::from_json(&d.to_json()), d);
        let js = serde_json::json!({ "missingScopes": ["a"], "uri": null, "expected": null });
        assert_eq!(
            Details::from_json(&js),
            Details {
                missing_scopes: Some(vec!["a".into()]),
                ..Details::default()
            }
        );
        assert_eq!(Details::from_json(&Value::Null), Details::default());
    }
}
