//! Metadata of lazily configured (`{issuer, type}`) authorization servers.
//!
//! One fetch serves every concurrent first request; a success is kept for a TTL and then
//! refreshed (the old value keeps serving if the refresh fails, up to `max_stale` past the TTL);
//! failures are not cached. Entries are kept apart by the fetch's headers and whether the issuer
//! is checked, so one configuration never serves another the metadata it fetched.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fetch::{fetch_server_config, FetchOptions};
use super::model::{AuthServerType, ServerConfig};
use super::validate::{validate_server_config, ValidationResult};
use crate::by_name::{normalized_headers, ByName};
use crate::error::{codes, Error, Flavor, Result};

pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// After a failed refresh, the old metadata serves this long before the next attempt.
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Different issuers a process can track; beyond it the stalest entry is dropped.
const MAX_ENTRIES: usize = 256;

/// Beside the issuer, what tells entries apart: type, the fetch's headers and the issuer check.
type Variant = (Option<AuthServerType>, Vec<(String, String)>, bool);

fn variant(ty: Option<AuthServerType>, opts: &FetchOptions) -> Variant {
    (ty, normalized_headers(&opts.headers), opts.check_issuer)
}

/// Entries by issuer, then by variant.
type Entries = ByName<Variant, Entry>;

/// The eviction order: never fetched (a fetch in progress) first, then the stalest.
fn staleness(e: &Entry) -> Option<Instant> {
    e.value.as_ref().map(|v| v.fetched_at)
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
    entries: Mutex<Entries>,
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
        let e = map.get(issuer, &variant(ty, opts))?;
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
        let key = variant(ty, opts);
        let waiting_since = Instant::now();
        let lock = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= MAX_ENTRIES && map.get(issuer, &key).is_none() {
                map.evict_min_by_key(staleness);
            }
            map.get_or_insert_with(issuer, &key, Entry::default)
                .fetch_lock
                .clone()
        };
        let _guard = lock.lock().await;
        // Whoever held the lock before us may have fetched it already.
        if let Some(v) = self.get_fresh(issuer, ty, ttl, opts) {
            return Ok(v);
        }
        {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, err)) = map.get(issuer, &key).and_then(|e| e.last_failure.clone()) {
                if at >= waiting_since {
                    return Err(err);
                }
            }
        }
        match fetch_and_validate(issuer, ty, opts).await {
            Ok(d) => {
                let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.get_or_insert_with(issuer, &key, Entry::default);
                entry.value = Some(d.clone());
                entry.last_failure = None;
                Ok(d)
            }
            Err(e) => {
                let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.get_or_insert_with(issuer, &key, Entry::default);
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

#[cfg(test)]
mod tests {
    use super::super::model::AuthorizationServerMetadata;
    use super::*;

    fn fetched(secs_ago: u64) -> Entry {
        Entry {
            value: Some(Discovered {
                config: Arc::new(ServerConfig {
                    metadata: AuthorizationServerMetadata::from_json(serde_json::json!({
                        "issuer": "https://a.example",
                        "authorization_endpoint": "https://a.example/authorize",
                        "token_endpoint": "https://a.example/token",
                        "response_types_supported": ["code"],
                    }))
                    .unwrap(),
                    server_type: AuthServerType::OAuth,
                }),
                validation: Arc::new(ValidationResult {
                    is_valid: true,
                    errors: vec![],
                    warnings: vec![],
                    successes: vec![],
                }),
                fetched_at: Instant::now() - Duration::from_secs(secs_ago),
            }),
            ..Entry::default()
        }
    }

    #[test]
    fn the_stalest_entry_goes_first_and_one_never_fetched_before_it() {
        let mut e = Entries::default();
        let plain = variant(None, &FetchOptions::default());
        let oauth = variant(Some(AuthServerType::OAuth), &FetchOptions::default());
        *e.get_or_insert_with("https://a.example", &plain, Entry::default) = fetched(10);
        *e.get_or_insert_with("https://a.example", &oauth, Entry::default) = fetched(30);
        *e.get_or_insert_with("https://b.example", &plain, Entry::default) = fetched(20);
        assert_eq!(e.len(), 3);
        assert!(e.get("https://a.example", &plain).is_some());
        assert!(e.get("https://c.example", &plain).is_none());
        e.evict_min_by_key(staleness);
        assert_eq!(e.len(), 2);
        assert!(e.get("https://a.example", &oauth).is_none());
        assert!(e.get("https://a.example", &plain).is_some());
        // An entry never fetched (a fetch in progress) goes before any fetched one.
        e.get_or_insert_with("https://c.example", &plain, Entry::default);
        e.evict_min_by_key(staleness);
        assert!(e.get("https://c.example", &plain).is_none() && e.len() == 2);
        e.evict_min_by_key(staleness);
        e.evict_min_by_key(staleness);
        assert_eq!(e.len(), 0);
        e.evict_min_by_key(staleness); // nothing left: no underflow
        assert_eq!(e.len(), 0);
    }

    #[test]
    fn entries_are_kept_apart_by_type_headers_and_issuer_check() {
        let plain = FetchOptions::default();
        let headers = FetchOptions {
            headers: vec![("X-Tenant".into(), "a".into())],
            ..FetchOptions::default()
        };
        let unchecked = FetchOptions {
            check_issuer: !plain.check_issuer,
            ..FetchOptions::default()
        };
        let variants = [
            variant(None, &plain),
            variant(Some(AuthServerType::OAuth), &plain),
            variant(Some(AuthServerType::Oidc), &plain),
            variant(None, &headers),
            variant(None, &unchecked),
        ];
        let mut e = Entries::default();
        for v in &variants {
            e.get_or_insert_with("https://a.example", v, Entry::default);
        }
        assert_eq!(e.len(), variants.len());
        // Header names compare case-insensitively.
        let lower = FetchOptions {
            headers: vec![("x-tenant".into(), "a".into())],
            ..FetchOptions::default()
        };
        assert_eq!(variant(None, &lower), variants[3]);
    }
}
