//! Which audience a protected route demands, and how a token's `aud` is compared with it.
//!
//! The MCP authorization specification says a server MUST validate that an access token was
//! issued for it (RFC 8707 resource indicators). In resource-server mode the resource identifier
//! is known, so it is the expected audience unless the route names another one; turning the check
//! off takes an explicit option. The deprecated authorization-server mode knows no resource and
//! keeps checking only an audience that is given.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::jwt::Audience;

/// How the server was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMode {
    /// `protected_resources` / `protectedResources`: RFC 9728 resources.
    Resource,
    /// The deprecated `server` / authorization-server mode.
    Legacy,
}

/// The audience a route demands, as [`route_audience`] decided it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteAudience {
    /// `None`: tokens for any audience pass.
    pub expected: Option<String>,
    /// The expected audience is the resource identifier because none was configured; a refusal
    /// then names it, so an operator whose authorization server omits `aud` knows what to set.
    pub from_resource: bool,
    /// What to log once, at warning level, when tokens for any audience pass.
    pub warning: Option<String>,
}

/// Decides a route's audience: the configured `audience`; else, in resource mode, the resource
/// identifier; never one when `accept_any` turns the check off (which contradicts an explicit
/// audience: a configuration error).
pub fn route_audience(
    mode: RouteMode,
    resource: Option<&str>,
    audience: Option<&str>,
    accept_any: bool,
) -> Result<RouteAudience> {
    let audience = audience.filter(|a| !a.is_empty());
    let resource = resource.filter(|r| !r.is_empty());
    let subject = match resource {
        Some(r) => format!("resource `{r}`"),
        None => "this server".to_string(),
    };
    match (audience, accept_any) {
        (Some(_), true) => Err(Error::invalid_server_config(
            "An `audience` is given and the audience check is turned off: choose one.",
        )),
        (Some(a), false) => Ok(RouteAudience {
            expected: Some(a.to_string()),
            ..RouteAudience::default()
        }),
        (None, true) => Ok(RouteAudience {
            warning: Some(format!(
                "Bearer auth for {subject} accepts tokens issued for any audience (the audience check is turned off), so tokens meant for other resources are accepted (RFC 8707)."
            )),
            ..RouteAudience::default()
        }),
        (None, false) => match (mode, resource) {
            (RouteMode::Resource, Some(r)) => Ok(RouteAudience {
                expected: Some(r.to_string()),
                from_resource: true,
                warning: None,
            }),
            _ => Ok(RouteAudience {
                warning: Some(format!(
                    "Bearer auth for {subject} has no `audience`, so tokens issued for other resources are accepted. Set `audience` to the resource identifier (RFC 8707)."
                )),
                ..RouteAudience::default()
            }),
        },
    }
}

/// The form audiences are compared in: an absolute URI's scheme and host in lower case and one
/// trailing `/` dropped (the MCP specification's canonical resource URI); any other value as is.
pub fn canonical(value: &str) -> Cow<'_, str> {
    let Some(colon) = value.find("://") else {
        return Cow::Borrowed(value);
    };
    let scheme = &value[..colon];
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Cow::Borrowed(value);
    }
    let rest = &value[colon + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Userinfo keeps its case; only the host (and port) after the last `@` is case-insensitive.
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    let (tail, slash_dropped) = match tail.strip_suffix('/') {
        Some(t) => (t, true),
        None => (tail, false),
    };
    let lower = |s: &str| !s.bytes().any(|b| b.is_ascii_uppercase());
    if !slash_dropped && lower(scheme) && lower(host) {
        return Cow::Borrowed(value); // already canonical
    }
    let out = format!(
        "{}://{userinfo}{}{tail}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    );
    if out == value {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(out)
    }
}

/// Whether a token's `aud` names `expected`, compared in canonical form.
pub fn audience_matches(expected: &str, aud: &Audience) -> bool {
    let values = match aud {
        Audience::One(a) => std::slice::from_ref(a),
        Audience::Many(list) => list.as_slice(),
    };
    // Equal values have equal canonical forms: most tokens name the audience exactly as
    // configured, which needs no canonical form at all.
    if values.iter().any(|a| a == expected) {
        return true;
    }
    let want = canonical(expected);
    values.iter().any(|a| canonical(a) == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical("HTTPS://MCP.Example.COM/Mcp/"),
            "https://mcp.example.com/Mcp"
        );
        assert_eq!(canonical("https://a.example.com/"), "https://a.example.com");
        assert_eq!(canonical("https://a.example.com"), "https://a.example.com");
        assert_eq!(
            canonical("https://a.example.com//"),
            "https://a.example.com/"
        );
        assert_eq!(
            canonical("https://User@A.com/x?Q=1"),
            "https://User@a.com/x?Q=1"
        );
        assert_eq!(canonical("client-1"), "client-1");
        assert_eq!(canonical("api://My-App"), "api://my-app");
        assert_eq!(canonical("urn:example:Thing/"), "urn:example:Thing/");
    }

    #[test]
    fn audiences_match_exactly_or_in_canonical_form() {
        let one = |a: &str| Audience::One(a.to_string());
        let r = "https://mcp.example.com/mcp";
        assert!(audience_matches(r, &one(r)));
        assert!(audience_matches(r, &one("HTTPS://MCP.example.com/mcp/")));
        assert!(audience_matches("HTTPS://MCP.example.com/mcp/", &one(r)));
        assert!(!audience_matches(r, &one("https://mcp.example.com/MCP")));
        assert!(!audience_matches(r, &one("https://mcp.example.com/mcp/x")));
        let many = Audience::Many(vec![
            "client-1".into(),
            "https://MCP.example.com/mcp".into(),
        ]);
        assert!(audience_matches(r, &many));
        assert!(!audience_matches("client-2", &many));
    }

    #[test]
    fn the_resource_is_the_default_only_in_resource_mode() {
        let r = "https://mcp.example.com/mcp";
        let d = route_audience(RouteMode::Resource, Some(r), None, false).unwrap();
        assert_eq!(d.expected.as_deref(), Some(r));
        assert!(d.from_resource && d.warning.is_none());
        let l = route_audience(RouteMode::Legacy, Some(r), None, false).unwrap();
        assert!(l.expected.is_none() && l.warning.is_some());
        let off = route_audience(RouteMode::Resource, Some(r), None, true).unwrap();
        assert!(off.expected.is_none() && off.warning.unwrap().contains(r));
        let given = route_audience(RouteMode::Resource, Some(r), Some("x"), false).unwrap();
        assert_eq!(given.expected.as_deref(), Some("x"));
        assert!(!given.from_resource);
        assert!(route_audience(RouteMode::Resource, Some(r), Some("x"), true).is_err());
    }
}
