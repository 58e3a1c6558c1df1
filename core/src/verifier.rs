//! Token verification for a set of trusted authorization servers.
//!
//! The unverified `iss` picks one of the configured servers (never a URL from the token);
//! its metadata gives the JWKS URI; the cached keys check the signature. Everything that
//! needs no I/O happens in `verify_now`, so a host can try the fast path synchronously and
//! fall back to the async `verify` only when metadata or keys must be fetched.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use crate::error::{codes, Error, Flavor, Result};
use crate::guard;
use crate::jwks::{JwksOptions, KeySource, Lookup};
use crate::jwt::{self, AuthInfo, Decoded, JwtOptions, SignatureCheck};
use crate::keys::{Alg, KeySet};
use crate::metadata::cache::DEFAULT_TTL;
use crate::metadata::{AuthServerType, FetchOptions, ServerConfig};
use crate::verified::{Entry, VerifiedTokens};

/// What every verifier offers: an attempt without I/O (`Pending` when keys or metadata must
/// be fetched) and the full check. Bindings expose any verifier through these two.
pub trait Verify: Send + Sync + 'static {
    fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>>;
    fn verify(&self, token: &str) -> impl std::future::Future<Output = Result<AuthInfo>> + Send;
}

impl Verify for TokenVerifier {
    fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        TokenVerifier::verify_now(self, token)
    }
    fn verify(&self, token: &str) -> impl std::future::Future<Output = Result<AuthInfo>> + Send {
        TokenVerifier::verify(self, token)
    }
}

impl Verify for JwtVerifier {
    fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        JwtVerifier::verify_now(self, token)
    }
    fn verify(&self, token: &str) -> impl std::future::Future<Output = Result<AuthInfo>> + Send {
        JwtVerifier::verify(self, token)
    }
}

/// A trusted authorization server: given metadata, or an issuer discovered on first use.
#[derive(Debug, Clone)]
pub enum AuthServer {
    Resolved(Arc<ServerConfig>),
    Discovery {
        issuer: String,
        server_type: Option<AuthServerType>,
    },
}

impl AuthServer {
    pub fn issuer(&self) -> &str {
        match self {
            AuthServer::Resolved(c) => &c.metadata.issuer,
            AuthServer::Discovery { issuer, .. } => issuer,
        }
    }
}

#[derive(Debug, Clone)]
pub struct VerifierOptions {
    pub jwt: JwtOptions,
    pub jwks: JwksOptions,
    pub fetch: FetchOptions,
    pub metadata_ttl: Duration,
    pub flavor: Flavor,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            jwt: JwtOptions::default(),
            jwks: JwksOptions::default(),
            fetch: FetchOptions::default(),
            metadata_ttl: DEFAULT_TTL,
            flavor: Flavor::default(),
        }
    }
}

/// Verifies JWTs issued by one of `servers`.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    servers: Vec<AuthServer>,
    options: VerifierOptions,
    verified: Arc<VerifiedTokens>,
}

/// Checks an issuer against the trusted list: `invalid_issuer` naming all of them otherwise.
pub fn check_trusted_issuer(trusted: &[&str], actual: &str) -> Result<()> {
    if trusted.contains(&actual) {
        return Ok(());
    }
    Err(Error::bearer(codes::INVALID_ISSUER).with_expected_actual(trusted.join(", "), actual))
}

impl TokenVerifier {
    pub fn new(servers: Vec<AuthServer>, options: VerifierOptions) -> Self {
        TokenVerifier {
            servers,
            options,
            verified: Arc::default(),
        }
    }

    pub fn options(&self) -> &VerifierOptions {
        &self.options
    }

    /// How many verified tokens this verifier keeps (for tests and benchmarks).
    pub fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    pub fn servers(&self) -> &[AuthServer] {
        &self.servers
    }

    pub fn issuers(&self) -> Vec<&str> {
        self.servers.iter().map(AuthServer::issuer).collect()
    }

    pub fn check_issuer(&self, actual: &str) -> Result<()> {
        check_trusted_issuer(&self.issuers(), actual)
    }

    fn server(&self, issuer: &str) -> Result<&AuthServer> {
        // Found without building the list of issuers, which only the error needs.
        if let Some(s) = self.servers.iter().find(|s| s.issuer() == issuer) {
            return Ok(s);
        }
        self.check_issuer(issuer)?;
        Err(Error::bearer(codes::INVALID_ISSUER))
    }

    fn jwks_uri<'m>(&self, issuer: &str, config: &'m ServerConfig) -> Result<&'m str> {
        config.metadata.jwks_uri.as_deref().ok_or_else(|| {
            let q = |s: &str| match self.options.flavor {
                Flavor::Python => format!("('{s}')"),
                Flavor::Node => format!("(`{s}`)"),
            };
            Error::auth_server(codes::MISSING_JWKS_URI).with_error_description(format!(
                "The authorization server {} does not have a JWKS URI configured.",
                q(issuer)
            ))
        })
    }

    fn cached_config(&self, server: &AuthServer) -> Option<Arc<ServerConfig>> {
        match server {
            AuthServer::Resolved(c) => Some(c.clone()),
            AuthServer::Discovery {
                issuer,
                server_type,
            } => crate::runtime::globals()
                .metadata
                .get_fresh(
                    issuer,
                    *server_type,
                    self.options.metadata_ttl,
                    &self.options.fetch,
                )
                .map(|d| d.config),
        }
    }

    /// The server's metadata, fetching a discovery config when needed.
    pub async fn config(&self, server: &AuthServer) -> Result<Arc<ServerConfig>> {
        match server {
            AuthServer::Resolved(c) => Ok(c.clone()),
            AuthServer::Discovery {
                issuer,
                server_type,
            } => crate::runtime::globals()
                .metadata
                .get(
                    issuer,
                    *server_type,
                    self.options.metadata_ttl,
                    &self.options.fetch,
                )
                .await
                .map(|d| d.config),
        }
    }

    /// Verifies without I/O; `Pending` when metadata or keys must be fetched first.
    pub fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        guard::sync(|| self.verify_cached(token))
    }

    fn verify_cached(&self, token: &str) -> Poll<Result<AuthInfo>> {
        guard::test_hook(token);
        if let Some(hit) = self.verified.get(token) {
            let current = self.keys_now(&hit);
            if let Some(r) = reuse(&self.verified, token, current, &hit, &self.options.jwt) {
                return Poll::Ready(r);
            }
        }
        let d = match jwt::decode(token, &self.options.jwt) {
            Ok(d) => d,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let uri = || -> Result<Option<String>> {
            let iss = d.issuer()?;
            let server = self.server(iss)?;
            let Some(config) = self.cached_config(server) else {
                return Ok(None);
            };
            Ok(Some(self.jwks_uri(iss, &config)?.to_string()))
        };
        match uri() {
            Ok(Some(uri)) => {
                let (alg, kid) = (d.alg, d.kid.clone());
                let r = remote_now(token, d, &uri, &self.options.jwt, &self.options.jwks);
                r.map(|r| keep(&self.verified, token, alg, kid, r))
            }
            Ok(None) => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// The key set a verification of `hit`'s token would use now, without I/O; `None` when
    /// that would fetch (metadata or keys) or fail.
    fn keys_now(&self, hit: &Entry) -> Option<Arc<KeySet>> {
        let server = self.servers.iter().find(|s| s.issuer() == hit.issuer)?;
        let config = self.cached_config(server)?;
        let uri = config.metadata.jwks_uri.as_deref()?;
        cached_keys(uri, hit, &self.options.jwks)
    }

    /// Verifies, fetching metadata and keys as needed.
    pub async fn verify(&self, token: &str) -> Result<AuthInfo> {
        if let Poll::Ready(r) = self.verify_now(token) {
            return r;
        }
        guard::future(self.verify_fetching(token)).await
    }

    async fn verify_fetching(&self, token: &str) -> Result<AuthInfo> {
        let d = jwt::decode(token, &self.options.jwt)?;
        let iss = d.issuer()?.to_string();
        let server = self.server(&iss)?;
        let config = self.config(server).await?;
        let uri = self.jwks_uri(&iss, &config)?.to_string();
        let (alg, kid) = (d.alg, d.kid.clone());
        let r = remote_fetching(token, d, &uri, &self.options.jwt, &self.options.jwks).await;
        keep(&self.verified, token, alg, kid, r)
    }
}

/// A verification's answer and, when it succeeded, the key set whose key verified it.
type Verified = Result<(AuthInfo, Arc<KeySet>)>;

/// The answer for a token verified before, when `current` (the key set a verification would
/// use now) is the set that verified it: the clock and the claim rules are checked again, the
/// signature is not. Any other set empties the cache and the token is verified afresh.
fn reuse(
    cache: &VerifiedTokens,
    token: &str,
    current: Option<Arc<KeySet>>,
    hit: &Entry,
    opts: &JwtOptions,
) -> Option<Result<AuthInfo>> {
    match current {
        Some(keys) if Arc::ptr_eq(&keys, &hit.keys) => {
            let kept = match hit.info.get() {
                Some(i) => match jwt::check_again(i, opts) {
                    Ok(()) => i,
                    Err(e) => return Some(Err(e)),
                },
                // The first hit: bytes that decoded before decode alike again, and the answer
                // is derived (its clock and rule checks included) as on a miss.
                None => {
                    let claims = jwt::decode(token, opts).ok()?.claims;
                    match jwt::auth_info("", claims, opts) {
                        Ok(i) => hit.info.get_or_init(|| i),
                        Err(e) => return Some(Err(e)),
                    }
                }
            };
            let mut info = kept.clone();
            info.token = token.to_string();
            Some(Ok(info))
        }
        _ => {
            cache.clear();
            None
        }
    }
}

/// Records a successful verification in `cache`; the answer either way.
fn keep(
    cache: &VerifiedTokens,
    token: &str,
    alg: Alg,
    kid: Option<String>,
    r: Verified,
) -> Result<AuthInfo> {
    let (info, keys) = r?;
    let issuer = info.issuer.clone();
    cache.insert(token, Entry::new(keys, alg, kid, issuer));
    Ok(info)
}

/// The cached remote set for `hit`'s algorithm and `kid`, when one serves without I/O.
fn cached_keys(uri: &str, hit: &Entry, opts: &JwksOptions) -> Option<Arc<KeySet>> {
    let g = crate::runtime::globals();
    match g.jwks.lookup(uri, hit.alg, hit.kid.as_deref(), opts) {
        Ok(Lookup::Keys(k)) => Some(k),
        _ => None,
    }
}

fn finish(token: &str, d: Decoded<'_>, keys: &Arc<KeySet>, opts: &JwtOptions) -> Verified {
    jwt::verify_signature(&d, keys)?;
    Ok((jwt::auth_info(token, d.claims, opts)?, keys.clone()))
}

/// A token against cached remote keys, without I/O: `Pending` when the keys must be fetched,
/// and when a token without `kid` fails its signature while a refresh for that is allowed.
fn remote_now(
    token: &str,
    d: Decoded<'_>,
    uri: &str,
    jwt_opts: &JwtOptions,
    jwks: &JwksOptions,
) -> Poll<Verified> {
    let keys = match KeySource::lookup_remote(uri, &d, jwks) {
        Ok(Some(k)) => k,
        Ok(None) => return Poll::Pending,
        Err(e) => return Poll::Ready(Err(e)),
    };
    Poll::Ready(match jwt::check_signature(&d, &keys) {
        Err(e) => Err(e),
        Ok(SignatureCheck::Valid) => jwt::auth_info(token, d.claims, jwt_opts).map(|i| (i, keys)),
        Ok(SignatureCheck::Invalid)
            if d.kid.is_none()
                && crate::runtime::globals()
                    .jwks
                    .may_refresh_for_signature(uri, jwks) =>
        {
            return Poll::Pending
        }
        Ok(c) => Err(c.error(&d)),
    })
}

/// [`remote_now`], fetching what is missing: the keys, or fresher keys for a token without
/// `kid` whose signature the cached ones do not verify (at most once per cooldown).
async fn remote_fetching(
    token: &str,
    d: Decoded<'_>,
    uri: &str,
    jwt_opts: &JwtOptions,
    jwks: &JwksOptions,
) -> Verified {
    let (keys, fetched) = KeySource::load_remote(uri, &d, jwks).await?;
    match jwt::check_signature(&d, &keys)? {
        SignatureCheck::Valid => Ok((jwt::auth_info(token, d.claims, jwt_opts)?, keys)),
        SignatureCheck::Invalid if d.kid.is_none() && !fetched => {
            let g = crate::runtime::globals();
            match g.jwks.refresh_for_signature(uri, jwks).await {
                Ok(Some(newer)) => finish(token, d, &newer, jwt_opts),
                _ => Err(SignatureCheck::Invalid.error(&d)),
            }
        }
        c => Err(c.error(&d)),
    }
}

impl KeySource {
    fn lookup_remote(
        uri: &str,
        d: &Decoded<'_>,
        opts: &JwksOptions,
    ) -> Result<Option<Arc<KeySet>>> {
        // A published JWK Set only ever yields public keys, so an HMAC token cannot verify
        // against it. Refused here it fetches nothing, and so cannot start the unknown-kid
        // cooldown that would hold back a genuine key rotation (Keycloak's refresh tokens are
        // HS512 JWTs naming the realm secret's kid, and clients do send them as access tokens).
        if d.alg.is_hmac() {
            return Err(jwt::invalid(format!(
                "`{}` tokens cannot be verified with the public keys of a JWK Set.",
                d.alg.as_str()
            )));
        }
        let g = crate::runtime::globals();
        Ok(match g.jwks.lookup(uri, d.alg, d.kid.as_deref(), opts)? {
            Lookup::Keys(k) => Some(k),
            Lookup::Fetch => None,
        })
    }

    /// The keys, and whether this call fetched them.
    async fn load_remote(
        uri: &str,
        d: &Decoded<'_>,
        opts: &JwksOptions,
    ) -> Result<(Arc<KeySet>, bool)> {
        if let Some(k) = Self::lookup_remote(uri, d, opts)? {
            return Ok((k, false));
        }
        let g = crate::runtime::globals();
        let keys = g.jwks.refresh(uri, d.alg, d.kid.as_deref(), opts).await?;
        Ok((keys, true))
    }
}

/// Verifies JWTs against one key source, with no issuer policy: `create_verify_jwt` /
/// `createVerifyJwt`.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    pub source: KeySource,
    pub options: JwtOptions,
    verified: Arc<VerifiedTokens>,
}

impl JwtVerifier {
    pub fn new(source: KeySource, options: JwtOptions) -> Self {
        JwtVerifier {
            source,
            options,
            verified: Arc::default(),
        }
    }

    /// How many verified tokens this verifier keeps (for tests and benchmarks).
    pub fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    pub fn verify_now(&self, token: &str) -> Poll<Result<AuthInfo>> {
        guard::sync(|| self.verify_cached(token))
    }

    fn verify_cached(&self, token: &str) -> Poll<Result<AuthInfo>> {
        guard::test_hook(token);
        if let Some(hit) = self.verified.get(token) {
            let current = match &self.source {
                KeySource::Static(keys) => Some(keys.clone()),
                KeySource::Remote { uri, options } => cached_keys(uri, &hit, options),
            };
            if let Some(r) = reuse(&self.verified, token, current, &hit, &self.options) {
                return Poll::Ready(r);
            }
        }
        let d = match jwt::decode(token, &self.options) {
            Ok(d) => d,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let (alg, kid) = (d.alg, d.kid.clone());
        let r = match &self.source {
            KeySource::Static(keys) => Poll::Ready(finish(token, d, keys, &self.options)),
            KeySource::Remote { uri, options } => remote_now(token, d, uri, &self.options, options),
        };
        r.map(|r| keep(&self.verified, token, alg, kid, r))
    }

    pub async fn verify(&self, token: &str) -> Result<AuthInfo> {
        if let Poll::Ready(r) = self.verify_now(token) {
            return r;
        }
        guard::future(self.verify_fetching(token)).await
    }

    async fn verify_fetching(&self, token: &str) -> Result<AuthInfo> {
        let d = jwt::decode(token, &self.options)?;
        let (alg, kid) = (d.alg, d.kid.clone());
        let r = match &self.source {
            KeySource::Static(keys) => finish(token, d, keys, &self.options),
            KeySource::Remote { uri, options } => {
                remote_fetching(token, d, uri, &self.options, options).await
            }
        };
        keep(&self.verified, token, alg, kid, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet {
            keys: vec![],
            notices: vec![],
        })
    }

    /// A token whose signature no key could verify: only a hit can accept it.
    fn unsigned(claims: &str) -> String {
        let b = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.{}",
            b(r#"{"alg":"RS256","kid":"k"}"#),
            b(claims),
            b("no")
        )
    }

    #[test]
    fn a_hit_skips_the_signature_only_under_the_set_that_verified_it() {
        let cache = VerifiedTokens::default();
        let (set, other) = (keys(), keys());
        let opts = JwtOptions::default();
        let token = unsigned(r#"{"iss":"https://i.example","sub":"u","exp":4102444800}"#);
        let entry = || {
            Entry::new(
                set.clone(),
                Alg::RS256,
                Some("k".into()),
                "https://i.example".into(),
            )
        };
        cache.insert(&token, entry());
        let hit = cache.get(&token).unwrap();
        let info = reuse(&cache, &token, Some(set.clone()), &hit, &opts)
            .expect("a hit under the same set")
            .unwrap();
        assert_eq!(info.subject.as_deref(), Some("u"));
        // Another set (a refetch, a replaced key): no answer, and every kept token is forgotten.
        assert!(reuse(&cache, &token, Some(other), &hit, &opts).is_none());
        assert!(cache.is_empty());
        cache.insert(&token, entry());
        assert!(reuse(&cache, &token, None, &cache.get(&token).unwrap(), &opts).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_hit_checks_the_clock_and_the_claim_rules_again() {
        let cache = VerifiedTokens::default();
        let set = keys();
        let token = unsigned(r#"{"iss":"https://i.example","sub":"u","exp":1000}"#);
        cache.insert(
            &token,
            Entry::new(set.clone(), Alg::RS256, None, "https://i.example".into()),
        );
        let hit = cache.get(&token).unwrap();
        let at = |now: f64| JwtOptions {
            now: Some(now),
            leeway: 0.0,
            ..JwtOptions::default()
        };
        for _ in 0..2 {
            // The first hit computes the answer, the second reuses it: both carry the token.
            let info = reuse(&cache, &token, Some(set.clone()), &hit, &at(999.0))
                .unwrap()
                .unwrap();
            assert_eq!(
                (info.token.as_str(), info.subject.as_deref()),
                (token.as_str(), Some("u"))
            );
        }
        let e = reuse(&cache, &token, Some(set.clone()), &hit, &at(1001.0))
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
        let other_subject = JwtOptions {
            claims: jwt::ClaimRules {
                subject: Some("someone-else".into()),
                ..Default::default()
            },
            ..at(999.0)
        };
        assert!(reuse(&cache, &token, Some(set), &hit, &other_subject)
            .unwrap()
            .is_err());
    }
}
