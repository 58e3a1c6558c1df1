//! RFC 9728 Protected Resource Metadata: the document and where it is served.

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Flavor, Result};

pub const RESOURCE_METADATA_BASE_PATH: &str = "/.well-known/oauth-protected-resource";

/// Why a resource identifier cannot name a protected resource (RFC 9728 §1.2, RFC 8707 §2).
fn invalid_resource(resource: &str, why: &str) -> Error {
    Error::invalid_server_config(format!(
        "Invalid resource identifier URI: {resource} ({why})"
    ))
}

/// Parses a resource identifier: absolute, with scheme and host, without a fragment.
pub fn parse_resource(resource: &str) -> Result<Url> {
    let url = Url::parse(resource).map_err(|e| invalid_resource(resource, &e.to_string()))?;
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid_resource(resource, "it has no host"));
    }
    if url.fragment().is_some() {
        return Err(invalid_resource(resource, "it must not contain a fragment"));
    }
    Ok(url)
}

/// The PRM URL of `resource`: `/.well-known/oauth-protected-resource` inserted between the
/// origin and the resource path (RFC 9728 §3.1); a root path adds nothing, a trailing slash
/// is kept; query and userinfo are not part of it.
pub fn resource_metadata_url(resource: &str) -> Result<String> {
    let url = parse_resource(resource)?;
    let path = resource_metadata_path_of(&url);
    let mut out = url.clone();
    out.set_path(&path);
    out.set_query(None);
    let _ = out.set_username("");
    let _ = out.set_password(None);
    Ok(out.to_string())
}

fn resource_metadata_path_of(url: &Url) -> String {
    match url.path() {
        "" | "/" => RESOURCE_METADATA_BASE_PATH.to_string(),
        p => format!("{RESOURCE_METADATA_BASE_PATH}{p}"),
    }
}

/// The route path a server mounts the PRM of `resource` at.
pub fn resource_metadata_path(resource: &str) -> Result<String> {
    Ok(resource_metadata_path_of(&parse_resource(resource)?))
}

/// The PRM document: the configured fields (snake_case, in order; `null`s dropped) with
/// `authorization_servers` replaced by the issuer strings, last, when there are any.
pub fn protected_resource_metadata(
    fields: &Map<String, Value>,
    issuers: &[String],
) -> Map<String, Value> {
    let mut out: Map<String, Value> = fields
        .iter()
        .filter(|(k, v)| k.as_str() != "authorization_servers" && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !issuers.is_empty() {
        out.insert("authorization_servers".into(), issuers.to_vec().into());
    }
    out
}

/// `fields` with the DPoP members of RFC 9728 §2 (`dpop_signing_alg_values_supported`,
/// `dpop_bound_access_tokens_required`) as `dpop` says, replacing configured ones, and without
/// them when DPoP is off; for [`protected_resource_metadata`].
pub fn with_dpop_fields(
    fields: &Map<String, Value>,
    dpop: &crate::dpop::Dpop,
) -> Map<String, Value> {
    let mut out: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "dpop_signing_alg_values_supported" | "dpop_bound_access_tokens_required"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(dpop.metadata_fields());
    out
}

/// Upstream's configuration checks: no resource twice, no issuer twice within a resource.
pub fn validate_resources(resources: &[(&str, Vec<&str>)], flavor: Flavor) -> Result<()> {
    let q = |s: &str| match flavor {
        Flavor::Python => format!("'{s}'"),
        Flavor::Node => format!("`{s}`"),
    };
    let mut seen = std::collections::HashSet::new();
    for (resource, issuers) in resources {
        if !seen.insert(*resource) {
            return Err(Error::invalid_server_config(format!(
                "The resource metadata ({}) is duplicated.",
                q(resource)
            )));
        }
        let mut seen_iss = std::collections::HashSet::new();
        for iss in issuers {
            if !seen_iss.insert(*iss) {
                return Err(Error::invalid_server_config(format!(
                    "The authorization server ({}) for resource {} is duplicated.",
                    q(iss),
                    q(resource)
                )));
            }
        }
    }
    Ok(())
}
