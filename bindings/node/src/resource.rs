//! RFC 9728 protected-resource metadata: URLs, paths, the document, configuration checks.

use mcp_auth_core::resource;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{invalid_arg, to_napi, FLAVOR};

#[napi]
pub fn resource_metadata_url(resource: String) -> napi::Result<String> {
    resource::resource_metadata_url(&resource).map_err(to_napi)
}

#[napi]
pub fn resource_metadata_path(resource: String) -> napi::Result<String> {
    resource::resource_metadata_path(&resource).map_err(to_napi)
}

/// The PRM document from snake_case fields and the issuer strings.
#[napi]
pub fn protected_resource_metadata(fields: Value, issuers: Vec<String>) -> napi::Result<Value> {
    let Value::Object(m) = fields else {
        return Err(invalid_arg("The resource metadata must be an object."));
    };
    Ok(Value::Object(resource::protected_resource_metadata(
        &m, &issuers,
    )))
}

/// `[[resource, [issuer, ...]], ...]`: no resource twice, no issuer twice per resource.
#[napi]
pub fn validate_resources(resources: Vec<(String, Vec<String>)>) -> napi::Result<()> {
    let list: Vec<(&str, Vec<&str>)> = resources
        .iter()
        .map(|(r, i)| (r.as_str(), i.iter().map(String::as_str).collect()))
        .collect();
    resource::validate_resources(&list, FLAVOR).map_err(to_napi)
}
