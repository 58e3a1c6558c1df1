//! Fetching authorization-server metadata.

use std::time::Duration;

use serde_json::Value;

use super::model::{AuthServerType, AuthorizationServerMetadata, ServerConfig};
use super::well_known::{discovery_urls, well_known_url};
use crate::error::{codes, Error, Flavor, Result};
use crate::http::{self, FetchError};

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Whole-exchange timeout of one GET.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_bytes: usize,
    /// RFC 8414 §3.3: the fetched `issuer` must equal the issuer discovery started from.
    pub check_issuer: bool,
    pub headers: Vec<(String, String)>,
    /// How long cached metadata of a discovered server keeps serving past its TTL while
    /// refreshes fail.
    pub max_stale: Duration,
    /// Whose wording fetch failures use.
    pub flavor: Flavor,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(10),
            max_bytes: 1024 * 1024,
            check_issuer: true,
            headers: vec![],
            max_stale: crate::jwks::DEFAULT_MAX_STALE,
            flavor: Flavor::default(),
        }
    }
}

fn fetch_error(url: &str, e: &FetchError, flavor: Flavor) -> Error {
    // Upstream's Node package words an HTTP failure with the status text alone.
    let why = match (e, flavor) {
        (FetchError::Status(_, reason), Flavor::Node) if !reason.is_empty() => reason.clone(),
        _ => e.to_string(),
    };
    Error::config(
        codes::FETCH_SERVER_CONFIG_ERROR,
        format!("Failed to fetch server config from {url}: {why}"),
    )
    .with_cause(e.to_string())
}

/// GET the raw metadata JSON at `url` (before any transpiling), errors wrapped as
/// `fetch_server_config_error`.
pub async fn fetch_metadata_json(url: &str, opts: &FetchOptions) -> Result<Value> {
    let g = crate::runtime::globals();
    http::get_json(&g.http, url, &opts.headers, opts.timeout, opts.max_bytes)
        .await
        .map(|r| r.body)
        .map_err(|e| fetch_error(url, &e, opts.flavor))
}

/// RFC 8414 §3.3 / OIDC Discovery §4.3: metadata is only usable for the issuer it names.
pub fn check_issuer(expected: &str, metadata: &AuthorizationServerMetadata) -> Result<()> {
    if metadata.issuer == expected {
        return Ok(());
    }
    Err(Error::auth_server(codes::INVALID_SERVER_METADATA)
        .with_error_description(format!(
            "The issuer in the fetched metadata (`{}`) does not match the issuer used to fetch it (`{expected}`).",
            metadata.issuer
        ))
        .with_expected_actual(expected, metadata.issuer.as_str()))
}

/// Parse fetched (and possibly transpiled) JSON into a config, checking the issuer when asked.
pub fn finish(
    value: Value,
    server_type: AuthServerType,
    expected_issuer: Option<&str>,
) -> Result<ServerConfig> {
    let metadata = AuthorizationServerMetadata::from_json(value)?;
    if let Some(expected) = expected_issuer {
        check_issuer(expected, &metadata)?;
    }
    Ok(ServerConfig {
        metadata,
        server_type,
    })
}

pub type Transpile<'a> = &'a (dyn Fn(Value) -> Result<Value> + Send + Sync);

/// Fetch from a known metadata URL.
pub async fn fetch_server_config_by_well_known_url(
    url: &str,
    server_type: AuthServerType,
    transpile: Option<Transpile<'_>>,
    opts: &FetchOptions,
) -> Result<ServerConfig> {
    let raw = fetch_metadata_json(url, opts).await?;
    let data = match transpile {
        Some(t) => t(raw)?,
        None => raw,
    };
    finish(data, server_type, None)
}

/// The raw metadata document of `issuer` (before any transpiling), the type that answered and
/// the URL it came from. With a type, exactly that well-known URL is used; without one, the MCP
/// 2025-11-25 order is tried, and only "not here" (4xx) moves on to the next candidate.
pub async fn discover_metadata_json(
    issuer: &str,
    server_type: Option<AuthServerType>,
    opts: &FetchOptions,
) -> Result<(Value, AuthServerType, String)> {
    let candidates = match server_type {
        Some(t) => vec![(well_known_url(issuer, t)?, t)],
        None => discovery_urls(issuer)?,
    };
    let g = crate::runtime::globals();
    let mut missed: Vec<String> = Vec::new();
    let n = candidates.len();
    for (i, (url, t)) in candidates.into_iter().enumerate() {
        match http::get_json(&g.http, &url, &opts.headers, opts.timeout, opts.max_bytes).await {
            Ok(r) => return Ok((r.body, t, url)),
            Err(e @ FetchError::Status(400..=499, _)) if i + 1 < n => {
                missed.push(format!("{url} ({e})"));
            }
            Err(e) if missed.is_empty() => return Err(fetch_error(&url, &e, opts.flavor)),
            Err(e) => {
                // Name every URL tried, so a wrong issuer is easy to spot.
                let mut err = fetch_error(&url, &e, opts.flavor);
                let msg = format!(
                    "{} (also tried {})",
                    err.explicit_message().unwrap_or_default(),
                    missed.join(", ")
                );
                err = err.with_message(msg);
                return Err(err);
            }
        }
    }
    Err(Error::config(
        codes::FETCH_SERVER_CONFIG_ERROR,
        "No metadata URL to try.",
    ))
}

/// Fetch the metadata of `issuer`. With a type, exactly that well-known URL is used; without
/// one, the MCP 2025-11-25 order is tried and the config says which type answered.
pub async fn fetch_server_config(
    issuer: &str,
    server_type: Option<AuthServerType>,
    transpile: Option<Transpile<'_>>,
    opts: &FetchOptions,
) -> Result<ServerConfig> {
    let (raw, t, _) = discover_metadata_json(issuer, server_type, opts).await?;
    let data = match transpile {
        Some(f) => f(raw)?,
        None => raw,
    };
    finish(data, t, opts.check_issuer.then_some(issuer))
}
