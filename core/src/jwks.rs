//! Remote JWK Sets, cached process-wide by URI and the request headers configured for it
//! (verifiers that send different headers, e.g. another tenant's, never share keys).
//!
//! - fresh for `cache_max_age`; a server's `Cache-Control: max-age` may shorten that (to no less
//!   than 30 s), never lengthen it, so a removed key stops verifying when the operator said;
//! - an unknown `kid` triggers a refresh; a refresh that did not produce the key (or failed)
//!   starts a `cooldown` during which no other refresh happens, so a flood of made-up `kid`s costs
//!   one fetch per cooldown, while a genuine rotation (the new key is in the refreshed set) is
//!   picked up at once, however recent the previous rotation was;
//! - a token without `kid` whose signature fails against the cached keys may trigger one refresh
//!   per cooldown: the keys may have been rotated without `kid`s (another verifier in the same
//!   process, say, configured after the rotation);
//! - one fetch at a time per set, shared by everyone who was waiting for it;
//! - if a refresh fails, the keys already known keep working (stale-if-error), but no longer
//!   than `max_stale` past their freshness; then verification fails until a fetch succeeds;
//! - every fetch has a timeout and a size cap and follows no redirect; the cache holds a bounded
//!   number of sets.

use std::sync::{Arc, Mutex};

use crate::by_name::{normalized_headers, ByName};
use std::time::{Duration, Instant};

use crate::error::{codes, Error, Result};
use crate::http;
use crate::keys::{Alg, Key, KeySet};

const MAX_URIS: usize = 256;
const MIN_MAX_AGE: Duration = Duration::from_secs(30);
/// How long keys may serve past their freshness while the key server fails, by default.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(24 * 3600);

/// Mirrors jose's `remoteJwkSet` options, plus `max_stale`.
#[derive(Debug, Clone, PartialEq)]
pub struct JwksOptions {
    pub timeout: Duration,
    pub cooldown: Duration,
    /// The longest the keys count as fresh; a server's `max-age` can only shorten it.
    pub cache_max_age: Duration,
    /// The longest known keys keep serving past their freshness while refreshes fail.
    pub max_stale: Duration,
    pub headers: Vec<(String, String)>,
    pub max_bytes: usize,
}

impl Default for JwksOptions {
    fn default() -> Self {
        JwksOptions {
            timeout: Duration::from_secs(5),
            cooldown: Duration::from_secs(30),
            cache_max_age: Duration::from_secs(600),
            max_stale: DEFAULT_MAX_STALE,
            headers: vec![],
            max_bytes: 512 * 1024,
        }
    }
}

impl JwksOptions {
    /// Refuses durations that cannot be honoured (see [`crate::duration::check`]).
    pub fn validate(&self) -> Result<()> {
        use crate::duration::check;
        check("timeout", self.timeout)?;
        check("cooldown", self.cooldown)?;
        check("cache max age", self.cache_max_age)?;
        check("max staleness", self.max_stale)?;
        if self.timeout.is_zero() {
            return Err(crate::duration::invalid(
                "The JWK Set fetch timeout must be more than 0.",
            ));
        }
        Ok(())
    }
}

#[derive(Clone)]
struct Loaded {
    set: Arc<KeySet>,
    fetched_at: Instant,
    max_age: Duration,
}

impl Loaded {
    fn fresh(&self) -> bool {
        self.fetched_at.elapsed() < self.max_age
    }

    /// Fresh, or stale by no more than `max_stale`.
    fn servable(&self, opts: &JwksOptions) -> bool {
        self.fetched_at.elapsed() < self.max_age.saturating_add(opts.max_stale)
    }
}

#[derive(Default)]
struct State {
    loaded: Option<Loaded>,
    /// When the last fetch started: requests that waited for it use its result.
    last_attempt: Option<Instant>,
    /// When a refresh last failed or did not produce the key it was made for.
    cooling_since: Option<Instant>,
    /// When a failed signature of a token without `kid` last caused a refresh.
    signature_refresh_at: Option<Instant>,
    last_error: Option<Error>,
    in_flight: bool,
    fetches: u64,
}

#[derive(Default)]
struct Remote {
    state: Mutex<State>,
    fetch_lock: tokio::sync::Mutex<()>,
}

/// What the cache can say without I/O.
pub enum Lookup {
    /// Keys that may verify the token (possibly stale while the server is failing).
    Keys(Arc<KeySet>),
    /// The keys must be (re)fetched first.
    Fetch,
}

/// Cached sets by URI, then by the configured headers they are fetched with.
type Remotes = ByName<Vec<(String, String)>, Arc<Remote>>;

#[derive(Default)]
pub struct JwksCache {
    remotes: Mutex<Remotes>,
}

impl JwksCache {
    fn remote(&self, uri: &str, opts: &JwksOptions) -> Arc<Remote> {
        let headers = normalized_headers(&opts.headers);
        let mut map = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = map.get(uri, &headers) {
            return r.clone();
        }
        if map.len() >= MAX_URIS {
            // Drop the least recently fetched set; it is refetched if it is used again.
            map.evict_min_by_key(|r| r.state.lock().map(|s| s.last_attempt).ok().flatten());
        }
        map.get_or_insert_with(uri, &headers, Arc::default).clone()
    }

    /// How many times `uri` was fetched, whatever headers (for tests and benchmarks).
    pub fn fetch_count(&self, uri: &str) -> u64 {
        let map = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
        map.named(uri)
            .map(|r| r.state.lock().map(|s| s.fetches).unwrap_or(0))
            .sum()
    }

    /// Forgets every set: the next verification fetches afresh.
    pub fn clear(&self) {
        self.remotes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Keys for (`alg`, `kid`) without I/O, or `Fetch` if the set must be loaded or refreshed.
    pub fn lookup(
        &self,
        uri: &str,
        alg: Alg,
        kid: Option<&str>,
        opts: &JwksOptions,
    ) -> Result<Lookup> {
        let remote = self.remote(uri, opts);
        let st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.in_flight {
            // Somebody is fetching right now: wait for that fetch rather than fail.
            if let Some(l) = &st.loaded {
                if l.servable(opts) && l.set.candidates(alg, kid).next().is_some() {
                    return Ok(Lookup::Keys(l.set.clone()));
                }
            }
            return Ok(Lookup::Fetch);
        }
        let Some(loaded) = &st.loaded else {
            return match cooling(&st, opts) {
                true => Err(fetch_failed(uri, st.last_error.as_ref())),
                false => Ok(Lookup::Fetch),
            };
        };
        let has_key = loaded.set.candidates(alg, kid).next().is_some();
        if loaded.fresh() && has_key {
            return Ok(Lookup::Keys(loaded.set.clone()));
        }
        if cooling(&st, opts) {
            // Known keys serve while a failed server cools down, up to the staleness bound.
            return match loaded.servable(opts) {
                true => Ok(Lookup::Keys(loaded.set.clone())),
                false => Err(too_stale(uri, st.last_error.as_ref())),
            };
        }
        Ok(Lookup::Fetch)
    }

    /// Whether a failed signature of a token without `kid` may refresh the set now (no I/O):
    /// once per cooldown, and not while a fetch is running.
    pub fn may_refresh_for_signature(&self, uri: &str, opts: &JwksOptions) -> bool {
        let remote = self.remote(uri, opts);
        let st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
        signature_refresh_allowed(&st, opts)
    }

    /// Refreshes the set after a failed signature of a token without `kid`, at most once per
    /// cooldown; `None` when not allowed or when the set did not change.
    pub async fn refresh_for_signature(
        &self,
        uri: &str,
        opts: &JwksOptions,
    ) -> Result<Option<Arc<KeySet>>> {
        let remote = self.remote(uri, opts);
        let _guard = remote.fetch_lock.lock().await;
        let before = {
            let mut st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
            if !signature_refresh_allowed(&st, opts) {
                return Ok(None);
            }
            st.signature_refresh_at = Some(Instant::now());
            st.loaded.as_ref().map(|l| l.set.clone())
        };
        let after = self.fetch_locked(&remote, uri, None, opts).await?;
        Ok(match before {
            Some(b) if Arc::ptr_eq(&b, &after) => None,
            _ => Some(after),
        })
    }

    /// Loads or refreshes `uri` unless another caller just did (or the cooldown forbids it).
    pub async fn refresh(
        &self,
        uri: &str,
        alg: Alg,
        kid: Option<&str>,
        opts: &JwksOptions,
    ) -> Result<Arc<KeySet>> {
        let remote = self.remote(uri, opts);
        let waiting_since = Instant::now();
        let _guard = remote.fetch_lock.lock().await;
        {
            let st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
            let someone_fetched = st.last_attempt.is_some_and(|t| t >= waiting_since);
            // Whoever held the lock before us may have brought the key already.
            let have_it = st
                .loaded
                .as_ref()
                .is_some_and(|l| l.fresh() && l.set.candidates(alg, kid).next().is_some());
            if someone_fetched || have_it || cooling(&st, opts) {
                return match (&st.loaded, &st.last_error) {
                    (Some(l), _) if l.servable(opts) => Ok(l.set.clone()),
                    (Some(_), e) => Err(too_stale(uri, e.as_ref())),
                    (None, e) => Err(fetch_failed(uri, e.as_ref())),
                };
            }
        }
        self.fetch_locked(&remote, uri, Some((alg, kid)), opts)
            .await
    }

    /// One fetch; the caller holds `remote.fetch_lock`. `wanted`: the key the fetch is for (a
    /// refresh that does not bring it starts the cooldown).
    async fn fetch_locked(
        &self,
        remote: &Remote,
        uri: &str,
        wanted: Option<(Alg, Option<&str>)>,
        opts: &JwksOptions,
    ) -> Result<Arc<KeySet>> {
        {
            let mut st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
            st.last_attempt = Some(Instant::now());
            st.in_flight = true;
            st.fetches += 1;
        }
        // Clears `in_flight` even if this future is dropped mid-fetch.
        struct InFlight<'a>(&'a Remote);
        impl Drop for InFlight<'_> {
            fn drop(&mut self) {
                let mut st = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
                st.in_flight = false;
            }
        }
        let in_flight = InFlight(remote);
        let g = crate::runtime::globals();
        let mut headers = opts.headers.clone();
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            headers.push((
                "accept".into(),
                "application/json, application/jwk-set+json".into(),
            ));
        }
        // No redirect is followed: the configured headers go to the configured origin only.
        let result = http::get_json(
            &g.http_no_redirects,
            uri,
            &headers,
            opts.timeout,
            opts.max_bytes,
        )
        .await
        .map_err(|e| {
            Error::token(codes::TOKEN_VERIFICATION_FAILED)
                .with_cause(format!("Failed to fetch the JWK Set from {uri}: {e}"))
        })
        .and_then(|r| Ok((KeySet::from_json(&r.body)?, r.max_age)));
        drop(in_flight);
        let mut st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok((set, max_age)) => {
                for n in &set.notices {
                    crate::notice::raise(format!("JWK Set {uri}: {n}"));
                }
                let set = Arc::new(set);
                st.loaded = Some(Loaded {
                    set: set.clone(),
                    fetched_at: Instant::now(),
                    max_age: max_age
                        .map(|a| a.max(MIN_MAX_AGE).min(opts.cache_max_age))
                        .unwrap_or(opts.cache_max_age),
                });
                st.last_error = None;
                let found = match wanted {
                    Some((alg, kid)) => set.candidates(alg, kid).next().is_some(),
                    None => true,
                };
                st.cooling_since = (!found).then(Instant::now);
                Ok(set)
            }
            Err(e) => {
                st.last_error = Some(e.clone());
                st.cooling_since = Some(Instant::now());
                match &st.loaded {
                    Some(l) if l.servable(opts) => Ok(l.set.clone()),
                    Some(_) => Err(too_stale(uri, Some(&e))),
                    None => Err(e),
                }
            }
        }
    }

    /// Seeds a set as if it had just been fetched with default headers (benchmarks and tests).
    pub fn insert(&self, uri: &str, set: KeySet, max_age: Duration) {
        let remote = self.remote(uri, &JwksOptions::default());
        let mut st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
        st.loaded = Some(Loaded {
            set: Arc::new(set),
            fetched_at: Instant::now(),
            max_age,
        });
    }
}

fn cooling(st: &State, opts: &JwksOptions) -> bool {
    st.cooling_since
        .is_some_and(|t| t.elapsed() < opts.cooldown)
}

fn signature_refresh_allowed(st: &State, opts: &JwksOptions) -> bool {
    !st.in_flight
        && st.loaded.is_some()
        && st
            .signature_refresh_at
            .is_none_or(|t| t.elapsed() >= opts.cooldown)
}

fn fetch_failed(uri: &str, last: Option<&Error>) -> Error {
    last.cloned().unwrap_or_else(|| {
        Error::token(codes::TOKEN_VERIFICATION_FAILED)
            .with_cause(format!("The JWK Set at {uri} is not available yet."))
    })
}

fn too_stale(uri: &str, last: Option<&Error>) -> Error {
    let why = last
        .and_then(|e| e.details().cause.as_ref())
        .and_then(|c| c.as_str())
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    Error::token(codes::TOKEN_VERIFICATION_FAILED).with_cause(format!(
        "The keys of {uri} are older than the staleness limit and cannot be refreshed{why}."
    ))
}

/// Where a verifier's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS URI, fetched and cached process-wide.
    Remote { uri: String, options: JwksOptions },
    /// Keys given directly (a JWK Set or one JWK, or an HMAC secret).
    Static(Arc<KeySet>),
}

impl KeySource {
    /// One key given directly; it verifies tokens whatever `kid` they name.
    pub fn static_key(key: Key) -> Self {
        KeySource::Static(Arc::new(KeySet {
            keys: vec![Arc::new(key.standalone())],
            notices: vec![],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_headers(h: &[(&str, &str)]) -> JwksOptions {
        JwksOptions {
            headers: h
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..JwksOptions::default()
        }
    }

    #[test]
    fn one_set_per_uri_and_headers_and_a_bounded_number_of_them() {
        let c = JwksCache::default();
        let plain = JwksOptions::default();
        let a = c.remote("https://a.example/jwks", &plain);
        assert!(Arc::ptr_eq(&a, &c.remote("https://a.example/jwks", &plain)));
        // Header names compare case-insensitively and in any order; values do not.
        let h1 = c.remote(
            "https://a.example/jwks",
            &with_headers(&[("X-A", "1"), ("x-b", "2")]),
        );
        let h2 = c.remote(
            "https://a.example/jwks",
            &with_headers(&[("x-b", "2"), ("x-a", "1")]),
        );
        assert!(Arc::ptr_eq(&h1, &h2) && !Arc::ptr_eq(&a, &h1));
        let h3 = c.remote("https://a.example/jwks", &with_headers(&[("x-a", "other")]));
        assert!(!Arc::ptr_eq(&h1, &h3));
        for i in 0..MAX_URIS + 10 {
            c.remote(&format!("https://k{i}.example/jwks"), &plain);
        }
        assert_eq!(c.remotes.lock().unwrap().len(), MAX_URIS);
        let last = format!("https://k{}.example/jwks", MAX_URIS + 9);
        let kept = c.remote(&last, &plain);
        assert!(Arc::ptr_eq(&kept, &c.remote(&last, &plain)));
        c.clear();
        assert_eq!(c.remotes.lock().unwrap().len(), 0);
        // After `clear` the same URI gets a new, empty set.
        assert!(!Arc::ptr_eq(&kept, &c.remote(&last, &plain)));
        assert_eq!(c.fetch_count(&last), 0);
    }
}
