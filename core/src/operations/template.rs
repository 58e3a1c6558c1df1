//! Resource URIs and RFC 6570 URI templates with simple `{var}` expressions, as resource rules.
//!
//! A variable matches one or more characters other than `/`, so `notes://{id}` matches
//! `notes://42` and not `notes://42/x`. That is at least as broad as what the MCP SDKs route to a
//! template's handler; matching more than the SDK would only ask for more scopes, matching less
//! would let a read through under the endpoint's rule alone.

use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Var,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UriPattern {
    parts: Vec<Part>,
}

impl UriPattern {
    pub fn parse(template: &str) -> Result<Self> {
        let bad = |why: &str| {
            super::rules::config(format!("resource rule `{}`: {why}", super::shown(template)))
        };
        if template.is_empty() {
            return Err(bad("the URI or template is empty"));
        }
        if template.chars().any(char::is_control) {
            return Err(bad("it holds control characters"));
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_string()));
                    break;
                }
                Some(i) if rest.as_bytes()[i] == b'}' => {
                    return Err(bad("a `}` without its `{`"));
                }
                Some(i) => {
                    if i > 0 {
                        parts.push(Part::Literal(rest[..i].to_string()));
                    }
                    let after = &rest[i + 1..];
                    let end = after
                        .find('}')
                        .ok_or_else(|| bad("a `{` without its `}`"))?;
                    let name = &after[..end];
                    let simple = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                    if !simple {
                        return Err(bad(
                            "only simple `{name}` expressions are supported (RFC 6570 level 1)",
                        ));
                    }
                    if matches!(parts.last(), Some(Part::Var)) {
                        return Err(bad("two expressions must be separated by literal text"));
                    }
                    parts.push(Part::Var);
                    rest = &after[end + 1..];
                }
            }
        }
        Ok(UriPattern { parts })
    }

    pub fn matches(&self, uri: &str) -> bool {
        match_parts(&self.parts, uri)
    }
}

fn match_parts(parts: &[Part], s: &str) -> bool {
    match parts.split_first() {
        None => s.is_empty(),
        Some((Part::Literal(l), rest)) => s
            .strip_prefix(l.as_str())
            .is_some_and(|t| match_parts(rest, t)),
        Some((Part::Var, rest)) => {
            // One or more non-`/` characters, then the rest; try each split (templates are short).
            let span = s.find('/').unwrap_or(s.len());
            (1..=span)
                .rev()
                .filter(|&n| s.is_char_boundary(n))
                .any(|n| match_parts(rest, &s[n..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UriPattern;

    #[test]
    fn templates() {
        let p = UriPattern::parse("notes://{id}").unwrap();
        assert!(p.matches("notes://42"));
        assert!(!p.matches("notes://42/x"));
        assert!(!p.matches("notes://"));
        let p = UriPattern::parse("file:///{dir}/{name}.txt").unwrap();
        assert!(p.matches("file:///a/b.c.txt"));
        assert!(!p.matches("file:///a/b/c.txt"));
        let p = UriPattern::parse("config://app").unwrap();
        assert!(p.matches("config://app"));
        assert!(!p.matches("config://app2"));
        for bad in [
            "",
            "x://{",
            "x://}",
            "x://{+a}",
            "x://{a,b}",
            "x://{?q}",
            "x://{a}{b}",
            "x://{}",
        ] {
            assert!(UriPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
