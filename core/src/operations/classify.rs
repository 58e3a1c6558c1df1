//! From HTTP request to the list of MCP operations it asks for.

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{codes, shown, strict_json};
use crate::error::{Error, ErrorKind, Result};

/// What a host hands over: the HTTP method, the headers that matter (each `None` when absent;
/// a header sent several times is passed joined with `", "`), and the body bytes when
/// [`super::OperationRules::body_limit`] asked for them.
#[derive(Debug, Clone, Copy, Default)]
pub struct McpRequest<'a> {
    pub method: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<&'a str>,
    pub protocol_version: Option<&'a str>,
    pub mcp_method: Option<&'a str>,
    pub mcp_name: Option<&'a str>,
    pub body: Option<&'a [u8]>,
}

/// One thing a request asks the server to do: a JSON-RPC method and, for `tools/call` and
/// `prompts/get`, the name, for `resources/read`, the URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

pub(crate) fn request_error(code: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Request, code).with_message(message)
}

fn invalid(message: impl Into<String>) -> Error {
    request_error(codes::INVALID_REQUEST, message)
}

fn mismatch(message: impl Into<String>) -> Error {
    request_error(codes::HEADER_MISMATCH, message)
}

/// The member of `params` that names the operation's target, for the methods that have one.
fn name_member(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// `application/json`, with at most a UTF-8 `charset` (the SDKs decode every body as UTF-8).
fn check_content_type(value: Option<&str>) -> Result<()> {
    let value = value.unwrap_or("");
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(request_error(
            codes::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Unsupported Media Type: Content-Type must be application/json (got `{}`).",
                shown(value)
            ),
        ));
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches('"');
            if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") {
                return Err(request_error(
                    codes::PARSE_ERROR,
                    format!(
                        "Parse error: the body must be UTF-8, but Content-Type says charset={}.",
                        shown(v)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `Mcp-Name` as the client meant it: `=?base64?...?=` holds the canonical base64 of UTF-8.
fn decode_header_value(v: &str) -> Result<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        None => Ok(v.to_string()),
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                mismatch("Header mismatch: Mcp-Name is not valid base64 of UTF-8 text.")
            }),
    }
}

fn is_request_id(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// One JSON-RPC message: `Some(operation)` for a request or notification, `None` for a response.
fn message(m: &Value) -> Result<Option<Operation>> {
    let m: &Map<String, Value> = m
        .as_object()
        .ok_or_else(|| invalid("Invalid Request: every message must be a JSON object."))?;
    if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("Invalid Request: `jsonrpc` must be \"2.0\"."));
    }
    if let Some(id) = m.get("id") {
        if !is_request_id(id) {
            return Err(invalid(
                "Invalid Request: `id` must be a string or an integer.",
            ));
        }
    }
    let Some(method) = m.get("method") else {
        if m.contains_key("id") && (m.contains_key("result") || m.contains_key("error")) {
            return Ok(None);
        }
        return Err(invalid(
            "Invalid Request: a message needs a `method`, or an `id` with `result` or `error`.",
        ));
    };
    let method = method
        .as_str()
        .ok_or_else(|| invalid("Invalid Request: `method` must be a string."))?;
    let params = match m.get("params") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => return Err(invalid("Invalid Request: `params` must be an object.")),
    };
    let name = match name_member(method) {
        None => None,
        Some(member) => Some(
            params
                .and_then(|p| p.get(member))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid(format!(
                        "Invalid Request: `{method}` needs a string `params.{member}`."
                    ))
                })?
                .to_string(),
        ),
    };
    Ok(Some(Operation {
        method: method.to_string(),
        name,
    }))
}

/// The operations of a POST body; `limit` is the inspection limit in bytes.
///
/// Decisions come from the body; `Mcp-Method` / `Mcp-Name`, when sent, must agree with every
/// message (SEP-2243), whatever `MCP-Protocol-Version` says.
pub fn classify(req: &McpRequest<'_>, limit: usize) -> Result<Vec<Operation>> {
    let too_large = || {
        request_error(
            codes::BODY_TOO_LARGE,
            format!("Request body too large: at most {limit} bytes are accepted."),
        )
    };
    if let Some(n) = req
        .content_length
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if n > limit as u64 {
            return Err(too_large());
        }
    }
    let body = req.body.unwrap_or(b"");
    if body.len() > limit {
        return Err(too_large());
    }
    check_content_type(req.content_type)?;
    let value = strict_json::parse_messages(body)
        .map_err(|why| request_error(codes::PARSE_ERROR, format!("Parse error: {why}.")))?;
    let messages: Vec<&Value> = match &value {
        Value::Array(items) if items.is_empty() => {
            return Err(invalid("Invalid Request: an empty batch."))
        }
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&value],
        _ => {
            return Err(invalid(
                "Invalid Request: the body must be a JSON-RPC message or a batch of them.",
            ))
        }
    };
    let mut ops = Vec::with_capacity(messages.len());
    let mut all: Vec<Option<Operation>> = Vec::with_capacity(messages.len());
    for m in messages {
        let op = message(m)?;
        if let Some(o) = &op {
            ops.push(o.clone());
        }
        all.push(op);
    }
    check_headers(req, &all)?;
    Ok(ops)
}

fn check_headers(req: &McpRequest<'_>, messages: &[Option<Operation>]) -> Result<()> {
    if let Some(h) = req.mcp_method {
        let h = h.trim();
        for m in messages {
            match m {
                Some(op) if op.method == h => {}
                Some(op) => {
                    return Err(mismatch(format!(
                        "Header mismatch: Mcp-Method is `{}` but the body's method is `{}`.",
                        shown(h),
                        shown(&op.method)
                    )))
                }
                None => {
                    return Err(mismatch(
                        "Header mismatch: Mcp-Method was sent with a body that is a response.",
                    ))
                }
            }
        }
    }
    if let Some(h) = req.mcp_name {
        let name = decode_header_value(h.trim())?;
        for m in messages {
            match m.as_ref().and_then(|op| op.name.as_deref()) {
                Some(n) if n == name => {}
                Some(n) => {
                    return Err(mismatch(format!(
                        "Header mismatch: Mcp-Name is `{}` but the body names `{}`.",
                        shown(&name),
                        shown(n)
                    )))
                }
                None => {
                    return Err(mismatch(
                        "Header mismatch: Mcp-Name was sent for a message that names nothing.",
                    ))
                }
            }
        }
    }
    Ok(())
}
