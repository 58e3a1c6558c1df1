//! The bearer side of the wire: reading `Authorization`, the issuer/audience/scope policy, and
//! the status, JSON body and `WWW-Authenticate` challenge every failure is answered with.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{codes, Error, ErrorKind, Flavor, Result};
use crate::jwt::AuthInfo;
use crate::scopes::ScopeHierarchy;

/// Largest `Authorization` value looked at; anything longer is not a sane bearer token.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// A byte of a token68 (RFC 9110 §11.2) before its `=` padding. Comparisons, not a table, so
/// that the check over a whole token (every byte of every request) is vectorised.
#[inline(always)]
fn token68_byte(b: u8) -> bool {
    let lower = b | 0x20; // `A`-`Z` to `a`-`z`; no other byte lands in `a`-`z`
    lower.is_ascii_lowercase()
        || b.is_ascii_digit()
        || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=').as_bytes();
    // No early exit within a chunk: what lets the compiler vectorise the loop.
    !body.is_empty()
        && body
            .chunks(64)
            .all(|c| c.iter().fold(true, |ok, &b| ok & token68_byte(b)))
}

/// The authentication schemes of `Authorization` this library reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// RFC 6750.
    Bearer,
    /// RFC 9449 §7.1: a DPoP-bound access token, sent with a `DPoP` proof header.
    DPoP,
}

impl Scheme {
    /// The scheme's name as challenges spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::DPoP => "DPoP",
        }
    }

    fn parse(s: &str) -> Option<Scheme> {
        if s.eq_ignore_ascii_case("bearer") {
            Some(Scheme::Bearer)
        } else if s.eq_ignore_ascii_case("dpop") {
            Some(Scheme::DPoP)
        } else {
            None
        }
    }
}

/// An access token and the scheme it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub scheme: Scheme,
    pub token: &'a str,
}

/// The header trimmed and split into scheme and the rest, or the error for a missing or
/// oversized header.
fn split_authorization(header: Option<&str>) -> Result<(&str, &str)> {
    let h = match header {
        Some(h) if !h.trim().is_empty() => h.trim_matches(|c| c == ' ' || c == '\t'),
        _ => return Err(Error::bearer(codes::MISSING_AUTH_HEADER)),
    };
    if h.len() > MAX_HEADER_BYTES {
        return Err(
            Error::bearer(codes::INVALID_AUTH_HEADER_FORMAT).with_cause(format!(
                "The `Authorization` header is longer than {MAX_HEADER_BYTES} bytes."
            )),
        );
    }
    // Bytes, not chars: both separators are ASCII, and the token after them is long.
    Ok(match h.bytes().position(|b| b == b' ' || b == b'\t') {
        Some(i) => (&h[..i], h[i..].trim_start_matches([' ', '\t'])),
        None => (h, ""),
    })
}

fn token68(rest: &str) -> Result<&str> {
    if rest.is_empty() {
        return Err(Error::bearer(codes::MISSING_BEARER_TOKEN));
    }
    if !is_token68(rest) {
        return Err(Error::bearer(codes::INVALID_AUTH_HEADER_FORMAT)
            .with_cause("The bearer token is not a single token68 value."));
    }
    Ok(rest)
}

/// The bearer token of an `Authorization` header (RFC 6750 §2.1): scheme case-insensitive,
/// one or more spaces, one token68.
pub fn parse_authorization(header: Option<&str>) -> Result<&str> {
    let (scheme, rest) = split_authorization(header)?;
    if Scheme::parse(scheme) != Some(Scheme::Bearer) {
        return Err(Error::bearer(codes::INVALID_AUTH_HEADER_FORMAT)
            .with_cause("The `Authorization` scheme is not `Bearer`."));
    }
    token68(rest)
}

/// The token of an `Authorization` header in the `Bearer` (RFC 6750 §2.1) or `DPoP`
/// (RFC 9449 §7.1) scheme, with the same syntax rules and errors as [`parse_authorization`].
pub fn parse_credentials(header: Option<&str>) -> Result<Credentials<'_>> {
    let (scheme, rest) = split_authorization(header)?;
    let Some(scheme) = Scheme::parse(scheme) else {
        return Err(Error::bearer(codes::INVALID_AUTH_HEADER_FORMAT)
            .with_cause("The `Authorization` scheme is neither `Bearer` nor `DPoP`."));
    };
    Ok(Credentials {
        scheme,
        token: token68(rest)?,
    })
}

/// The scheme an `Authorization` header names, if it is one this library reads; for choosing
/// which challenge carries the error when the header itself is malformed.
pub fn scheme_of(header: Option<&str>) -> Option<Scheme> {
    let h = header?.trim_start_matches([' ', '\t']);
    let end = h.find([' ', '\t']).unwrap_or(h.len());
    Scheme::parse(&h[..end])
}

/// What a protected route demands and how it answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Issuers trusted for this route; `None` trusts whatever the verifier accepted.
    pub issuers: Option<Vec<String>>,
    /// The audience tokens must be issued for (compared in canonical form); `None` accepts any.
    /// [`crate::audience::route_audience`] decides it for a route.
    pub audience: Option<String>,
    /// `audience` is the resource identifier, taken because none was configured: refusals then
    /// say in their body what was expected (`expected_audience`).
    pub audience_from_resource: bool,
    pub required_scopes: Vec<String>,
    /// The PRM URL advertised in challenges (`resource_metadata`).
    pub resource_metadata: Option<String>,
    pub show_error_details: bool,
    pub flavor: Flavor,
    /// Broader scopes that imply narrower ones, for every scope check of this route.
    pub scope_hierarchy: Option<Arc<ScopeHierarchy>>,
}

impl Policy {
    /// Issuer, then audience, then every required scope, as upstream orders them.
    pub fn check(&self, info: &AuthInfo) -> Result<()> {
        self.check_identity(info)?;
        self.check_scopes(info)
    }

    /// The route's required scopes, through the scope hierarchy.
    pub fn check_scopes(&self, info: &AuthInfo) -> Result<()> {
        let missing = crate::scopes::missing(
            self.scope_hierarchy.as_deref(),
            &info.scopes,
            &self.required_scopes,
        );
        if !missing.is_empty() {
            return Err(Error::bearer(codes::MISSING_REQUIRED_SCOPES).with_missing_scopes(missing));
        }
        Ok(())
    }

    /// Issuer and audience: whether the token was issued for this route at all.
    pub fn check_identity(&self, info: &AuthInfo) -> Result<()> {
        if let Some(trusted) = self.issuers.as_ref().filter(|t| !t.contains(&info.issuer)) {
            let t: Vec<&str> = trusted.iter().map(String::as_str).collect();
            crate::verifier::check_trusted_issuer(&t, &info.issuer)?;
        }
        if let Some(aud) = self.audience.as_deref().filter(|a| !a.is_empty()) {
            let matches = info
                .audience
                .as_ref()
                .is_some_and(|a| crate::audience::audience_matches(aud, a));
            if !matches {
                return Err(Error::bearer(codes::INVALID_AUDIENCE).with_expected_actual(
                    aud,
                    info.audience
                        .as_ref()
                        .map(|a| a.to_json())
                        .unwrap_or(Value::Null),
                ));
            }
        }
        Ok(())
    }

    /// The answer to a failure (500 `server_error` for configuration and server failures).
    pub fn respond(&self, err: &Error) -> AuthResponse {
        respond(err, self)
    }

    /// Sets the audience as [`crate::audience::route_audience`] decided it.
    pub fn with_route_audience(mut self, a: &crate::audience::RouteAudience) -> Self {
        self.audience = a.expected.clone();
        self.audience_from_resource = a.from_resource && a.expected.is_some();
        self
    }
}

/// An HTTP answer to a request that failed authentication.
///
/// A host sends `status`, `body` (JSON), one `WWW-Authenticate` header line per element of
/// `challenges` (in order), and every pair of `headers`. `www_authenticate` is the same
/// challenges joined with `", "` into one value (RFC 9110 §11.6.1 allows a list), for hosts
/// that can set a header only once; with a single challenge the two are the same text.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthResponse {
    pub status: u16,
    pub body: Value,
    pub www_authenticate: Option<String>,
    /// Each challenge on its own (empty when `www_authenticate` is `None`).
    pub challenges: Vec<String>,
    /// Other response headers, such as `DPoP-Nonce` (RFC 9449 §8).
    pub headers: Vec<(String, String)>,
}

impl AuthResponse {
    pub fn body_string(&self) -> String {
        serde_json::to_string(&self.body).unwrap_or_else(|_| "{}".into())
    }
}

/// The JSON body of an error (snake_case), upstream's `to_json(show_cause)`.
pub fn error_body(err: &Error, show_cause: bool, flavor: Flavor) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("error".into(), Value::String(err.code().to_string()));
    m.insert(
        "error_description".into(),
        Value::String(err.message(flavor)),
    );
    let d = err.details();
    if show_cause {
        let cause = match err.kind() {
            ErrorKind::BearerAuth if !d.is_empty() => Some(d.to_json()),
            // Upstream's Node package carries why a token failed as `{ cause: "..." }`.
            ErrorKind::TokenVerification if flavor == Flavor::Node => {
                d.cause.clone().map(|c| match c {
                    Value::String(_) => {
                        let mut m = Map::new();
                        m.insert("cause".into(), c);
                        Value::Object(m)
                    }
                    other => other,
                })
            }
            _ => d.cause.clone(),
        };
        if let Some(c) = cause {
            m.insert("cause".into(), c);
        }
    }
    if err.kind() == ErrorKind::BearerAuth {
        if let Some(u) = &d.uri {
            m.insert("error_uri".into(), Value::String(u.clone()));
        }
        if let Some(s) = &d.missing_scopes {
            m.insert("missing_scopes".into(), s.clone().into());
        }
    }
    m
}

/// RFC 6750's (or RFC 9449's) code for a failure; `None` when the request carried no
/// credentials the route accepts (RFC 6750 §3.1: no error code then).
fn challenge_code(err: &Error) -> Option<&'static str> {
    match err.code() {
        codes::MISSING_AUTH_HEADER | codes::DPOP_REQUIRED => None,
        codes::INVALID_DPOP_PROOF => Some("invalid_dpop_proof"),
        codes::USE_DPOP_NONCE => Some("use_dpop_nonce"),
        codes::INVALID_AUTH_HEADER_FORMAT | codes::MISSING_BEARER_TOKEN => Some("invalid_request"),
        codes::MISSING_REQUIRED_SCOPES => Some("insufficient_scope"),
        _ => Some("invalid_token"),
    }
}

/// `error_description` may only hold %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3).
fn description_value(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '"' => Some('\''),
            '\\' => Some('/'),
            ' '..='~' => Some(c),
            _ => None,
        })
        .take(512)
        .collect()
}

/// An RFC 9110 quoted-string body: `"` and `\` escaped, controls dropped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Builds `Bearer k="v", ...` from parameters in order.
pub fn format_challenge(params: &[(&str, String)]) -> String {
    format_scheme_challenge(Scheme::Bearer, params)
}

/// Builds `<scheme> k="v", ...` from parameters in order.
pub fn format_scheme_challenge(scheme: Scheme, params: &[(&str, String)]) -> String {
    if params.is_empty() {
        return scheme.as_str().into();
    }
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", quoted(v)))
        .collect();
    format!("{} {}", scheme.as_str(), parts.join(", "))
}

/// Which challenges an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenges<'a> {
    /// The scheme of the request's credentials, when one could be read.
    pub used: Option<Scheme>,
    /// The route accepts bearer tokens.
    pub bearer: bool,
    /// The route accepts DPoP, with these `algs` (space-separated).
    pub dpop_algs: Option<&'a str>,
}

impl Challenges<'_> {
    /// A bearer-only route: the challenges of [`respond`].
    pub const BEARER: Challenges<'static> = Challenges {
        used: Some(Scheme::Bearer),
        bearer: true,
        dpop_algs: None,
    };

    /// The offered schemes, the one the request used first.
    fn offered(&self) -> Vec<Scheme> {
        let mut out = Vec::with_capacity(2);
        let accepts = |s: Scheme| match s {
            Scheme::Bearer => self.bearer,
            Scheme::DPoP => self.dpop_algs.is_some(),
        };
        if let Some(u) = self.used.filter(|u| accepts(*u)) {
            out.push(u);
        }
        for s in [Scheme::Bearer, Scheme::DPoP] {
            if accepts(s) && !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// A request that per-operation rules could not classify: a JSON-RPC error, no challenge.
fn respond_request_error(err: &Error, policy: &Policy) -> AuthResponse {
    let (status, rpc) = crate::operations::status_and_rpc_code(err.code());
    let mut e = Map::new();
    e.insert("code".into(), Value::from(rpc));
    e.insert("message".into(), Value::String(err.message(policy.flavor)));
    let mut m = Map::new();
    m.insert("jsonrpc".into(), Value::String("2.0".into()));
    m.insert("id".into(), Value::Null);
    m.insert("error".into(), Value::Object(e));
    AuthResponse {
        status,
        body: Value::Object(m),
        www_authenticate: None,
        challenges: vec![],
        headers: vec![],
    }
}

/// Status, body and challenge for `err` under `policy`.
pub fn respond(err: &Error, policy: &Policy) -> AuthResponse {
    respond_with(err, policy, &Challenges::BEARER)
}

/// Codes of server-side failures that pass (a replay store that cannot answer): 503, so
/// clients and load balancers retry instead of giving up.
const UNAVAILABLE: [&str; 2] = [
    codes::DPOP_REPLAY_STORE_UNAVAILABLE,
    codes::DPOP_REPLAY_STORE_FULL,
];

/// [`respond`] for a route that offers `schemes`: a 401 carries one challenge per offered
/// scheme (the error, if any, in the scheme the request used), a 403 only the challenge of the
/// scheme the request used.
pub fn respond_with(err: &Error, policy: &Policy, schemes: &Challenges<'_>) -> AuthResponse {
    if err.kind() == ErrorKind::Request {
        return respond_request_error(err, policy);
    }
    if UNAVAILABLE.contains(&err.code()) {
        let mut m = Map::new();
        m.insert(
            "error".into(),
            Value::String("temporarily_unavailable".into()),
        );
        m.insert(
            "error_description".into(),
            Value::String(err.message(policy.flavor)),
        );
        if policy.show_error_details {
            if let Some(c) = &err.details().cause {
                m.insert("cause".into(), c.clone());
            }
        }
        return AuthResponse {
            status: 503,
            body: Value::Object(m),
            www_authenticate: None,
            challenges: vec![],
            headers: vec![],
        };
    }
    if !err.is_auth_failure() {
        let mut m = Map::new();
        m.insert("error".into(), Value::String("server_error".into()));
        m.insert(
            "error_description".into(),
            Value::String("An error occurred with the authorization server.".into()),
        );
        if policy.show_error_details {
            m.insert(
                "cause".into(),
                Value::Object(error_body(err, false, policy.flavor)),
            );
        }
        return AuthResponse {
            status: 500,
            body: Value::Object(m),
            www_authenticate: None,
            challenges: vec![],
            headers: vec![],
        };
    }
    let code = challenge_code(err);
    let insufficient = code == Some("insufficient_scope");
    let mut error: Vec<(&str, String)> = vec![];
    if let Some(c) = code {
        error.push(("error", c.to_string()));
        error.push((
            "error_description",
            description_value(&err.message(policy.flavor)),
        ));
    }
    let mut common: Vec<(&str, String)> = vec![];
    let scopes = match &err.details().challenge_scopes {
        Some(s) if insufficient => s,
        _ => &policy.required_scopes,
    };
    if !scopes.is_empty() {
        common.push(("scope", scopes.join(" ")));
    }
    if let Some(url) = &policy.resource_metadata {
        common.push(("resource_metadata", url.clone()));
    }
    let offered = schemes.offered();
    // The error goes to the scheme the request used; a request whose scheme the route does
    // not accept gets it in the first scheme the route offers.
    let carrier = offered.first().copied().unwrap_or(Scheme::Bearer);
    let challenge = |scheme: Scheme, with_error: bool| {
        let mut params: Vec<(&str, String)> = vec![];
        if scheme == Scheme::DPoP {
            if let Some(algs) = schemes.dpop_algs {
                params.push(("algs", algs.to_string()));
            }
        }
        if with_error {
            params.extend(error.iter().cloned());
        }
        params.extend(common.iter().cloned());
        format_scheme_challenge(scheme, &params)
    };
    let challenges: Vec<String> = if insufficient || offered.is_empty() {
        vec![challenge(carrier, true)]
    } else {
        offered
            .iter()
            .map(|s| challenge(*s, *s == carrier))
            .collect()
    };
    let mut body = error_body(err, policy.show_error_details, policy.flavor);
    if err.code() == codes::INVALID_AUDIENCE && policy.audience_from_resource {
        if let Some(a) = &policy.audience {
            body.insert("expected_audience".into(), Value::String(a.clone()));
        }
    }
    AuthResponse {
        status: if insufficient { 403 } else { 401 },
        body: Value::Object(body),
        www_authenticate: Some(challenges.join(", ")),
        challenges,
        headers: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_bytes_are_those_of_rfc_9110() {
        for b in 0..=255u8 {
            let spec = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(token68_byte(b), spec, "byte {b:#04x}");
        }
    }

    #[test]
    fn header_forms() {
        assert_eq!(parse_authorization(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(
            parse_authorization(Some("BEARER \t abc== ")).unwrap(),
            "abc=="
        );
        assert_eq!(
            parse_authorization(Some("   ")).unwrap_err().code(),
            "missing_auth_header"
        );
        assert_eq!(
            parse_authorization(None).unwrap_err().code(),
            "missing_auth_header"
        );
        assert_eq!(
            parse_authorization(Some("Bearer  ")).unwrap_err().code(),
            "missing_bearer_token"
        );
        for bad in [
            "Bearerabc",
            "Basic abc",
            "Bearer a b",
            "Bearer ===",
            "Bearer a\"b",
            "Bearer ä",
        ] {
            assert_eq!(
                parse_authorization(Some(bad)).unwrap_err().code(),
                "invalid_auth_header_format",
                "{bad}"
            );
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_HEADER_BYTES + 1));
        assert_eq!(
            parse_authorization(Some(&huge)).unwrap_err().code(),
            "invalid_auth_header_format"
        );
    }

    #[test]
    fn both_schemes_read_alike() {
        let c = parse_credentials(Some("DPoP abc")).unwrap();
        assert_eq!((c.scheme, c.token), (Scheme::DPoP, "abc"));
        let c = parse_credentials(Some(" bearer\t abc== ")).unwrap();
        assert_eq!((c.scheme, c.token), (Scheme::Bearer, "abc=="));
        assert_eq!(
            parse_credentials(Some("dpop ")).unwrap_err().code(),
            "missing_bearer_token"
        );
        for bad in ["DPoPabc", "Basic abc", "DPoP a b", "DPoP a\"b"] {
            assert_eq!(
                parse_credentials(Some(bad)).unwrap_err().code(),
                "invalid_auth_header_format",
                "{bad}"
            );
        }
        // The bearer-only parser still refuses DPoP.
        assert_eq!(
            parse_authorization(Some("DPoP abc")).unwrap_err().code(),
            "invalid_auth_header_format"
        );
        assert_eq!(scheme_of(Some("  DPoP x")), Some(Scheme::DPoP));
        assert_eq!(scheme_of(Some("Basic x")), None);
        assert_eq!(scheme_of(None), None);
    }

    #[test]
    fn a_401_offers_every_scheme_and_a_403_only_the_one_used() {
        let p = Policy {
            resource_metadata: Some("https://a/prm".into()),
            ..Policy::default()
        };
        let both = |used| Challenges {
            used,
            bearer: true,
            dpop_algs: Some("ES256"),
        };
        let r = respond_with(
            &Error::bearer(codes::INVALID_DPOP_PROOF),
            &p,
            &both(Some(Scheme::DPoP)),
        );
        assert_eq!(r.status, 401);
        assert_eq!(
            r.challenges,
            [
                r#"DPoP algs="ES256", error="invalid_dpop_proof", error_description="The DPoP proof is missing or invalid.", resource_metadata="https://a/prm""#,
                r#"Bearer resource_metadata="https://a/prm""#
            ]
        );
        assert_eq!(r.www_authenticate.unwrap(), r.challenges.join(", "));
        let r = respond_with(
            &Error::bearer(codes::MISSING_REQUIRED_SCOPES),
            &p,
            &both(Some(Scheme::Bearer)),
        );
        assert_eq!(r.status, 403);
        assert_eq!(r.challenges.len(), 1);
        assert!(r.challenges[0].starts_with("Bearer error=\"insufficient_scope\""));
        // The bearer-only answer is the one `respond` always gave.
        let e = Error::bearer(codes::INVALID_TOKEN);
        assert_eq!(respond_with(&e, &p, &Challenges::BEARER), p.respond(&e));
        assert_eq!(
            p.respond(&e).challenges,
            vec![p.respond(&e).www_authenticate.unwrap()]
        );
    }

    #[test]
    fn challenge_values_are_always_valid_quoted_strings() {
        let c = format_challenge(&[
            (
                "error_description",
                description_value("say \"hi\" \\ \u{1} ünï"),
            ),
            ("resource_metadata", "https://x/\"q\"\\".into()),
        ]);
        assert_eq!(
            c,
            r#"Bearer error_description="say 'hi' /  n", resource_metadata="https://x/\"q\"\\""#
        );
    }

    #[test]
    fn server_failures_are_500_without_challenge() {
        let p = Policy {
            resource_metadata: Some("https://a/.well-known/oauth-protected-resource".into()),
            ..Policy::default()
        };
        let r = p.respond(&Error::config("fetch_server_config_error", "boom"));
        assert_eq!(r.status, 500);
        assert!(r.www_authenticate.is_none());
        assert_eq!(r.body["error"], "server_error");
    }
}
