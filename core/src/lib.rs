//! mcp-auth core: everything an MCP server needs to act as an OAuth 2.1 resource server,
//! written once and exposed to Python and Node by thin bindings.
//!
//! - [`metadata`]: authorization-server metadata (RFC 8414 / OIDC Discovery): model, well-known
//!   URLs, fetching, validation against MCP's needs, lazy discovery cache.
//! - [`resource`]: RFC 9728 protected-resource metadata and where it is served.
//! - [`keys`], [`jwks`], [`jwt`], [`verifier`]: JWT access-token verification with cached keys.
//! - [`introspection`]: RFC 7662 introspection for opaque access tokens.
//! - [`bearer`], [`authenticator`]: the `Authorization` header, the issuer/audience/scope policy
//!   and the 401/403 answers with RFC 6750 challenges.
//! - [`dpop`]: DPoP (RFC 9449): proofs, key binding, replay store, nonces, DPoP challenges.
//! - [`operations`], [`scopes`]: per-operation rules: what an MCP request asks to do (tools,
//!   resources, prompts, methods), the scope hierarchy, and the one 403 challenge for a shortfall.
//! - [`runtime`]: the process-wide tokio runtime, HTTP client and caches (fork-safe).

pub mod audience;
pub mod authenticator;
pub mod bearer;
mod by_name;
pub mod dpop;
pub mod duration;
pub mod error;
mod guard;
pub mod http;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod metadata;
pub mod notice;
pub mod operations;
pub mod resource;
pub mod runtime;
pub mod scopes;
pub mod verified;
pub mod verifier;

pub use audience::{route_audience, RouteAudience, RouteMode};
pub use authenticator::{Accepted, Authenticator, Mode, Refused, RequestAuth};
pub use bearer::{
    parse_authorization, parse_credentials, AuthResponse, Credentials, Policy, Scheme,
};
pub use dpop::{Dpop, DpopMode, DpopOptions};
pub use error::{codes, Details, Error, ErrorKind, Flavor, Result};
pub use guard::INTERNAL_ERROR;
pub use introspection::{ClientAuthMethod, IntrospectionOptions, IntrospectionVerifier};
pub use jwks::{JwksOptions, KeySource};
pub use jwt::{Audience, AuthInfo, ClaimRules, JwtOptions};
pub use keys::{Alg, Key, KeySet};
pub use metadata::{AuthServerType, AuthorizationServerMetadata, FetchOptions, ServerConfig};
pub use operations::{
    McpRequest, Operation, OperationConfig, OperationRules, OperationRulesConfig,
};
pub use scopes::ScopeHierarchy;
pub use verifier::{AuthServer, JwtVerifier, TokenVerifier, VerifierOptions, Verify};
