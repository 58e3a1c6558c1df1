//! Metadata of lazily configured (`{issuer, type}`) authorization servers.
//!
//! One fetch serves every concurrent first request; a success is kept for a TTL and then
//! refreshed (the old value keeps serving if the refresh fails, up to `max_stale` past the TTL);
//! failures are not cached. Entries are kept apart by the fetch's headers and whether the issuer
//! is checked, so one configuration never serves another the metadata it fetched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fetch::{fetch_server_config, FetchOptions};
use super::model::{AuthServerType, ServerConfig};
use super::validate::{validate_server_config, ValidationResult};
use crate::error::{codes, Error, Flavor, Result};

pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// After a failed refresh, the old metadata serves this long before the next attempt.
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Different issuers a process can track; beyond it the stalest entry is dropped.
const MAX_ENTRIES: usize = 256;

/// Issuer, type, the fetch's headers (names lower-cased, sorted) and the issuer check.
type Key = (String, Option<AuthServerType>, Vec<(String, String)>, bool);

fn key(issuer: &str, ty: Option<AuthServerType>, opts: &FetchOptions) -> Key {
    let mut headers: Vec<(String, String)> = opts
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    (issuer.to_string(), ty, headers, opts.check_issuer)
}

#[derive(Clone)]
pub struct Discovered {
    pub config: Arc<ServerConfig>,
    pub validation: Arc<ValidationResult>,
    fetched_at: Instant,
}

#[derive(Default)]
struct Entry {
    value: Option<Discovered>,
    /// The last failed fetch, handed to requests that were already waiting for it.
    last_failure: Option<(Instant, Error)>,
    fetch_lock: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl MetadataCache {
    /// The cached config if it is fresh (no I/O).
    pub fn get_fresh(
        &self,
        issuer: &str,
        ty: Option<AuthServerType>,
        ttl: Duration,
        opts: &FetchOptions,
    ) -> Option<Discovered> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.get(&key(issuer, ty, opts))?;
        // Stale metadata keeps serving while a failed refresh cools down, within the bound.
        let cooling = e
            .last_failure
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < RETRY_AFTER);
        e.value.clone().filter(|v| {
            let age = v.fetched_at.elapsed();
            age < ttl || (cooling && age < ttl.saturating_add(opts.max_stale))
        })
    }

    /// Forgets every entry: the next use fetches afresh.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The config, fetching it if absent or older than `ttl`.
    pub async fn get(
        &self,
        issuer: &str,
        ty: Option<AuthServerType>,
        ttl: Duration,
        opts: &FetchOptions,
    ) -> Result<Discovered> {
        if let Some(v) = self.get_fresh(issuer, ty, ttl, opts) {
            return Ok(v);
        }
        let key = key(issuer, ty, opts);
        let waiting_since = Instant::now();
        let lock = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
                evict_oldest(&mut map);
            }
            map.entry(key.clone()).or_default().fetch_lock.clone()
        };
        let _guard = lock.lock().await;
        // Whoever held the lock before us may have fetched it already.
        if let Some(v) = self.get_fresh(issuer, ty, ttl, opts) {
            return Ok(v);
        }
        {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, err)) = map.get(&key).and_then(|e| e.last_failure.clone()) {
                if at >= waiting_since {
                    return Err(err);
                }
            }
        }
        match fetch_and_validate(issuer, ty, opts).await {
            Ok(d) => {
                let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.entry(key).or_default();
                entry.value = Some(d.clone());
                entry.last_failure = None;
                Ok(d)
            }
            Err(e) => {
                let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.entry(key).or_default();
                entry.last_failure = Some((Instant::now(), e.clone()));
                match entry.value.clone() {
                    Some(stale)
                        if stale.fetched_at.elapsed() < ttl.saturating_add(opts.max_stale) =>
                    {
                        Ok(stale)
                    }
                    _ => Err(e),
                }
            }
        }
    }
}

fn evict_oldest(map: &mut HashMap<Key, Entry>) {
    let oldest = map
        .iter()
        .min_by_key(|(_, e)| e.value.as_ref().map(|v| v.fetched_at))
        .map(|(k, _)| k.clone());
    if let Some(k) = oldest {
        map.remove(&k);
    }
}

async fn fetch_and_validate(
    issuer: &str,
    ty: Option<AuthServerType>,
    opts: &FetchOptions,
) -> Result<Discovered> {
    let config = fetch_server_config(issuer, ty, None, opts).await?;
    let validation = validate_server_config(&config.metadata, Flavor::Node);
    if !validation.is_valid {
        let codes_list: Vec<&str> = validation.errors.iter().map(|f| f.code).collect();
        return Err(
            Error::auth_server(codes::INVALID_SERVER_CONFIG).with_error_description(format!(
                "The authorization server (`{issuer}`) does not fit the MCP specification: {}.",
                codes_list.join(", ")
            )),
        );
    }
    Ok(Discovered {
        config: Arc::new(config),
        validation: Arc::new(validation),
        fetched_at: Instant::now(),
    })
}
