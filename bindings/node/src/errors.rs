//! Core errors <-> the one JSON shape the TypeScript layer rebuilds its classes from.
//!
//! napi cannot attach custom properties to the errors of rejected async calls, so the shape
//! travels as the error message behind a marker, for sync and async calls alike.

use mcp_auth_core::{Details, Error, ErrorKind, Flavor};
use serde_json::{json, Map, Value};

pub const FLAVOR: Flavor = Flavor::Node;
/// Prefix of an error message that carries an encoded core error.
pub const MARKER: &str = "$mcp-auth-error$";

pub fn error_json(e: &Error) -> Value {
    let d = e.details();
    let mut details = Map::new();
    if let Some(c) = &d.cause {
        details.insert("cause".into(), c.clone());
    }
    if let Some(u) = &d.uri {
        details.insert("uri".into(), Value::String(u.clone()));
    }
    if let Some(s) = &d.missing_scopes {
        details.insert("missingScopes".into(), s.clone().into());
    }
    if let Some(x) = &d.expected {
        details.insert("expected".into(), x.clone());
    }
    if let Some(x) = &d.actual {
        details.insert("actual".into(), x.clone());
    }
    json!({
        "kind": e.kind().as_str(),
        "code": e.code(),
        "message": e.message(FLAVOR),
        "details": details,
    })
}

pub fn to_napi(e: Error) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{MARKER}{}", error_json(&e)),
    )
}

/// A host-side failure (a user's verifier threw) back into a core error, so that core
/// formats its answer.
pub fn from_json(v: &Value) -> Error {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .and_then(ErrorKind::parse)
        .unwrap_or(ErrorKind::AuthServer);
    let code = v.get("code").and_then(Value::as_str).unwrap_or("");
    let mut e = Error::new(kind, code);
    if let Some(m) = v.get("message").and_then(Value::as_str) {
        e = e.with_message(m);
    }
    let d = v.get("details").cloned().unwrap_or(Value::Null);
    let details = Details::from_json(&d);
    e.with_details(details)
}

pub fn invalid_arg(msg: impl Into<String>) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, msg.into())
}
