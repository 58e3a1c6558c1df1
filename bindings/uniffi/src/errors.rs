//! Core errors as typed exceptions, and host-side failures back into core errors.

use mcp_auth_core::{Details, Error, ErrorKind as CoreKind};
use serde_json::{Map, Value};

use crate::FLAVOR;

/// The families of failures; the first four are the Python and Node packages' error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    /// The authorization server or its configuration (answered 500 `server_error`).
    AuthServer,
    /// mcp-auth's own configuration.
    Config,
    /// The request's `Authorization` header or the issuer/audience/scope policy (401/403).
    BearerAuth,
    /// The token itself (401).
    TokenVerification,
    /// A request to an MCP endpoint that per-operation rules cannot classify (400/413/415 with a
    /// JSON-RPC error body): always a rejection to answer, never thrown.
    Request,
}

impl From<CoreKind> for ErrorKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::AuthServer => ErrorKind::AuthServer,
            CoreKind::Config => ErrorKind::Config,
            CoreKind::BearerAuth => ErrorKind::BearerAuth,
            CoreKind::TokenVerification => ErrorKind::TokenVerification,
            CoreKind::Request => ErrorKind::Request,
        }
    }
}

impl From<ErrorKind> for CoreKind {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::AuthServer => CoreKind::AuthServer,
            ErrorKind::Config => CoreKind::Config,
            ErrorKind::BearerAuth => CoreKind::BearerAuth,
            ErrorKind::TokenVerification => CoreKind::TokenVerification,
            ErrorKind::Request => CoreKind::Request,
        }
    }
}

/// A failure as data: what a host raises in a custom verifier and what a rejection carries.
/// `details_json` is a JSON object with any of `cause`, `uri`, `missing_scopes`, `expected`,
/// `actual` (snake_case, as response bodies show them).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub code: String,
    /// The message a user sees; `None` in input means the package's message for `code`.
    pub message: Option<String>,
    pub details_json: String,
}

impl ErrorInfo {
    pub fn from_core(e: &Error) -> Self {
        ErrorInfo {
            kind: e.kind().into(),
            code: e.code().to_string(),
            message: Some(e.message(FLAVOR)),
            details_json: e.details().to_json().to_string(),
        }
    }

    pub fn to_core(&self) -> Error {
        let mut e = Error::new(self.kind.into(), self.code.as_str());
        if let Some(m) = &self.message {
            e = e.with_message(m.as_str());
        }
        let d: Map<String, Value> = serde_json::from_str(&self.details_json).unwrap_or_default();
        e.with_details(Details::from_json(&Value::Object(d)))
    }
}

/// An mcp-auth failure thrown to the host: one variant per kind, each with the upstream code,
/// the message in the Node package's wording and the details as a JSON object.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum McpAuthError {
    #[error("{code}: {reason}")]
    AuthServer {
        code: String,
        reason: String,
        details_json: String,
    },
    #[error("{code}: {reason}")]
    Config {
        code: String,
        reason: String,
        details_json: String,
    },
    #[error("{code}: {reason}")]
    BearerAuth {
        code: String,
        reason: String,
        details_json: String,
    },
    #[error("{code}: {reason}")]
    TokenVerification {
        code: String,
        reason: String,
        details_json: String,
    },
    /// Only so that every core error has a variant: request errors reach hosts as rejections.
    #[error("{code}: {reason}")]
    Request {
        code: String,
        reason: String,
        details_json: String,
    },
}

impl From<Error> for McpAuthError {
    fn from(e: Error) -> Self {
        let code = e.code().to_string();
        let reason = e.message(FLAVOR);
        let details_json = e.details().to_json().to_string();
        match e.kind() {
            CoreKind::AuthServer => McpAuthError::AuthServer {
                code,
                reason,
                details_json,
            },
            CoreKind::Config => McpAuthError::Config {
                code,
                reason,
                details_json,
            },
            CoreKind::BearerAuth => McpAuthError::BearerAuth {
                code,
                reason,
                details_json,
            },
            CoreKind::TokenVerification => McpAuthError::TokenVerification {
                code,
                reason,
                details_json,
            },
            CoreKind::Request => McpAuthError::Request {
                code,
                reason,
                details_json,
            },
        }
    }
}

/// A failure of the binding itself (a lost task, malformed JSON from the host).
pub(crate) fn internal(message: String) -> McpAuthError {
    Error::config(mcp_auth_core::INTERNAL_ERROR, message).into()
}

/// A config error for a malformed argument from the host.
pub(crate) fn invalid_argument(message: impl Into<String>) -> McpAuthError {
    Error::config("invalid_argument", message).into()
}

/// The message the packages use for a code of a kind.
#[uniffi::export]
pub fn error_description(kind: ErrorKind, code: String) -> String {
    mcp_auth_core::error::description(kind.into(), &code, FLAVOR).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_info_round_trips_through_core() {
        let e = Error::bearer(mcp_auth_core::codes::MISSING_REQUIRED_SCOPES)
            .with_missing_scopes(vec!["write".into()]);
        let info = ErrorInfo::from_core(&e);
        assert_eq!(info.kind, ErrorKind::BearerAuth);
        assert_eq!(info.details_json, r#"{"missing_scopes":["write"]}"#);
        let back = info.to_core();
        assert_eq!(back.code(), e.code());
        assert_eq!(back.details(), e.details());
        assert_eq!(back.message(FLAVOR), e.message(FLAVOR));
    }

    #[test]
    fn a_host_error_without_message_gets_the_package_message() {
        let info = ErrorInfo {
            kind: ErrorKind::TokenVerification,
            code: "token_verification_failed".into(),
            message: None,
            details_json: "{}".into(),
        };
        assert_eq!(
            info.to_core().message(FLAVOR),
            "Token verification failed due to an error."
        );
    }
}
