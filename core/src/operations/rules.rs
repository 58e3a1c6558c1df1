//! Which scopes each operation needs, and the decision for one request.

use std::collections::HashMap;

use super::classify::{classify, McpRequest, Operation};
use super::template::UriPattern;
use crate::bearer::Policy;
use crate::error::{codes as bearer_codes, Error, Result};
use crate::jwt::AuthInfo;
use crate::scopes::{check_scope_name, missing, union_into};

pub const INVALID_OPERATION_RULES: &str = "invalid_operation_rules";
/// How much of a POST body is inspected by default; larger is answered 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const MAX_MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

pub(crate) fn config(message: impl Into<String>) -> Error {
    Error::config(INVALID_OPERATION_RULES, message)
}

/// The operator's rules, each a list of `(name, URI template or method, scopes)` in the order
/// given (the order scopes appear in a challenge).
#[derive(Debug, Clone, Default)]
pub struct OperationRulesConfig {
    pub tools: Vec<(String, Vec<String>)>,
    pub resources: Vec<(String, Vec<String>)>,
    pub prompts: Vec<(String, Vec<String>)>,
    pub methods: Vec<(String, Vec<String>)>,
    pub max_body_bytes: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Named {
    index: HashMap<String, usize>,
    scopes: Vec<Vec<String>>,
}

impl Named {
    fn new(what: &str, rules: Vec<(String, Vec<String>)>) -> Result<Self> {
        let mut n = Named::default();
        for (name, scopes) in rules {
            if name.is_empty() {
                return Err(config(format!("{what}: a rule has an empty name.")));
            }
            check_scopes(what, &name, &scopes)?;
            if n.index.insert(name.clone(), n.scopes.len()).is_some() {
                return Err(config(format!(
                    "{what}: `{}` has two rules.",
                    super::shown(&name)
                )));
            }
            n.scopes.push(scopes);
        }
        Ok(n)
    }

    fn get(&self, name: &str) -> Option<&[String]> {
        self.index.get(name).map(|&i| self.scopes[i].as_slice())
    }
}

fn check_scopes(what: &str, name: &str, scopes: &[String]) -> Result<()> {
    for s in scopes {
        check_scope_name(s, &format!("{what} `{}`", super::shown(name)))
            .map_err(|e| config(e.message(Default::default())))?;
    }
    Ok(())
}

/// Per-operation scope rules for one protected endpoint.
#[derive(Debug, Clone)]
pub struct OperationRules {
    tools: Named,
    prompts: Named,
    methods: Named,
    resources: Vec<(UriPattern, Vec<String>)>,
    max_body_bytes: usize,
}

impl OperationRules {
    pub fn new(c: OperationRulesConfig) -> Result<Self> {
        let max_body_bytes = c.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > MAX_MAX_BODY_BYTES {
            return Err(config(format!(
                "the body inspection limit must be between 1 and {MAX_MAX_BODY_BYTES} bytes (got {max_body_bytes})."
            )));
        }
        let mut resources = Vec::with_capacity(c.resources.len());
        let mut seen = std::collections::HashSet::new();
        for (t, scopes) in c.resources {
            check_scopes("resource rule", &t, &scopes)?;
            if !seen.insert(t.clone()) {
                return Err(config(format!(
                    "resource rule: `{}` has two rules.",
                    super::shown(&t)
                )));
            }
            resources.push((UriPattern::parse(&t)?, scopes));
        }
        Ok(OperationRules {
            tools: Named::new("tool rule", c.tools)?,
            prompts: Named::new("prompt rule", c.prompts)?,
            methods: Named::new("method rule", c.methods)?,
            resources,
            max_body_bytes,
        })
    }

    /// True when no rule is configured: the endpoint rule decides everything.
    pub fn is_empty(&self) -> bool {
        self.tools.scopes.is_empty()
            && self.prompts.scopes.is_empty()
            && self.methods.scopes.is_empty()
            && self.resources.is_empty()
    }

    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// How many body bytes the host should read before asking for a decision: `None` when the
    /// request needs only the endpoint rule (not a POST), `Some(0)` when `Content-Length`
    /// already says it is too large, else one more than the limit (so "too large" is seen
    /// without reading further).
    pub fn body_limit(&self, http_method: &str, content_length: Option<&str>) -> Option<usize> {
        if http_method != "POST" {
            return None;
        }
        match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(n) if n > self.max_body_bytes as u64 => Some(0),
            _ => Some(self.max_body_bytes + 1),
        }
    }

    /// The operations of a request (none for GET, DELETE and other non-POST methods).
    pub fn classify(&self, req: &McpRequest<'_>) -> Result<Vec<Operation>> {
        if req.method != "POST" {
            return Ok(vec![]);
        }
        classify(req, self.max_body_bytes)
    }

    /// The scopes the rules add for `ops`, in rule order, without duplicates.
    pub fn scopes_for(&self, ops: &[Operation]) -> Vec<String> {
        let mut out = Vec::new();
        for op in ops {
            if let Some(s) = self.methods.get(&op.method) {
                union_into(&mut out, s);
            }
            let Some(name) = op.name.as_deref() else {
                continue;
            };
            match op.method.as_str() {
                "tools/call" => {
                    if let Some(s) = self.tools.get(name) {
                        union_into(&mut out, s);
                    }
                }
                "prompts/get" => {
                    if let Some(s) = self.prompts.get(name) {
                        union_into(&mut out, s);
                    }
                }
                "resources/read" => {
                    // Every matching rule counts: overlapping templates never loosen each other.
                    for (p, s) in &self.resources {
                        if p.matches(name) {
                            union_into(&mut out, s);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The decision for a request whose token `policy` already accepted (issuer, audience):
    /// the operations, or the error to answer with. A scope shortfall names every scope the
    /// request needs, the endpoint's and the operations', in one challenge (SEP-2350).
    pub fn authorize(
        &self,
        policy: &Policy,
        info: &AuthInfo,
        req: &McpRequest<'_>,
    ) -> Result<Vec<Operation>> {
        let ops = self.classify(req)?;
        let mut required = policy.required_scopes.clone();
        union_into(&mut required, &self.scopes_for(&ops));
        let lacking = missing(policy.scope_hierarchy.as_deref(), &info.scopes, &required);
        if !lacking.is_empty() {
            return Err(Error::bearer(bearer_codes::MISSING_REQUIRED_SCOPES)
                .with_missing_scopes(lacking)
                .with_challenge_scopes(required));
        }
        Ok(ops)
    }
}

/// The decision after verification, for the built-in modes and for users' own verifiers alike:
/// issuer and audience, then the endpoint's scopes or, with rules, the endpoint's and the
/// operations' scopes together. A panic inside becomes a 500 `internal_error`, as on every
/// entry point of the core.
pub fn decide(
    policy: &Policy,
    rules: Option<&OperationRules>,
    info: &AuthInfo,
    req: &McpRequest<'_>,
) -> Result<Vec<Operation>> {
    crate::guard::call(|| {
        policy.check_identity(info)?;
        match rules {
            None => policy.check_scopes(info).map(|_| vec![]),
            Some(r) => r.authorize(policy, info, req),
        }
    })
}
