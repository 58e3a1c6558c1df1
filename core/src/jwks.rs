//! Remote JWK Sets, cached process-wide by URI.
//!
//! - fresh for `cache_max_age` (or the server's `Cache-Control: max-age`, clamped);
//! - an unknown `kid` triggers a refresh; a refresh that did not produce the key (or failed)
//!   starts a `cooldown` during which no other refresh happens, so a flood of made-up `kid`s costs
//!   one fetch per cooldown, while a genuine rotation (the new key is in the refreshed set) is
//!   picked up at once, however recent the previous rotation was;
//! - one fetch at a time per URI, shared by everyone who was waiting for it;
//! - if a refresh fails, the keys already known keep working (stale-if-error);
//! - every fetch has a timeout and a size cap; the cache holds a bounded number of URIs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{codes, Error, Result};
use crate::http;
use crate::keys::{Alg, Key, KeySet};

const MAX_URIS: usize = 256;
const MIN_MAX_AGE: Duration = Duration::from_secs(30);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Mirrors jose's `remoteJwkSet` options.
#[derive(Debug, Clone, PartialEq)]
pub struct JwksOptions {
    pub timeout: Duration,
    pub cooldown: Duration,
    pub cache_max_age: Duration,
    pub headers: Vec<(String, String)>,
    pub max_bytes: usize,
}

impl Default for JwksOptions {
    fn default() -> Self {
        JwksOptions {
            timeout: Duration::from_secs(5),
            cooldown: Duration::from_secs(30),
            cache_max_age: Duration::from_secs(600),
            headers: vec![],
            max_bytes: 512 * 1024,
        }
    }
}

#[derive(Clone)]
struct Loaded {
    set: Arc<KeySet>,
    fetched_at: Instant,
    max_age: Duration,
}

#[derive(Default)]
struct State {
    loaded: Option<Loaded>,
    /// When the last fetch started: requests that waited for it use its result.
    last_attempt: Option<Instant>,
    /// When a refresh last failed or did not produce the key it was made for.
    cooling_since: Option<Instant>,
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

#[derive(Default)]
pub struct JwksCache {
    remotes: Mutex<HashMap<String, Arc<Remote>>>,
}

impl JwksCache {
    fn remote(&self, uri: &str) -> Arc<Remote> {
        let mut map = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = map.get(uri) {
            return r.clone();
        }
        if map.len() >= MAX_URIS {
            // Drop the least recently fetched set; it is refetched if it is used again.
            let oldest = map
                .iter()
                .min_by_key(|(_, r)| r.state.lock().map(|s| s.last_attempt).ok().flatten())
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        map.entry(uri.to_string()).or_default().clone()
    }

    /// How many times `uri` was fetched (for tests and benchmarks).
    pub fn fetch_count(&self, uri: &str) -> u64 {
        let map = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
        map.get(uri)
            .map(|r| r.state.lock().map(|s| s.fetches).unwrap_or(0))
            .unwrap_or(0)
    }

    /// Forget everything (tests).
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
        let remote = self.remote(uri);
        let st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.in_flight {
            // Somebody is fetching right now: wait for that fetch rather than fail.
            if let Some(l) = &st.loaded {
                if l.set.candidates(alg, kid).next().is_some() {
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
        let fresh = loaded.fetched_at.elapsed() < loaded.max_age;
        let has_key = loaded.set.candidates(alg, kid).next().is_some();
        if (fresh && has_key) || cooling(&st, opts) {
            // Known keys serve while fresh, and also while a failed server is cooling down.
            return Ok(Lookup::Keys(loaded.set.clone()));
        }
        Ok(Lookup::Fetch)
    }

    /// Loads or refreshes `uri` unless another caller just did (or the cooldown forbids it).
    pub async fn refresh(
        &self,
        uri: &str,
        alg: Alg,
        kid: Option<&str>,
        opts: &JwksOptions,
    ) -> Result<Arc<KeySet>> {
        let remote = self.remote(uri);
        let waiting_since = Instant::now();
        let _guard = remote.fetch_lock.lock().await;
        {
            let st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
            let someone_fetched = st.last_attempt.is_some_and(|t| t >= waiting_since);
            // Whoever held the lock before us may have brought the key already.
            let have_it = st.loaded.as_ref().is_some_and(|l| {
                l.fetched_at.elapsed() < l.max_age && l.set.candidates(alg, kid).next().is_some()
            });
            if someone_fetched || have_it || cooling(&st, opts) {
                return match (&st.loaded, &st.last_error) {
                    (Some(l), _) => Ok(l.set.clone()),
                    (None, e) => Err(fetch_failed(uri, e.as_ref())),
                };
            }
        }
        let attempt = Instant::now();
        {
            let mut st = remote.state.lock().unwrap_or_else(|p| p.into_inner());
            st.last_attempt = Some(attempt);
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
        let in_flight = InFlight(&remote);
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
        let result = http::get_json(&g.http, uri, &headers, opts.timeout, opts.max_bytes)
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
                let set = Arc::new(set);
                st.loaded = Some(Loaded {
                    set: set.clone(),
                    fetched_at: Instant::now(),
                    max_age: max_age
                        .map(|a| a.clamp(MIN_MAX_AGE, MAX_MAX_AGE))
                        .unwrap_or(opts.cache_max_age),
                });
                st.last_error = None;
                let found = set.candidates(alg, kid).next().is_some();
                st.cooling_since = (!found).then(Instant::now);
                Ok(set)
            }
            Err(e) => {
                st.last_error = Some(e.clone());
                st.cooling_since = Some(Instant::now());
                match &st.loaded {
                    Some(l) => Ok(l.set.clone()),
                    None => Err(e),
                }
            }
        }
    }

    /// Seeds a set as if it had just been fetched (benchmarks and tests).
    pub fn insert(&self, uri: &str, set: KeySet, max_age: Duration) {
        let remote = self.remote(uri);
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

fn fetch_failed(uri: &str, last: Option<&Error>) -> Error {
    last.cloned().unwrap_or_else(|| {
        Error::token(codes::TOKEN_VERIFICATION_FAILED)
            .with_cause(format!("The JWK Set at {uri} is not available yet."))
    })
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
        }))
    }
}
