//! The provider checker behind `python -m mcpauth check` and `npx mcp-auth check`: fetch an
//! authorization server's metadata, say in plain words whether MCP clients can use it.
//!
//! Both packages print [`CheckOutcome::text`] and exit with [`CheckOutcome::exit_code`], so the
//! two commands answer alike; only their `--json` keys follow each language's conventions.

use serde_json::{json, Value};

use super::fetch::{discover_metadata_json, fetch_metadata_json, FetchOptions};
use super::model::{AuthServerType, AuthorizationServerMetadata};
use super::validate::{validate_server_metadata_json, Finding, ValidationResult};
use crate::error::{Error, Flavor};

pub const EXIT_COMPATIBLE: i32 = 0;
pub const EXIT_NOT_COMPATIBLE: i32 = 1;
/// The metadata could not be had (not found, unreachable, not JSON).
pub const EXIT_NO_METADATA: i32 = 2;

pub const ISSUER_MISMATCH: &str = "issuer_mismatch";
const ISSUER_MISMATCH_DESCRIPTION: &str =
    "The metadata names another issuer than the one it was fetched for (RFC 8414 §3.3), so clients will refuse it.";

/// Metadata that was found, and what the MCP checks say about it.
#[derive(Debug, Clone)]
pub struct ProviderCheck {
    /// The issuer discovery started from; `None` when a metadata URL was given.
    pub issuer: Option<String>,
    pub url: String,
    pub server_type: AuthServerType,
    /// The document as fetched (snake_case).
    pub document: Value,
    pub result: ValidationResult,
}

#[derive(Debug, Clone)]
pub enum CheckOutcome {
    Checked(Box<ProviderCheck>),
    NoMetadata(Error),
}

/// Checks `target`: an issuer (discovered in the MCP order unless a type is given) or a URL
/// containing `/.well-known/`, fetched as is.
pub async fn check_provider(
    target: &str,
    server_type: Option<AuthServerType>,
    flavor: Flavor,
    opts: &FetchOptions,
) -> CheckOutcome {
    let found = if target.contains("/.well-known/") {
        let t = server_type.unwrap_or(if target.contains("openid-configuration") {
            AuthServerType::Oidc
        } else {
            AuthServerType::OAuth
        });
        fetch_metadata_json(target, opts)
            .await
            .map(|doc| (doc, t, target.to_string(), None))
    } else {
        discover_metadata_json(target, server_type, opts)
            .await
            .map(|(doc, t, url)| (doc, t, url, Some(target.to_string())))
    };
    let (document, server_type, url, issuer) = match found {
        Ok(f) => f,
        Err(e) => return CheckOutcome::NoMetadata(e),
    };
    let mut result = validate_server_metadata_json(&document, flavor);
    if let (Some(expected), Ok(m)) = (
        &issuer,
        AuthorizationServerMetadata::from_json(document.clone()),
    ) {
        if &m.issuer != expected {
            result.is_valid = false;
            result.errors.push(Finding {
                code: ISSUER_MISMATCH,
                description: ISSUER_MISMATCH_DESCRIPTION,
                cause: Some(json!({ "expected": expected, "actual": m.issuer })),
            });
        }
    }
    CheckOutcome::Checked(Box::new(ProviderCheck {
        issuer,
        url,
        server_type,
        document,
        result,
    }))
}

impl CheckOutcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            CheckOutcome::Checked(c) if c.result.is_valid => EXIT_COMPATIBLE,
            CheckOutcome::Checked(_) => EXIT_NOT_COMPATIBLE,
            CheckOutcome::NoMetadata(_) => EXIT_NO_METADATA,
        }
    }

    /// The outcome as JSON (snake_case), for bindings: `exit_code`, `text`, then either `type`,
    /// `url`, `issuer`, `metadata`, `is_valid`, `errors`, `warnings`, `successes`, or `error` and
    /// `error_description`.
    pub fn to_json(&self, flavor: Flavor) -> Value {
        let mut report = json!({ "exit_code": self.exit_code(), "text": self.text(flavor) });
        match self {
            CheckOutcome::Checked(c) => {
                report["type"] = c.server_type.as_str().into();
                report["url"] = c.url.clone().into();
                report["issuer"] = c.issuer.clone().into();
                report["metadata"] = c.document.clone();
                if let (Some(m), Ok(Value::Object(r))) =
                    (report.as_object_mut(), serde_json::to_value(&c.result))
                {
                    m.extend(r);
                }
            }
            CheckOutcome::NoMetadata(e) => {
                report["error"] = e.code().into();
                report["error_description"] = e.message(flavor).into();
            }
        }
        report
    }

    /// The report in plain words (for stdout; for stderr when no metadata was found).
    pub fn text(&self, flavor: Flavor) -> String {
        match self {
            CheckOutcome::NoMetadata(e) => {
                format!("{}: {}", humanize(e.code()), printable(&e.message(flavor)))
            }
            CheckOutcome::Checked(c) => c.text(),
        }
    }
}

impl ProviderCheck {
    fn text(&self) -> String {
        let named = self
            .document
            .get("issuer")
            .and_then(Value::as_str)
            .map(str::to_string);
        let name = self.issuer.clone().or(named).unwrap_or_default();
        let verdict = if self.result.is_valid {
            "Compatible with MCP"
        } else {
            "Not compatible with MCP"
        };
        let mut out = format!(
            "{} ({}): {verdict}\nMetadata: {}\n",
            printable(&name),
            self.server_type.as_str(),
            printable(&self.url)
        );
        for (title, mark, list) in [
            ("Successes", '✓', &self.result.successes),
            ("Warnings", '!', &self.result.warnings),
            ("Errors", '✗', &self.result.errors),
        ] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{title} ({})\n", list.len()));
            for f in list {
                out.push_str(&format!(
                    "  {mark} {}: {}\n",
                    humanize(f.code),
                    f.description
                ));
                if let Some(cause) = &f.cause {
                    out.push_str(&format!("      {}\n", printable(&plain(cause))));
                }
            }
        }
        out
    }
}

/// Text from the remote server as a terminal may show it: control characters (escape
/// sequences, line breaks) written as `\u{..}` escapes, so metadata cannot repaint the screen
/// or add report lines of its own.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `pkce_not_supported` -> "PKCE not supported".
pub fn humanize(code: &str) -> String {
    const ACRONYMS: [&str; 7] = ["mcp", "oidc", "jwt", "pkce", "url", "uri", "s256"];
    let text = code
        .split('_')
        .map(|w| {
            if ACRONYMS.contains(&w) {
                w.to_ascii_uppercase()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

fn plain(cause: &Value) -> String {
    match cause {
        Value::String(s) => s.clone(),
        Value::Object(m) => match (m.get("error_description"), m.get("expected")) {
            (Some(Value::String(d)), _) => d.clone(),
            (_, Some(expected)) => format!(
                "expected {}, found {}",
                expected,
                m.get("actual").unwrap_or(&Value::Null)
            ),
            _ => cause.to_string(),
        },
        _ => cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_text_cannot_carry_control_characters() {
        assert_eq!(printable("a\u{1b}[2Jb\nc"), "a\\u{1b}[2Jb\\u{a}c");
    }

    #[test]
    fn codes_read_as_words() {
        assert_eq!(humanize("pkce_not_supported"), "PKCE not supported");
        assert_eq!(
            humanize("s256_code_challenge_method_supported"),
            "S256 code challenge method supported"
        );
        assert_eq!(humanize("issuer_mismatch"), "Issuer mismatch");
    }
}
