//! Authorization-server metadata: well-known URLs, fetching, parsing, validation, messages.

use mcp_auth_core::metadata::{self, validate_server_metadata_json};
use mcp_auth_core::{error, ErrorKind};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::convert::{fetch_options, server_type};
use crate::errors::{invalid_arg, to_napi, FLAVOR};
use crate::on_core_runtime;

#[napi]
pub fn well_known_url(issuer: String, server_type_name: String) -> napi::Result<String> {
    metadata::well_known_url(&issuer, server_type(&server_type_name)?).map_err(to_napi)
}

/// GET the raw (snake_case) metadata document at `url`.
#[napi]
pub async fn fetch_metadata_json(url: String, options: Option<Value>) -> napi::Result<Value> {
    let opts = fetch_options(options.as_ref().unwrap_or(&Value::Null))?;
    on_core_runtime(async move { metadata::fetch_metadata_json(&url, &opts).await })
        .await?
        .map_err(to_napi)
}

/// Parses (possibly transpiled) metadata JSON, checking the issuer when one is expected;
/// returns the snake_case metadata.
#[napi]
pub fn parse_server_metadata(
    value: Value,
    server_type_name: String,
    expected_issuer: Option<String>,
) -> napi::Result<Value> {
    let config = metadata::finish(
        value,
        server_type(&server_type_name)?,
        expected_issuer.as_deref(),
    )
    .map_err(to_napi)?;
    Ok(config.metadata.to_json())
}

/// `{ isValid, errors, warnings, successes }` for snake_case metadata.
#[napi]
pub fn validate_server_metadata(value: Value) -> Value {
    serde_json::to_value(validate_server_metadata_json(&value, FLAVOR)).unwrap_or(Value::Null)
}

/// The upstream message of an error code (`kind`: auth_server, bearer_auth, token_verification).
#[napi]
pub fn error_description(kind: String, code: String) -> napi::Result<String> {
    let k =
        ErrorKind::parse(&kind).ok_or_else(|| invalid_arg(format!("Unknown kind `{kind}`.")))?;
    Ok(error::description(k, &code, FLAVOR).to_string())
}

/// The issuer's discovery URLs in the order they are tried.
#[napi]
pub fn discovery_urls(issuer: String) -> napi::Result<Value> {
    let urls = metadata::discovery_urls(&issuer).map_err(to_napi)?;
    Ok(urls
        .into_iter()
        .map(|(u, t)| json!({ "url": u, "type": t.as_str() }))
        .collect())
}

/// The raw (snake_case) document of an issuer, for a host-side `transpileData` to rewrite before
/// parsing: exactly `type`'s well-known URL, or the MCP order when no type is given.
/// `{ raw, type, url }`.
#[napi]
pub async fn discover_metadata_json(
    issuer: String,
    server_type_name: Option<String>,
    options: Option<Value>,
) -> napi::Result<Value> {
    let ty = server_type_name.as_deref().map(server_type).transpose()?;
    let opts = fetch_options(options.as_ref().unwrap_or(&Value::Null))?;
    let (raw, ty, url) =
        on_core_runtime(async move { metadata::discover_metadata_json(&issuer, ty, &opts).await })
            .await?
            .map_err(to_napi)?;
    Ok(json!({ "raw": raw, "type": ty.as_str(), "url": url }))
}

/// A discovery config's metadata through the process-wide lazy-discovery cache that token
/// verification uses too, so serving it and verifying tokens share one fetch.
/// `{ metadata: <snake_case>, type, warnings: [{ code, description }] }`.
#[napi]
pub async fn discovered_server_config(
    issuer: String,
    server_type_name: Option<String>,
) -> napi::Result<Value> {
    let ty = server_type_name.as_deref().map(server_type).transpose()?;
    let found = on_core_runtime(async move {
        mcp_auth_core::runtime::globals()
            .metadata
            .get(
                &issuer,
                ty,
                mcp_auth_core::metadata::cache::DEFAULT_TTL,
                &mcp_auth_core::FetchOptions {
                    flavor: FLAVOR,
                    ..mcp_auth_core::FetchOptions::default()
                },
            )
            .await
    })
    .await?
    .map_err(to_napi)?;
    Ok(json!({
        "metadata": found.config.metadata.to_json(),
        "type": found.config.server_type.as_str(),
        "warnings": found.validation.warnings,
    }))
}

/// The provider checker's outcome as core reports it (snake_case keys: `exit_code`, `text`, ...).
/// Never rejects for a provider that cannot be reached: that is exit code 2 with the reason in
/// `text`.
#[napi]
pub async fn check_provider(
    target: String,
    server_type_name: Option<String>,
) -> napi::Result<Value> {
    let ty = server_type_name.as_deref().map(server_type).transpose()?;
    let outcome = on_core_runtime(async move {
        // The checker prints the same text in every package, so it keeps core's wording.
        metadata::check_provider(&target, ty, FLAVOR, &metadata::FetchOptions::default()).await
    })
    .await?;
    Ok(outcome.to_json(FLAVOR))
}
