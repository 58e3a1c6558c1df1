//! Tokens a verifier has already verified, so that a client sending the same token on every
//! request pays for its signature once.
//!
//! What is kept is what a full verification would compute again from the same bytes: the
//! answer (claims and what is read from them), and the key set the signature was checked
//! against. A hit is used only while that
//! very key set (the same `Arc`) is still the one the key cache serves for the token; the
//! first hit that finds another set empties the cache, so a rotated or revoked key never
//! verifies a token again. Everything that depends on the clock (`exp`, `nbf`, `iat`, a
//! maximum token age) and the claim rules run on every hit, as they do on a miss. Only
//! successful verifications are kept, keyed by the whole token, and each verifier has its own
//! cache, so its options (algorithms, `typ`, leeway, claim rules) are the ones every entry was
//! checked with.
//!
//! Bounded by entries and by token bytes; the oldest entry goes first, so a token sent on
//! every request is verified again at most once per `MAX_ENTRIES` other tokens. A miss costs
//! one hash of the token and no copy of its claims: the answer is computed again, once, on
//! the token's first hit, so a stream of tokens each seen once pays almost nothing for the
//! cache.

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use crate::jwt::AuthInfo;
use crate::keys::{Alg, KeySet};

/// At most this many tokens per verifier.
pub const MAX_ENTRIES: usize = 1024;
/// At most this many bytes of tokens per verifier (their answers are about as large again).
pub const MAX_TOTAL_BYTES: usize = 2 * 1024 * 1024;
/// Larger tokens are verified every time: one of them would crowd out many ordinary ones.
pub const MAX_CACHED_TOKEN: usize = 16 * 1024;

/// One verified token.
#[derive(Debug)]
pub struct Entry {
    /// The key set whose key verified the signature.
    pub keys: Arc<KeySet>,
    pub alg: Alg,
    pub kid: Option<String>,
    /// Its `iss`, which picks the trusted server whose keys must still be `keys`.
    pub issuer: String,
    /// The answer, computed on the token's first hit; its `token` is left empty (the key is
    /// the token) and filled in on every hit.
    pub info: OnceLock<AuthInfo>,
}

impl Entry {
    pub fn new(keys: Arc<KeySet>, alg: Alg, kid: Option<String>, issuer: String) -> Self {
        Entry {
            keys,
            alg,
            kid,
            issuer,
            info: OnceLock::new(),
        }
    }
}

type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Arc<str>, Arc<Entry>, Hasher>,
    /// Insertion order, oldest first; holds exactly the keys of `map`.
    order: VecDeque<Arc<str>>,
    bytes: usize,
}

impl Inner {
    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

#[derive(Debug, Default)]
pub struct VerifiedTokens {
    inner: Mutex<Inner>,
}

impl VerifiedTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, token: &str) -> Option<Arc<Entry>> {
        self.lock().map.get(token).cloned()
    }

    /// Keeps a token that has just been verified against `entry.keys`.
    pub fn insert(&self, token: &str, entry: Entry) {
        if token.len() > MAX_CACHED_TOKEN {
            return;
        }
        let key: Arc<str> = Arc::from(token);
        let mut guard = self.lock();
        let inner = &mut *guard;
        match inner.map.entry(key.clone()) {
            // Another thread verified the same token meanwhile; its place in the order stays.
            Slot::Occupied(mut o) => {
                o.insert(Arc::new(entry));
                return;
            }
            Slot::Vacant(v) => {
                v.insert(Arc::new(entry));
            }
        }
        inner.bytes += key.len();
        inner.order.push_back(key);
        while inner.map.len() > MAX_ENTRIES || inner.bytes > MAX_TOTAL_BYTES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.map.remove(&oldest);
            inner.bytes -= oldest.len();
        }
    }

    /// Forgets every token: a key set changed under one of them.
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        let keys = Arc::new(KeySet {
            keys: vec![],
            notices: vec![],
        });
        Entry::new(keys, Alg::RS256, None, String::new())
    }

    #[test]
    fn bounded_by_entries_oldest_first() {
        let c = VerifiedTokens::default();
        for i in 0..MAX_ENTRIES + 10 {
            c.insert(&format!("t{i}"), entry());
        }
        assert_eq!(c.len(), MAX_ENTRIES);
        assert!(c.get("t0").is_none());
        assert!(c.get("t9").is_none());
        assert!(c.get("t10").is_some());
        assert!(c.get(&format!("t{}", MAX_ENTRIES + 9)).is_some());
    }

    #[test]
    fn bounded_by_bytes() {
        let c = VerifiedTokens::default();
        let n = MAX_TOTAL_BYTES / MAX_CACHED_TOKEN;
        for i in 0..n + 3 {
            let t = format!("{i:05}{}", "x".repeat(MAX_CACHED_TOKEN - 5));
            c.insert(&t, entry());
        }
        assert_eq!(c.len(), n);
        assert!(c.lock().bytes <= MAX_TOTAL_BYTES);
    }

    #[test]
    fn oversized_tokens_are_not_kept() {
        let c = VerifiedTokens::default();
        c.insert(&"x".repeat(MAX_CACHED_TOKEN + 1), entry());
        assert!(c.is_empty());
    }

    #[test]
    fn a_repeated_insert_keeps_one_entry() {
        let c = VerifiedTokens::default();
        c.insert("a", entry());
        c.insert("a", entry());
        assert_eq!(c.len(), 1);
        assert_eq!(c.lock().order.len(), 1);
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.lock().bytes, 0);
    }
}
