//! Scope names and the scope hierarchy: which broader scopes imply which narrower ones.
//!
//! MCP 2026-07-28 says a server MUST account for scope hierarchies when it decides whether a
//! token is sufficient for an operation. The map is given by the server's operator (there is no
//! standard way to discover it); it is closed transitively once, at configuration time, so the
//! per-request check is a set lookup.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};

pub const INVALID_SCOPE_CONFIG: &str = "invalid_scope_config";

fn config(message: impl Into<String>) -> Error {
    Error::config(INVALID_SCOPE_CONFIG, message)
}

/// RFC 6749 §3.3 `scope-token`: one or more of %x21 / %x23-5B / %x5D-7E.
pub fn check_scope_name(scope: &str, what: &str) -> Result<()> {
    let ok = !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(config(format!(
            "{what}: `{}` is not a scope name (RFC 6749 §3.3: visible ASCII, no space, `\"` or `\\`).",
            scope.escape_debug()
        )))
    }
}

/// `scope -> scopes it implies`, closed transitively.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeHierarchy {
    implied: HashMap<String, HashSet<String>>,
}

impl ScopeHierarchy {
    /// Builds the hierarchy from direct implications; a cycle (a scope that ends up implying
    /// itself) is a configuration error, since it makes "broader" meaningless.
    pub fn new<I, S>(direct: I) -> Result<Self>
    where
        I: IntoIterator<Item = (S, Vec<S>)>,
        S: Into<String>,
    {
        let mut graph: HashMap<String, Vec<String>> = HashMap::new();
        for (broad, narrow) in direct {
            let broad = broad.into();
            check_scope_name(&broad, "scope hierarchy")?;
            let entry = graph.entry(broad.clone()).or_default();
            for n in narrow {
                let n = n.into();
                check_scope_name(&n, "scope hierarchy")?;
                entry.push(n);
            }
        }
        let mut implied = HashMap::new();
        for start in graph.keys() {
            let mut seen: HashSet<String> = HashSet::new();
            let mut stack: Vec<&str> = graph[start].iter().map(String::as_str).collect();
            while let Some(s) = stack.pop() {
                if s == start {
                    return Err(config(format!(
                        "scope hierarchy: `{start}` implies itself through a cycle."
                    )));
                }
                if seen.insert(s.to_string()) {
                    if let Some(next) = graph.get(s) {
                        stack.extend(next.iter().map(String::as_str));
                    }
                }
            }
            implied.insert(start.clone(), seen);
        }
        Ok(ScopeHierarchy { implied })
    }

    pub fn is_empty(&self) -> bool {
        self.implied.is_empty()
    }

    /// True when `granted` holds `needed` itself or a scope that implies it.
    pub fn satisfies(&self, granted: &[String], needed: &str) -> bool {
        granted.iter().any(|g| {
            g == needed
                || self
                    .implied
                    .get(g.as_str())
                    .is_some_and(|set| set.contains(needed))
        })
    }
}

/// The scopes of `required` that `granted` does not satisfy, in `required`'s order.
pub fn missing(
    hierarchy: Option<&ScopeHierarchy>,
    granted: &[String],
    required: &[String],
) -> Vec<String> {
    required
        .iter()
        .filter(|r| match hierarchy {
            Some(h) => !h.satisfies(granted, r),
            None => !granted.iter().any(|g| g == *r),
        })
        .cloned()
        .collect()
}

/// `out` then the scopes of `more` not already in it: stable, without duplicates. Scope lists
/// are a handful of names, so a linear scan beats building a set per request.
pub fn union_into(out: &mut Vec<String>, more: &[String]) {
    for s in more {
        if !out.iter().any(|o| o == s) {
            out.push(s.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn transitive_and_cycles() {
        let h = ScopeHierarchy::new([
            ("notes:admin", vec!["notes:write"]),
            ("notes:write", vec!["notes:read"]),
        ])
        .unwrap();
        assert!(h.satisfies(&s(&["notes:admin"]), "notes:read"));
        assert!(!h.satisfies(&s(&["notes:read"]), "notes:write"));
        assert_eq!(
            missing(
                Some(&h),
                &s(&["notes:write"]),
                &s(&["notes:read", "notes:admin"])
            ),
            s(&["notes:admin"])
        );
        let e = ScopeHierarchy::new([("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])])
            .unwrap_err();
        assert_eq!(e.code(), INVALID_SCOPE_CONFIG);
        assert!(ScopeHierarchy::new([("a", vec!["a"])]).is_err());
        assert!(ScopeHierarchy::new([("a b", vec!["c"])]).is_err());
        assert!(ScopeHierarchy::new([("a", vec![""])]).is_err());
    }
}
