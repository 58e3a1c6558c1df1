//! RFC 7662 token introspection: for opaque access tokens, the authorization server says whether
//! a token is active and what it grants.
//!
//! The answer is turned into the same [`AuthInfo`] the JWT mode produces, so the issuer, audience
//! and scope policy and the 401/403 answers are identical in both modes. Faults of the endpoint
//! (down, slow, non-2xx, not JSON) fail like an unreachable JWK Set: 401 `token_verification_failed`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{codes, Error, Flavor, Result};
use crate::guard;
use crate::jwt::{self, AuthInfo};
use crate::verifier::{check_trusted_issuer, AuthServer, VerifierOptions, Verify};

pub const INVALID_INTROSPECTION_CONFIG: &str = "invalid_introspection_config";
pub use crate::error::codes::MISSING_INTROSPECTION_ENDPOINT;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Introspection answers are small claim sets; anything bigger is not one.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;
pub const DEFAULT_CACHE_MAX_ENTRIES: usize = 10_000;

/// How the resource server authenticates to the introspection endpoint (RFC 7591 names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

impl ClientAuthMethod {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

#[derive(Debug, Clone)]
pub struct IntrospectionOptions {
    /// The endpoint; `None` takes `introspection_endpoint` from the authorization server's metadata.
    pub endpoint: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    pub auth_method: ClientAuthMethod,
    pub timeout: Duration,
    pub max_bytes: usize,
    /// How long an active answer may be reused; `None` asks the server for every request.
    pub cache_ttl: Option<Duration>,
    pub cache_max_entries: usize,
    pub headers: Vec<(String, String)>,
}

impl Default for IntrospectionOptions {
    fn default() -> Self {
        IntrospectionOptions {
            endpoint: None,
            client_id: String::new(),
            client_secret: String::new(),
            auth_method: ClientAuthMethod::default(),
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            cache_ttl: None,
            cache_max_entries: DEFAULT_CACHE_MAX_ENTRIES,
            headers: Vec::new(),
        }
    }
}

fn config_error(message: impl Into<String>) -> Error {
    Error::config(INVALID_INTROSPECTION_CONFIG, message)
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Verifies opaque (or any) access tokens by asking the authorization server.
#[derive(Debug)]
pub struct IntrospectionVerifier {
    servers: Vec<AuthServer>,
    options: IntrospectionOptions,
    verifier: VerifierOptions,
    cache: Option<AnswerCache>,
    in_flight: InFlight,
    sent: AtomicU64,
}

/// Concurrent checks of one token share one request: an MCP client often opens its event
/// stream and posts a message at the same moment, with the same token.
type InFlight = Mutex<HashMap<TokenHash, Arc<tokio::sync::OnceCell<Result<AuthInfo>>>>>;

impl IntrospectionVerifier {
    pub fn new(
        servers: Vec<AuthServer>,
        options: IntrospectionOptions,
        verifier: VerifierOptions,
    ) -> Result<Self> {
        if options.client_id.is_empty() {
            return Err(config_error(
                "Token introspection needs a `client_id` to authenticate to the authorization server.",
            ));
        }
        match &options.endpoint {
            Some(e) => check_endpoint(e)?,
            None if servers.len() != 1 => {
                return Err(config_error(format!(
                    "Token introspection needs an explicit endpoint when {} authorization servers are trusted: a token is only ever sent to one server.",
                    servers.len()
                )))
            }
            None => {}
        }
        if options.timeout.is_zero() || options.max_bytes == 0 {
            return Err(config_error(
                "The introspection timeout and size limit must be positive.",
            ));
        }
        crate::duration::check("timeout", options.timeout)?;
        if let Some(ttl) = options.cache_ttl {
            crate::duration::check("cache_ttl", ttl)?;
        }
        let cache = match options.cache_ttl {
            Some(ttl) if !ttl.is_zero() && options.cache_max_entries > 0 => {
                Some(AnswerCache::new(ttl, options.cache_max_entries))
            }
            _ => None,
        };
        Ok(IntrospectionVerifier {
            servers,
            options,
            verifier,
            cache,
            in_flight: Mutex::default(),
            sent: AtomicU64::new(0),
        })
    }

    pub fn options(&self) -> &IntrospectionOptions {
        &self.options
    }

    pub fn verifier_options(&self) -> &VerifierOptions {
        &self.verifier
    }

    pub fn issuers(&self) -> Vec<&str> {
        self.servers.iter().map(AuthServer::issuer).collect()
    }

    /// Introspection requests sent so far by this verifier.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Answers from the cache only; `Pending` when the server must be asked.
    pub fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        guard::sync(|| {
            guard::test_hook(token);
            if let Err(e) = self.check_size(token) {
                return Poll::Ready(Err(e));
            }
            match self.cache.as_ref().and_then(|c| c.get(token)) {
                Some(info) => Poll::Ready(Ok(info)),
                None => Poll::Pending,
            }
        })
    }

    pub async fn verify(&self, token: &str) -> Result<AuthInfo> {
        if let Poll::Ready(r) = self.verify_now(token) {
            return r;
        }
        let key = AnswerCache::key(token);
        let cell = {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key).or_default().clone()
        };
        let result = cell
            .get_or_init(|| async {
                let r = guard::future(self.introspect(token)).await;
                if let (Ok(info), Some(c)) = (&r, &self.cache) {
                    c.put(token, info);
                }
                r
            })
            .await
            .clone();
        {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(&key);
            }
        }
        result
    }

    fn check_size(&self, token: &str) -> Result<()> {
        if token.len() > self.verifier.jwt.max_token_bytes {
            return Err(jwt::invalid(format!(
                "The token is larger than {} bytes.",
                self.verifier.jwt.max_token_bytes
            )));
        }
        Ok(())
    }

    async fn endpoint(&self) -> Result<String> {
        if let Some(e) = &self.options.endpoint {
            return Ok(e.clone());
        }
        // `new` guarantees exactly one server when no endpoint is given.
        let server = &self.servers[0];
        let config = match server {
            AuthServer::Resolved(c) => c.clone(),
            AuthServer::Discovery {
                issuer,
                server_type,
            } => {
                crate::runtime::globals()
                    .metadata
                    .get(
                        issuer,
                        *server_type,
                        self.verifier.metadata_ttl,
                        &self.verifier.fetch,
                    )
                    .await?
                    .config
            }
        };
        let Some(endpoint) = config.metadata.introspection_endpoint.clone() else {
            let q = |s: &str| match self.verifier.flavor {
                Flavor::Python => format!("('{s}')"),
                Flavor::Node => format!("(`{s}`)"),
            };
            return Err(Error::auth_server(MISSING_INTROSPECTION_ENDPOINT)
                .with_error_description(format!(
                    "The authorization server {} does not advertise an `introspection_endpoint`; give the endpoint explicitly.",
                    q(server.issuer())
                )));
        };
        check_endpoint(&endpoint).map_err(|e| {
            Error::auth_server(MISSING_INTROSPECTION_ENDPOINT).with_error_description(
                e.explicit_message()
                    .unwrap_or("invalid endpoint")
                    .to_string(),
            )
        })?;
        Ok(endpoint)
    }

    async fn introspect(&self, token: &str) -> Result<AuthInfo> {
        let endpoint = self.endpoint().await?;
        let o = &self.options;
        let mut headers = o.headers.clone();
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("token", token)
                .append_pair("token_type_hint", "access_token");
            match o.auth_method {
                ClientAuthMethod::ClientSecretBasic => {
                    // RFC 6749 §2.3.1: both halves are form-encoded before base64.
                    let enc = |s: &str| {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    };
                    let pair = format!("{}:{}", enc(&o.client_id), enc(&o.client_secret));
                    headers.push((
                        "authorization".into(),
                        format!("Basic {}", STANDARD.encode(pair)),
                    ));
                }
                ClientAuthMethod::ClientSecretPost => {
                    form.append_pair("client_id", &o.client_id)
                        .append_pair("client_secret", &o.client_secret);
                }
            }
            form.finish()
        };
        self.sent.fetch_add(1, Ordering::Relaxed);
        let g = crate::runtime::globals();
        let fault = |why: String| {
            Error::token(codes::TOKEN_VERIFICATION_FAILED).with_cause(format!(
                "Failed to introspect the token at {endpoint}: {why}"
            ))
        };
        let resp = crate::http::post_form_json(
            &g.http_no_redirects,
            &endpoint,
            &headers,
            form,
            o.timeout,
            o.max_bytes,
        )
        .await
        .map_err(|e| fault(e.to_string()))?;
        let Value::Object(answer) = resp.body else {
            return Err(fault("the answer is not a JSON object".into()));
        };
        match answer.get("active") {
            Some(Value::Bool(true)) => self.auth_info(token, answer),
            Some(Value::Bool(false)) => Err(jwt::invalid("The token is not active.")),
            _ => Err(fault("the answer has no boolean `active`".into())),
        }
    }

    fn auth_info(&self, token: &str, claims: Map<String, Value>) -> Result<AuthInfo> {
        let opts = &self.verifier.jwt;
        let now = opts.now.unwrap_or_else(now_secs);
        let leeway = opts.leeway.max(0.0);
        // The server said "active", but a cached or skewed answer must not outlive the token.
        let exp = jwt::numeric(&claims, "exp")?;
        if exp.is_some_and(|exp| exp <= now - leeway) {
            return Err(jwt::invalid("The token has expired."));
        }
        if jwt::numeric(&claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
            return Err(jwt::invalid("The token is not yet valid (nbf)."));
        }
        check_access_token(&claims)?;
        let issuer = match jwt::string_claim(&claims, "iss")? {
            Some(iss) => {
                if !self.servers.is_empty() {
                    check_trusted_issuer(&self.issuers(), &iss)?;
                }
                iss
            }
            None => match self.servers.as_slice() {
                [one] => one.issuer().to_string(),
                _ => {
                    return Err(jwt::invalid(
                        "The introspection answer names no issuer (`iss`) and it cannot be told from the configuration.",
                    ))
                }
            },
        };
        Ok(AuthInfo {
            token: token.to_string(),
            issuer,
            client_id: jwt::string_claim(&claims, "client_id")?,
            scopes: jwt::scopes_claim(&claims)?,
            subject: jwt::string_claim(&claims, "sub")?.filter(|s| !s.is_empty()),
            audience: jwt::audience_claim(&claims)?,
            expires_at: exp.map(|e| e as i64),
            claims,
        })
    }
}

impl Verify for IntrospectionVerifier {
    fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        IntrospectionVerifier::verify_now(self, token)
    }
    fn verify(&self, token: &str) -> impl std::future::Future<Output = Result<AuthInfo>> + Send {
        IntrospectionVerifier::verify(self, token)
    }
}

/// The answer must not say the token is something other than an access token: RFC 7662's
/// `token_type`, Keycloak's `typ` (`Refresh`, `Offline`, `ID` for the other kinds) and Ory
/// Hydra's `token_use` (`refresh_token`) are each checked when present, so a server that puts
/// the kind in one member and something generic in another cannot let a refresh or ID token in.
fn check_access_token(claims: &Map<String, Value>) -> Result<()> {
    let refuse = |member: &str, value: &str| {
        Err(jwt::invalid(format!(
            "The introspection answer's `{member}` is `{}`: the token is not an access token.",
            crate::error::fragment(value)
        )))
    };
    if let Some(tt) = jwt::string_claim(claims, "token_type")? {
        // RFC 9449 §6.2: a DPoP-bound token is introspected as `token_type: DPoP`.
        let access = tt.eq_ignore_ascii_case("bearer")
            || tt.eq_ignore_ascii_case("dpop")
            || tt == "access_token"
            || tt == "urn:ietf:params:oauth:token-type:access_token";
        if !access {
            return refuse("token_type", &tt);
        }
    }
    if let Some(typ) = jwt::string_claim(claims, "typ")? {
        let t = typ.to_ascii_lowercase();
        // Keycloak names the token's type: `Bearer`, or `DPoP` for a DPoP-bound one.
        let access = matches!(
            t.as_str(),
            "bearer"
                | "dpop"
                | "at+jwt"
                | "application/at+jwt"
                | "access_token"
                | "urn:ietf:params:oauth:token-type:access_token"
        );
        if !access {
            return refuse("typ", &typ);
        }
    }
    if let Some(usage) = jwt::string_claim(claims, "token_use")? {
        if !matches!(usage.as_str(), "access_token" | "access") {
            return refuse("token_use", &usage);
        }
    }
    Ok(())
}

fn check_endpoint(endpoint: &str) -> Result<()> {
    match url::Url::parse(endpoint) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(config_error(format!(
            "The introspection endpoint `{endpoint}` is not an http(s) URL."
        ))),
    }
}

type TokenHash = [u8; 32];

/// Active answers by SHA-256 of the token, each kept no longer than its TTL or the token's `exp`.
#[derive(Debug)]
struct AnswerCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<TokenHash, (Instant, Arc<AuthInfo>)>>,
}

impl AnswerCache {
    fn new(ttl: Duration, max_entries: usize) -> Self {
        AnswerCache {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(token: &str) -> TokenHash {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        k
    }

    fn get(&self, token: &str) -> Option<AuthInfo> {
        let key = Self::key(token);
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some((until, info)) if Instant::now() < *until => Some((**info).clone()),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    fn put(&self, token: &str, info: &AuthInfo) {
        let mut life = self.ttl;
        if let Some(exp) = info.expires_at {
            let left = exp as f64 - now_secs();
            if left <= 0.0 {
                return;
            }
            life = life.min(Duration::from_secs_f64(left));
        }
        let now = Instant::now();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.max_entries {
            map.retain(|_, (until, _)| now < *until);
        }
        if map.len() >= self.max_entries {
            // Still full of live answers: drop the one closest to expiry.
            if let Some(k) = map.iter().min_by_key(|(_, (u, _))| *u).map(|(k, _)| *k) {
                map.remove(&k);
            }
        }
        let Some(until) = now.checked_add(life) else {
            return;
        };
        map.insert(Self::key(token), (until, Arc::new(info.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(exp: Option<i64>) -> AuthInfo {
        AuthInfo {
            token: "t".into(),
            issuer: "https://as".into(),
            client_id: None,
            scopes: vec![],
            subject: None,
            audience: None,
            expires_at: exp,
            claims: Map::new(),
        }
    }

    #[test]
    fn config_is_checked() {
        let opts = |endpoint: Option<&str>, id: &str| IntrospectionOptions {
            endpoint: endpoint.map(str::to_string),
            client_id: id.into(),
            ..Default::default()
        };
        let v = VerifierOptions::default();
        let e = IntrospectionVerifier::new(vec![], opts(None, "rs"), v.clone()).unwrap_err();
        assert_eq!(e.code(), INVALID_INTROSPECTION_CONFIG);
        let e = IntrospectionVerifier::new(vec![], opts(Some("http://x/i"), ""), v.clone())
            .unwrap_err();
        assert!(e.to_string().contains("client_id"));
        let e = IntrospectionVerifier::new(vec![], opts(Some("ftp://x/i"), "rs"), v.clone())
            .unwrap_err();
        assert!(e.to_string().contains("not an http(s) URL"));
        assert!(IntrospectionVerifier::new(vec![], opts(Some("http://x/i"), "rs"), v).is_ok());
    }

    #[test]
    fn cache_never_outlives_exp_and_stays_bounded() {
        let c = AnswerCache::new(Duration::from_secs(3600), 2);
        c.put("expired", &info(Some(1)));
        assert!(c.get("expired").is_none());
        c.put("a", &info(None));
        c.put("b", &info(Some(now_secs() as i64 + 1000)));
        c.put("c", &info(None));
        assert_eq!(c.entries.lock().unwrap().len(), 2);
        // `b` expires first, so it made room for `c`.
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some() && c.get("c").is_some());
    }
}
