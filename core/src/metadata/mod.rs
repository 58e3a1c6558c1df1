//! Authorization-server metadata: model, well-known URLs, fetching, validation, caching.

pub mod cache;
pub mod check;
pub mod fetch;
pub mod model;
pub mod validate;
pub mod well_known;

pub use check::{check_provider, CheckOutcome, ProviderCheck};
pub use fetch::{
    check_issuer, discover_metadata_json, fetch_metadata_json, fetch_server_config,
    fetch_server_config_by_well_known_url, finish, FetchOptions,
};
pub use model::{AuthServerType, AuthorizationServerMetadata, ServerConfig, METADATA_FIELDS};
pub use validate::{
    validate_server_config, validate_server_metadata_json, Finding, ValidationResult,
};
pub use well_known::{discovery_urls, well_known_url, OAUTH_PATH, OIDC_PATH};
