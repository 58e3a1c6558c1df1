//! The one shape every binding hands per-operation configuration over in, checked strictly:
//! `{ tool_scopes, resource_scopes, prompt_scopes, method_scopes: {name: [scope, ...]},
//!    scope_hierarchy: {scope: [implied, ...]}, max_body_bytes }`, every member optional.

use serde_json::Value;

use super::rules::{config, OperationRules, OperationRulesConfig};
use crate::error::Result;
use crate::scopes::ScopeHierarchy;

const MEMBERS: [&str; 6] = [
    "tool_scopes",
    "resource_scopes",
    "prompt_scopes",
    "method_scopes",
    "scope_hierarchy",
    "max_body_bytes",
];

/// What a route's per-operation configuration amounts to.
#[derive(Debug, Clone)]
pub struct OperationConfig {
    /// `None` when no rule is configured (the endpoint rule decides everything).
    pub rules: Option<OperationRules>,
    pub hierarchy: Option<ScopeHierarchy>,
}

fn scope_map(v: &Value, member: &str) -> Result<Vec<(String, Vec<String>)>> {
    let obj = match v {
        Value::Null => return Ok(vec![]),
        Value::Object(o) => o,
        _ => {
            return Err(config(format!(
                "`{member}` must map names to lists of scopes."
            )))
        }
    };
    obj.iter()
        .map(|(name, scopes)| {
            let list = scopes.as_array().ok_or_else(|| {
                config(format!(
                    "`{member}`: the scopes of `{}` must be a list of strings.",
                    super::shown(name)
                ))
            })?;
            let scopes = list
                .iter()
                .map(|s| {
                    s.as_str().map(str::to_string).ok_or_else(|| {
                        config(format!(
                            "`{member}`: the scopes of `{}` must be strings.",
                            super::shown(name)
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((name.clone(), scopes))
        })
        .collect()
}

impl OperationConfig {
    pub fn from_json(v: &Value) -> Result<Self> {
        let obj = match v {
            Value::Null => {
                return Ok(OperationConfig {
                    rules: None,
                    hierarchy: None,
                })
            }
            Value::Object(o) => o,
            _ => return Err(config("per-operation rules must be an object.")),
        };
        if let Some(unknown) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(config(format!(
                "unknown per-operation option `{}` (known: {}).",
                super::shown(unknown),
                MEMBERS.join(", ")
            )));
        }
        let get = |k: &str| obj.get(k).unwrap_or(&Value::Null);
        let max_body_bytes = match get("max_body_bytes") {
            Value::Null => None,
            n => Some(
                n.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| config("`max_body_bytes` must be a positive integer."))?,
            ),
        };
        let hierarchy = match scope_map(get("scope_hierarchy"), "scope_hierarchy")? {
            h if h.is_empty() => None,
            h => Some(ScopeHierarchy::new(h)?),
        };
        let rules = OperationRules::new(OperationRulesConfig {
            tools: scope_map(get("tool_scopes"), "tool_scopes")?,
            resources: scope_map(get("resource_scopes"), "resource_scopes")?,
            prompts: scope_map(get("prompt_scopes"), "prompt_scopes")?,
            methods: scope_map(get("method_scopes"), "method_scopes")?,
            max_body_bytes,
        })?;
        Ok(OperationConfig {
            rules: (!rules.is_empty()).then_some(rules),
            hierarchy,
        })
    }
}
