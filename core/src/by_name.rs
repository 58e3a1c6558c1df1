//! The shape of the process-wide caches that every request consults (`jwks.rs` by key-set URI,
//! `metadata/cache.rs` by issuer): entries found by a name and, beside it, the settings that
//! keep one configuration's entry from serving another's.
//!
//! A lookup borrows the name, so the request path allocates nothing to find its entry; the
//! settings are compared in a short list (one per configuration using the name, almost always
//! one).

use std::collections::HashMap;

/// Configured request headers in the form entries are told apart by: names lower-cased,
/// sorted. Without headers (the usual case) an empty `Vec`, which does not allocate.
pub(crate) fn normalized_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    out.sort();
    out
}

/// Entries `E` by name and settings `S`.
#[derive(Debug)]
pub(crate) struct ByName<S, E> {
    map: HashMap<String, Vec<(S, E)>, foldhash::fast::RandomState>,
    len: usize,
}

impl<S, E> Default for ByName<S, E> {
    fn default() -> Self {
        ByName {
            map: HashMap::default(),
            len: 0,
        }
    }
}

impl<S: PartialEq + Clone, E> ByName<S, E> {
    /// How many entries, all names together.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, name: &str, settings: &S) -> Option<&E> {
        let list = self.map.get(name)?;
        list.iter().find(|(s, _)| s == settings).map(|(_, e)| e)
    }

    pub fn get_or_insert_with(
        &mut self,
        name: &str,
        settings: &S,
        new: impl FnOnce() -> E,
    ) -> &mut E {
        let list = self.map.entry(name.to_string()).or_default();
        let i = match list.iter().position(|(s, _)| s == settings) {
            Some(i) => i,
            None => {
                list.push((settings.clone(), new()));
                self.len += 1;
                list.len() - 1
            }
        };
        &mut list[i].1
    }

    /// The entries of `name`, whatever their settings.
    pub fn named(&self, name: &str) -> impl Iterator<Item = &E> {
        self.map.get(name).into_iter().flatten().map(|(_, e)| e)
    }

    /// Drops the entry with the least `key` (the stalest, for the caches).
    pub fn evict_min_by_key<K: Ord>(&mut self, mut key: impl FnMut(&E) -> K) {
        let oldest = self
            .map
            .iter()
            .flat_map(|(n, list)| list.iter().map(move |(s, e)| (n, s, e)))
            .min_by_key(|(_, _, e)| key(e))
            .map(|(n, s, _)| (n.clone(), s.clone()));
        let Some((name, settings)) = oldest else {
            return;
        };
        if let Some(list) = self.map.get_mut(&name) {
            list.retain(|(s, _)| *s != settings);
            if list.is_empty() {
                self.map.remove(&name);
            }
        }
        self.len -= 1;
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.len = 0;
    }

    #[cfg(test)]
    pub fn names(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_kept_apart_by_settings_and_the_least_goes_first() {
        let mut m: ByName<u8, u32> = ByName::default();
        *m.get_or_insert_with("a", &1, || 0) = 10;
        *m.get_or_insert_with("a", &2, || 0) = 30;
        *m.get_or_insert_with("b", &1, || 0) = 20;
        // An existing entry is found, not replaced.
        assert_eq!(*m.get_or_insert_with("a", &1, || 99), 10);
        assert_eq!((m.len(), m.names()), (3, 2));
        assert_eq!(m.get("a", &2), Some(&30));
        assert_eq!(m.get("a", &3), None);
        assert_eq!(m.get("c", &1), None);
        assert_eq!(m.named("a").sum::<u32>(), 40);
        m.evict_min_by_key(|e| *e);
        assert_eq!((m.get("a", &1), m.len()), (None, 2));
        m.evict_min_by_key(|e| *e);
        m.evict_min_by_key(|e| *e);
        assert_eq!((m.len(), m.names()), (0, 0));
        m.evict_min_by_key(|e| *e); // nothing left: no underflow
        assert_eq!(m.len(), 0);
        m.get_or_insert_with("d", &1, || 1);
        m.clear();
        assert_eq!((m.len(), m.names(), m.get("d", &1)), (0, 0, None));
    }

    #[test]
    fn headers_compare_by_lower_cased_name_in_any_order() {
        let h = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            normalized_headers(&h(&[("X-B", "2"), ("x-a", "1")])),
            normalized_headers(&h(&[("x-a", "1"), ("x-b", "2")]))
        );
        assert_ne!(
            normalized_headers(&h(&[("x-a", "1")])),
            normalized_headers(&h(&[("x-a", "One")]))
        );
        assert!(normalized_headers(&[]).is_empty());
    }
}
