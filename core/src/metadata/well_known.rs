//! Where an issuer publishes its metadata.
//!
//! `oauth` inserts the well-known segment between host and issuer path (RFC 8414 §3.1);
//! `oidc` appends it to the issuer path (OpenID Connect Discovery §4). Repeated and trailing
//! slashes in the issuer path collapse; scheme, host, port, query and fragment are kept.

use url::Url;

use super::model::AuthServerType;
use crate::error::{codes, Error, Result};

pub const OAUTH_PATH: &str = "/.well-known/oauth-authorization-server";
pub const OIDC_PATH: &str = "/.well-known/openid-configuration";

pub fn parse_issuer(issuer: &str) -> Result<Url> {
    let bad = |why: &str| {
        Error::config(
            codes::FETCH_SERVER_CONFIG_ERROR,
            format!("Invalid issuer URL `{issuer}`: {why}"),
        )
    };
    let url = Url::parse(issuer).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("the scheme must be https or http"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    Ok(url)
}

fn segments(url: &Url) -> Vec<&str> {
    url.path()
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// The well-known metadata URL of `issuer` for `server_type`.
pub fn well_known_url(issuer: &str, server_type: AuthServerType) -> Result<String> {
    let mut url = parse_issuer(issuer)?;
    let segs = segments(&url).join("/");
    let path = match (server_type, segs.is_empty()) {
        (AuthServerType::OAuth, true) => OAUTH_PATH.to_string(),
        (AuthServerType::OAuth, false) => format!("{OAUTH_PATH}/{segs}"),
        (AuthServerType::Oidc, true) => OIDC_PATH.to_string(),
        (AuthServerType::Oidc, false) => format!("/{segs}{OIDC_PATH}"),
    };
    url.set_path(&path);
    Ok(url.to_string())
}

/// The URLs to try, in order, when the server type is not known (MCP 2025-11-25):
/// OAuth path-inserted, OIDC path-inserted, OIDC path-appended (the last two coincide
/// for an issuer without a path, so it is listed once).
pub fn discovery_urls(issuer: &str) -> Result<Vec<(String, AuthServerType)>> {
    let mut url = parse_issuer(issuer)?;
    let segs = segments(&url).join("/");
    let mut out = vec![(
        well_known_url(issuer, AuthServerType::OAuth)?,
        AuthServerType::OAuth,
    )];
    if !segs.is_empty() {
        url.set_path(&format!("{OIDC_PATH}/{segs}"));
        out.push((url.to_string(), AuthServerType::Oidc));
    }
    out.push((
        well_known_url(issuer, AuthServerType::Oidc)?,
        AuthServerType::Oidc,
    ));
    Ok(out)
}
