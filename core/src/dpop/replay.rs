//! DPoP proof replay (RFC 9449 §11.1): a proof's `jti` is remembered for as long as its `iat`
//! keeps it acceptable, and a second use within that time is refused.
//!
//! Proofs are keyed by SHA-256 of the proof key's thumbprint and the `jti`, so that one
//! client's identifiers never collide with another's and every entry has the same small size
//! whatever the `jti` holds. A proof is recorded only once it has passed every other check, so
//! nobody without the proof key can fill the store or burn a client's identifiers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::task::Poll;

use aws_lc_rs::digest::{Context, SHA256};

use super::redis::RedisStore;
use crate::error::{codes, Error, Result};

/// Default largest number of live entries of the in-process store: about 12 MB, enough for
/// some 700 DPoP requests a second with the default 300 s window.
pub const DEFAULT_MAX_ENTRIES: usize = 250_000;

pub(crate) type ReplayKey = [u8; 32];

pub(crate) fn replay_key(jkt: &str, jti: &str) -> ReplayKey {
    let mut c = Context::new(&SHA256);
    c.update(jkt.as_bytes());
    c.update(&[0]);
    c.update(jti.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(c.finish().as_ref());
    k
}

/// Where seen proofs are remembered.
#[derive(Debug)]
pub enum ReplayStore {
    /// In this process: each replica refuses the replays it sees itself.
    Memory(MemoryStore),
    /// One Redis (or Valkey) for every replica.
    Redis(RedisStore),
}

impl ReplayStore {
    /// Records a proof valid until `until` (seconds since the epoch); `true` when it was not
    /// seen before. `Pending` when the store must be asked over the network.
    pub(crate) fn record_now(&self, key: &ReplayKey, until: f64, now: f64) -> Poll<Result<bool>> {
        match self {
            ReplayStore::Memory(m) => Poll::Ready(m.record(key, until, now)),
            ReplayStore::Redis(_) => Poll::Pending,
        }
    }

    /// [`Self::record_now`], asking the network store when there is one.
    pub(crate) async fn record(&self, key: &ReplayKey, until: f64, now: f64) -> Result<bool> {
        match self {
            ReplayStore::Memory(m) => m.record(key, until, now),
            ReplayStore::Redis(r) => r.record(key, until, now).await,
        }
    }
}

/// The in-process store: a map from proof key to expiry, bounded.
///
/// Expired entries are swept at most every `sweep_every` seconds and whenever the map is
/// full. When it is still full of live entries, a new proof is refused (503
/// `dpop_replay_store_full`) rather than an old entry forgotten: forgetting one would let
/// that proof be replayed.
#[derive(Debug)]
pub struct MemoryStore {
    max_entries: usize,
    sweep_every: f64,
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    entries: HashMap<ReplayKey, f64>,
    next_sweep: f64,
}

impl MemoryStore {
    pub fn new(max_entries: usize, sweep_every: f64) -> MemoryStore {
        MemoryStore {
            max_entries,
            sweep_every,
            inner: Mutex::default(),
        }
    }

    /// Live entries right now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record(&self, key: &ReplayKey, until: f64, now: f64) -> Result<bool> {
        let mut g = self.lock();
        if g.entries.get(key).is_some_and(|&exp| exp > now) {
            return Ok(false);
        }
        if now >= g.next_sweep || g.entries.len() >= self.max_entries {
            g.entries.retain(|_, exp| *exp > now);
            g.next_sweep = now + self.sweep_every;
        }
        if g.entries.len() >= self.max_entries {
            return Err(Error::config(
                codes::DPOP_REPLAY_STORE_FULL,
                "The DPoP replay store is full; try again later.",
            )
            .with_cause(format!(
                "{} proofs are still within their window (the store's limit).",
                self.max_entries
            )));
        }
        g.entries.insert(*key, until);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_seen_once_until_it_expires() {
        let s = MemoryStore::new(10, 60.0);
        let k = replay_key("jkt", "jti-1");
        assert!(s.record(&k, 1_000.0, 900.0).unwrap());
        assert!(!s.record(&k, 1_000.0, 999.0).unwrap());
        // Past its `until` the proof is too old for the window anyway.
        assert!(s.record(&k, 2_000.0, 1_000.0).unwrap());
        assert_ne!(replay_key("jkt", "jti-1"), replay_key("jkt2", "jti-1"));
        assert_ne!(replay_key("a", "bc"), replay_key("ab", "c"));
    }

    #[test]
    fn full_of_live_entries_it_refuses_and_recovers_when_they_expire() {
        let s = MemoryStore::new(2, 3600.0);
        assert!(s.record(&replay_key("k", "1"), 100.0, 0.0).unwrap());
        assert!(s.record(&replay_key("k", "2"), 200.0, 0.0).unwrap());
        let e = s.record(&replay_key("k", "3"), 300.0, 50.0).unwrap_err();
        assert_eq!(e.code(), codes::DPOP_REPLAY_STORE_FULL);
        // The first entry has expired: the sweep at the cap makes room.
        assert!(s.record(&replay_key("k", "3"), 300.0, 150.0).unwrap());
        assert_eq!(s.len(), 2);
        // The refused proof was not forgotten as seen: the live ones are still refused.
        assert!(!s.record(&replay_key("k", "2"), 200.0, 150.0).unwrap());
    }
}
