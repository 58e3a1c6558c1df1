//! Runs every shared vector in tests/vectors through the core.

mod common;

use std::sync::Arc;

use common::{load_vector, Reply, TestServer};
use mcp_auth_core::bearer::Policy;
use mcp_auth_core::metadata::{self, validate, AuthServerType};
use mcp_auth_core::verifier::{AuthServer, TokenVerifier, VerifierOptions};
use mcp_auth_core::{
    resource, route_audience, Authenticator, ClientAuthMethod, Error, ErrorKind, Flavor,
    IntrospectionOptions, IntrospectionVerifier, JwtOptions, RouteMode, ServerConfig,
};
use serde_json::{json, Value};

/// The policy of a route of resource `resource` (resource-server mode) for a case's audience
/// settings: `audience` (null: none configured) and `accept_any_audience`.
fn route_policy(resource: &str, case: &Value, audience: &Value, flavor: Flavor) -> Policy {
    let a = route_audience(
        RouteMode::Resource,
        Some(resource),
        audience.as_str(),
        case["accept_any_audience"].as_bool().unwrap_or(false),
    )
    .unwrap();
    Policy {
        flavor,
        ..Policy::default()
    }
    .with_route_audience(&a)
}

fn expect_for(case: &Value, flavor: Flavor) -> &Value {
    match (flavor, case.get("expect_node")) {
        (Flavor::Node, Some(e)) => e,
        _ => &case["expect"],
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn tokens() {
    token_vectors("tokens.json").await;
}

#[tokio::test]
async fn providers() {
    token_vectors("providers.json").await;
}

/// A file of `tokens.json`'s format: every trusted server (`issuer`, `second_issuer`,
/// `more_issuers`) has `metadata` with its own issuer and the one key set.
async fn token_vectors(file: &str) {
    let doc = load_vector(file);
    let server = TestServer::start();
    server.set("/vectors/jwks", Reply::json(&doc["jwks"]));
    let mut md = doc["metadata"].clone();
    md["jwks_uri"] = json!(server.url("/vectors/jwks"));
    let more = doc["second_issuer"].as_str().into_iter().chain(
        doc["more_issuers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| i.as_str().unwrap()),
    );
    let servers: Vec<AuthServer> = std::iter::once(doc["issuer"].as_str().unwrap())
        .chain(more)
        .map(|issuer| {
            let mut md = md.clone();
            md["issuer"] = json!(issuer);
            AuthServer::Resolved(Arc::new(ServerConfig {
                metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
                server_type: AuthServerType::Oidc,
            }))
        })
        .collect();
    let resource = doc["resource"].as_str().unwrap();
    let mut failures = vec![];
    for flavor in [Flavor::Python, Flavor::Node] {
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let verifier = TokenVerifier::new(
                servers.clone(),
                VerifierOptions {
                    jwt: JwtOptions {
                        leeway: case["leeway"].as_f64().unwrap(),
                        require_at_jwt: case["require_at_jwt"].as_bool().unwrap_or(false),
                        ..JwtOptions::default()
                    },
                    flavor,
                    ..VerifierOptions::default()
                },
            );
            let policy = Policy {
                required_scopes: strs(&case["required_scopes"]),
                resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
                show_error_details: case["show_error_details"].as_bool().unwrap(),
                ..route_policy(resource, case, &case["audience"], flavor)
            };
            let auth = Authenticator::new(Arc::new(verifier), policy);
            // Twice: the second answer may come from the verifier's cache of verified tokens,
            // and must be the same.
            for attempt in ["first", "again"] {
                if let Some(f) = compare(name, &auth, case, expect_for(case, flavor)).await {
                    failures.push(format!("[{flavor:?}, {attempt}] {f}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `key_rotation.json`: one route, steps in order, the key set served changing between them.
#[tokio::test]
async fn key_rotation() {
    let doc = load_vector("key_rotation.json");
    let mut failures = vec![];
    for flavor in [Flavor::Python, Flavor::Node] {
        let server = TestServer::start();
        let path = format!("/rotation/{flavor:?}/jwks");
        let mut md = doc["metadata"].clone();
        md["jwks_uri"] = json!(server.url(&path));
        let servers = vec![AuthServer::Resolved(Arc::new(ServerConfig {
            metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
            server_type: AuthServerType::Oidc,
        }))];
        let options = VerifierOptions {
            flavor,
            ..VerifierOptions::default()
        };
        let resource = doc["resource"].as_str().unwrap();
        let policy = Policy {
            resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
            show_error_details: doc["show_error_details"].as_bool().unwrap(),
            ..route_policy(resource, &json!({}), &Value::Null, flavor)
        };
        let auth = Authenticator::new(Arc::new(TokenVerifier::new(servers, options)), policy);
        for step in doc["steps"].as_array().unwrap() {
            if let Some(set) = step["serve"].as_str() {
                server.set(&path, Reply::json(&doc["key_sets"][set]));
            }
            let name = step["name"].as_str().unwrap();
            if let Some(f) = compare(name, &auth, step, expect_for(step, flavor)).await {
                failures.push(format!("[{flavor:?}] {f}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs one case through `auth`; a description of the difference when the answer is not `expect`.
async fn compare(name: &str, auth: &Authenticator, case: &Value, expect: &Value) -> Option<String> {
    let got = match auth.authenticate(case["header"].as_str()).await {
        Ok(info) => {
            let mut got = json!({
                "status": 200,
                "auth_info": {
                    "issuer": info.issuer,
                    "subject": info.subject,
                    "client_id": info.client_id,
                    "scopes": info.scopes,
                    "audience": info.audience.map(|a| a.to_json()),
                }
            });
            // `claims` in an expectation is a subset the auth info must show.
            if let Some(want) = expect["auth_info"]["claims"].as_object() {
                let seen: serde_json::Map<String, Value> = want
                    .keys()
                    .filter_map(|k| info.claims.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                got["auth_info"]["claims"] = Value::Object(seen);
            }
            got
        }
        Err(e) => {
            let r = auth.respond(&e);
            json!({"status": r.status, "body": r.body, "www_authenticate": r.www_authenticate, "why": e.to_string()})
        }
    };
    let mut cmp = got.clone();
    cmp.as_object_mut().unwrap().remove("why");
    (&cmp != expect).then(|| format!("{name}:\n  expected {expect}\n  got      {got}"))
}

#[tokio::test]
async fn introspection() {
    let doc = load_vector("introspection.json");
    let server = TestServer::start();
    let client_id = doc["client_id"].as_str().unwrap().to_string();
    let secret = doc["client_secret"].as_str().unwrap().to_string();
    let cases = doc["cases"].as_array().unwrap().clone();
    let answers: std::collections::HashMap<String, Value> = cases
        .iter()
        .map(|c| {
            (
                c["token"].as_str().unwrap().to_string(),
                c["answer"].clone(),
            )
        })
        .collect();
    server.handle("/introspect", move |req| {
        introspection_endpoint(req, &client_id, &secret, &answers)
    });
    let mut md = doc["metadata"].clone();
    md["introspection_endpoint"] = json!(server.url("/introspect"));
    let config = Arc::new(ServerConfig {
        metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
        server_type: AuthServerType::Oidc,
    });
    let mut failures = vec![];
    for flavor in [Flavor::Python, Flavor::Node] {
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let verifier = IntrospectionVerifier::new(
                vec![AuthServer::Resolved(config.clone())],
                IntrospectionOptions {
                    client_id: doc["client_id"].as_str().unwrap().into(),
                    client_secret: case
                        .get("client_secret")
                        .unwrap_or(&doc["client_secret"])
                        .as_str()
                        .unwrap()
                        .into(),
                    auth_method: ClientAuthMethod::parse(case["auth_method"].as_str().unwrap())
                        .unwrap(),
                    ..IntrospectionOptions::default()
                },
                VerifierOptions {
                    jwt: JwtOptions {
                        leeway: case["leeway"].as_f64().unwrap(),
                        ..JwtOptions::default()
                    },
                    flavor,
                    ..VerifierOptions::default()
                },
            )
            .unwrap();
            let policy = Policy {
                issuers: Some(vec![doc["issuer"].as_str().unwrap().to_string()]),
                required_scopes: strs(&case["required_scopes"]),
                resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
                show_error_details: case["show_error_details"].as_bool().unwrap(),
                ..route_policy(
                    doc["resource"].as_str().unwrap(),
                    case,
                    &case["audience"],
                    flavor,
                )
            };
            let auth = Authenticator::with_introspection(Arc::new(verifier), policy);
            let expect = expect_for(case, flavor);
            if let Some(f) = compare(name, &auth, case, expect).await {
                failures.push(format!("[{flavor:?}] {f}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An RFC 7662 endpoint: checks the client (Basic, form-encoded halves, or form fields) and
/// answers per token as the vector says.
fn introspection_endpoint(
    req: &common::Seen,
    client_id: &str,
    secret: &str,
    answers: &std::collections::HashMap<String, Value>,
) -> Reply {
    use base64::Engine;
    let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let from_basic = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, sec) = pair.split_once(':')?;
            let dec = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((dec(id)?, dec(sec)?))
        });
    let from_form = match (form.get("client_id"), form.get("client_secret")) {
        (Some(i), Some(s)) => Some((i.clone(), s.clone())),
        _ => None,
    };
    let authed = match (from_basic, from_form) {
        (Some(c), None) | (None, Some(c)) => c.0 == client_id && c.1 == secret,
        _ => false,
    };
    let well_formed = req.method == "POST"
        && req.header("content-type") == Some("application/x-www-form-urlencoded")
        && form.get("token_type_hint").map(String::as_str) == Some("access_token");
    if !well_formed {
        return Reply::status(400);
    }
    if !authed {
        return Reply::json(&json!({"error": "invalid_client"})).with_status(401);
    }
    let Some(answer) = form.get("token").and_then(|t| answers.get(t)) else {
        return Reply::json(&json!({"active": false}));
    };
    let status = answer["status"].as_u64().unwrap() as u16;
    match answer.get("text") {
        Some(t) => Reply::raw(t.as_str().unwrap().as_bytes()).with_status(status),
        None => Reply::json(&answer["json"]).with_status(status),
    }
}

fn error_from_spec(spec: &Value) -> Error {
    let kind = ErrorKind::parse(spec["kind"].as_str().unwrap()).unwrap();
    let mut e = Error::new(kind, spec["code"].as_str().unwrap());
    if let Some(m) = spec.get("missing_scopes") {
        e = e.with_missing_scopes(strs(m));
    }
    if let (Some(x), Some(a)) = (spec.get("expected"), spec.get("actual")) {
        e = e.with_expected_actual(x.clone(), a.clone());
    }
    e
}

#[test]
fn custom_verifiers() {
    let doc = load_vector("custom_verifiers.json");
    for flavor in [Flavor::Python, Flavor::Node] {
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            // A case's own `audience` (null: none configured) replaces the top level's.
            let audience = case.get("audience").unwrap_or(&doc["audience"]);
            let policy = Policy {
                issuers: Some(vec![doc["issuer"].as_str().unwrap().to_string()]),
                required_scopes: strs(&case["required_scopes"]),
                resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
                show_error_details: case["show_error_details"].as_bool().unwrap_or(false),
                ..route_policy(doc["resource"].as_str().unwrap(), case, audience, flavor)
            };
            let outcome = if let Some(spec) = case.get("raise") {
                Err(error_from_spec(spec))
            } else {
                let r = &case["return"];
                let info = mcp_auth_core::AuthInfo {
                    token: "any-token".into(),
                    issuer: r["issuer"].as_str().unwrap().into(),
                    client_id: None,
                    scopes: strs(&r["scopes"]),
                    subject: r["subject"].as_str().map(str::to_string),
                    audience: match &r["audience"] {
                        Value::String(s) => Some(mcp_auth_core::Audience::One(s.clone())),
                        Value::Array(_) => {
                            Some(mcp_auth_core::Audience::Many(strs(&r["audience"])))
                        }
                        _ => None,
                    },
                    expires_at: None,
                    claims: Default::default(),
                };
                policy.check(&info)
            };
            let expect = expect_for(case, flavor);
            match outcome {
                Ok(()) => assert_eq!(expect["status"], 200, "{name}"),
                Err(e) => {
                    let r = policy.respond(&e);
                    let got = json!({"status": r.status, "body": r.body, "www_authenticate": r.www_authenticate});
                    assert_eq!(&got, expect, "{name} ({flavor:?})");
                }
            }
        }
    }
}

#[test]
fn well_known_urls() {
    let doc = load_vector("well_known_urls.json");
    for case in doc["cases"].as_array().unwrap() {
        let issuer = case["issuer"].as_str().unwrap();
        assert_eq!(
            metadata::well_known_url(issuer, AuthServerType::OAuth).unwrap(),
            case["oauth"],
            "{issuer}"
        );
        assert_eq!(
            metadata::well_known_url(issuer, AuthServerType::Oidc).unwrap(),
            case["oidc"],
            "{issuer}"
        );
        let discovery: Vec<Value> = metadata::discovery_urls(issuer)
            .unwrap()
            .into_iter()
            .map(|(u, t)| json!([u, t.as_str()]))
            .collect();
        assert_eq!(Value::Array(discovery), case["discovery"], "{issuer}");
    }
    for case in doc["errors"].as_array().unwrap() {
        let issuer = case["issuer"].as_str().unwrap();
        let err = metadata::well_known_url(issuer, AuthServerType::OAuth).unwrap_err();
        assert_eq!(err.code(), "fetch_server_config_error");
        assert!(err.message(Flavor::Python).contains(issuer), "{err}");
    }
}

#[test]
fn resource_metadata() {
    let doc = load_vector("resource_metadata.json");
    for case in doc["urls"].as_array().unwrap() {
        let r = case["resource"].as_str().unwrap();
        assert_eq!(
            resource::resource_metadata_url(r).unwrap(),
            case["url"],
            "{r}"
        );
        assert_eq!(
            resource::resource_metadata_path(r).unwrap(),
            case["path"],
            "{r}"
        );
    }
    for case in doc["url_errors"].as_array().unwrap() {
        let r = case["resource"].as_str().unwrap();
        let err = resource::resource_metadata_url(r).unwrap_err();
        assert_eq!(err.code(), "invalid_server_config", "{r}");
        assert!(err.to_string().contains(r), "{err}");
    }
    for case in doc["config_errors"].as_array().unwrap() {
        let resources: Vec<(&str, Vec<&str>)> = case["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let issuers = r["issuers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_str().unwrap())
                    .collect();
                (r["resource"].as_str().unwrap(), issuers)
            })
            .collect();
        for (flavor, key) in [(Flavor::Python, "python"), (Flavor::Node, "node")] {
            let err = resource::validate_resources(&resources, flavor).unwrap_err();
            assert_eq!(err.code(), "invalid_server_config");
            assert_eq!(
                err.details().cause.as_ref().unwrap()["error_description"],
                case[key]
            );
        }
    }
    for case in doc["documents"].as_array().unwrap() {
        let fields = case["metadata"].as_object().unwrap();
        let got = resource::protected_resource_metadata(fields, &strs(&case["issuers"]));
        // Key order is part of the contract: compare serialized text.
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&case["expected"]).unwrap()
        );
    }
}

#[test]
fn server_metadata_validation() {
    let doc = load_vector("server_metadata_validation.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        for flavor in [Flavor::Python, Flavor::Node] {
            let r = validate::validate_server_metadata_json(&case["metadata"], flavor);
            let pick = |k: &str| {
                let node_key = format!("{k}_node");
                match (flavor, case.get(node_key.as_str())) {
                    (Flavor::Node, Some(v)) => strs(v),
                    _ => strs(&case[k]),
                }
            };
            let codes =
                |v: &[validate::Finding]| v.iter().map(|f| f.code.to_string()).collect::<Vec<_>>();
            assert_eq!(r.is_valid, case["is_valid"].as_bool().unwrap(), "{name}");
            assert_eq!(codes(&r.errors), pick("errors"), "{name} {flavor:?}");
            assert_eq!(codes(&r.warnings), pick("warnings"), "{name} {flavor:?}");
            assert_eq!(codes(&r.successes), pick("successes"), "{name} {flavor:?}");
        }
    }
}

#[tokio::test]
async fn checker() {
    let doc = load_vector("checker.json");
    let server = TestServer::start();
    let base = format!("http://{}", server.addr);
    let fill = |s: &str| s.replace("{base}", &base);
    for (path, document) in doc["documents"].as_object().unwrap() {
        let served: Value = serde_json::from_str(&fill(&document.to_string())).unwrap();
        server.set(path, Reply::json(&served));
    }
    let mut failures = vec![];
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ty = case["type"]
            .as_str()
            .map(|t| AuthServerType::parse(t).unwrap());
        for flavor in [Flavor::Python, Flavor::Node] {
            let outcome = metadata::check_provider(
                &fill(case["target"].as_str().unwrap()),
                ty,
                flavor,
                &metadata::FetchOptions::default(),
            )
            .await;
            let want: Vec<String> = case["text"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| fill(l.as_str().unwrap()))
                .collect();
            let text = outcome.text(flavor);
            let got: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
            if got != want || outcome.exit_code() != case["exit_code"].as_i64().unwrap() as i32 {
                failures.push(format!(
                    "[{flavor:?}] {name}: exit {}\n{}\n--- expected exit {}\n{}",
                    outcome.exit_code(),
                    got.join("\n"),
                    case["exit_code"],
                    want.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn operations() {
    use base64::Engine;
    use mcp_auth_core::{McpRequest, OperationConfig};

    let doc = load_vector("operations.json");
    let server = TestServer::start();
    server.set("/vectors/jwks", Reply::json(&doc["jwks"]));
    let mut md = doc["metadata"].clone();
    md["jwks_uri"] = json!(server.url("/vectors/jwks"));
    let config = Arc::new(ServerConfig {
        metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
        server_type: AuthServerType::Oidc,
    });
    let mut failures = vec![];
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let verifier = TokenVerifier::new(
            vec![AuthServer::Resolved(config.clone())],
            VerifierOptions::default(),
        );
        let policy = Policy {
            audience: Some(doc["resource"].as_str().unwrap().to_string()),
            required_scopes: strs(&case["required_scopes"]),
            resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
            ..Policy::default()
        };
        let rules = OperationConfig::from_json(&case["rules"]).unwrap();
        let auth = Authenticator::new(Arc::new(verifier), policy).with_operation_config(rules);
        let header = case["token"]
            .as_str()
            .map(|t| format!("Bearer {}", doc["tokens"][t].as_str().unwrap()));
        let r = &case["request"];
        let h = |k: &str| r["headers"][k].as_str();
        let body: Option<Vec<u8>> = match (r["body"].as_str(), r["body_base64"].as_str()) {
            (Some(s), _) => Some(s.as_bytes().to_vec()),
            (_, Some(b)) => Some(base64::engine::general_purpose::STANDARD.decode(b).unwrap()),
            _ => None,
        };
        let method = r["method"].as_str().unwrap();
        let length = body.as_ref().map(|b| b.len().to_string());
        // What a host reads: nothing unless asked, at most what it was asked for.
        let limit = auth.body_limit(method, length.as_deref());
        let read = match (limit, &body) {
            (Some(n), Some(b)) => Some(&b[..b.len().min(n)]),
            _ => None,
        };
        let req = McpRequest {
            method,
            content_type: h("content-type"),
            content_length: length.as_deref(),
            protocol_version: h("mcp-protocol-version"),
            mcp_method: h("mcp-method"),
            mcp_name: h("mcp-name"),
            body: read,
        };
        let expect = &case["expect"];
        let got = match auth.authenticate_request(header.as_deref(), &req).await {
            Ok((_, ops)) => json!({"status": 200, "operations": ops}),
            Err(e) => {
                let resp = auth.respond(&e);
                let mut g = json!({"status": resp.status});
                if let Some(code) = resp.body.get("jsonrpc").and(resp.body["error"].get("code")) {
                    g["jsonrpc_code"] = code.clone();
                } else {
                    g["body"] = resp.body.clone();
                    g["www_authenticate"] = json!(resp.www_authenticate);
                }
                g["why"] = json!(e.to_string());
                g
            }
        };
        // The synchronous path must give the same answer once keys are cached.
        let now = match auth.authenticate_request_now(header.as_deref(), &req) {
            std::task::Poll::Ready(Ok((_, ops))) => json!({"status": 200, "operations": ops}),
            std::task::Poll::Ready(Err(e)) => json!({"status": auth.respond(&e).status}),
            std::task::Poll::Pending => json!({"status": "pending"}),
        };
        let mut cmp = got.clone();
        cmp.as_object_mut().unwrap().remove("why");
        if &cmp != expect || now["status"] != got["status"] {
            failures.push(format!(
                "{name}:\n  expected {expect}\n  got      {got}\n  now      {now}"
            ));
        }
    }
    for case in doc["config_errors"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        match OperationConfig::from_json(&case["rules"]) {
            Err(e) if e.code() == case["code"] && e.kind() == ErrorKind::Config => {}
            other => failures.push(format!("{name}: expected {}, got {other:?}", case["code"])),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn audience() {
    let doc = load_vector("audience.json");
    let server = TestServer::start();
    server.set("/vectors/jwks", Reply::json(&doc["jwks"]));
    let mut md = doc["metadata"].clone();
    md["jwks_uri"] = json!(server.url("/vectors/jwks"));
    let config = Arc::new(ServerConfig {
        metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
        server_type: AuthServerType::Oidc,
    });
    let resource = doc["resource"].as_str().unwrap();
    let mode = |c: &Value| match c["mode"].as_str().unwrap() {
        "resource" => RouteMode::Resource,
        _ => RouteMode::Legacy,
    };
    let mut failures = vec![];
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let m = mode(case);
        // Legacy routes are configured without a resource, as upstream's documentation shows.
        let route_resource = (m == RouteMode::Resource).then_some(resource);
        let a = route_audience(
            m,
            route_resource,
            case["audience"].as_str(),
            case["accept_any_audience"].as_bool().unwrap(),
        )
        .unwrap();
        if a.warning.is_some() != case["warning"].as_bool().unwrap() {
            failures.push(format!("{name}: warning {:?}", a.warning));
        }
        let policy = Policy {
            resource_metadata: route_resource
                .map(|_| doc["resource_metadata"].as_str().unwrap().to_string()),
            ..Policy::default()
        }
        .with_route_audience(&a);
        let verifier = TokenVerifier::new(
            vec![AuthServer::Resolved(config.clone())],
            VerifierOptions::default(),
        );
        let auth = Authenticator::new(Arc::new(verifier), policy);
        let header = format!(
            "Bearer {}",
            doc["tokens"][case["token"].as_str().unwrap()]
                .as_str()
                .unwrap()
        );
        let got = match auth.authenticate(Some(&header)).await {
            Ok(_) => json!({"status": 200}),
            Err(e) => {
                let r = auth.respond(&e);
                json!({"status": r.status, "body": r.body, "www_authenticate": r.www_authenticate})
            }
        };
        if got != case["expect"] {
            failures.push(format!(
                "{name}:\n  expected {}\n  got      {got}",
                case["expect"]
            ));
        }
    }
    for case in doc["config_errors"].as_array().unwrap() {
        let e = route_audience(
            mode(case),
            Some(resource),
            case["audience"].as_str(),
            case["accept_any_audience"].as_bool().unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code(), case["code"], "{}", case["name"]);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each token of a keys.json case against `verify`: accepted exactly when it is `valid`.
async fn check_key_tokens(
    name: &str,
    case: &Value,
    verifier: &mcp_auth_core::JwtVerifier,
    failures: &mut Vec<String>,
) {
    for (i, t) in case["tokens"].as_array().unwrap().iter().enumerate() {
        let r = verifier.verify(t["token"].as_str().unwrap()).await;
        let valid = t["valid"].as_bool().unwrap();
        match r {
            Ok(info) if valid && info.subject.as_deref() == Some("user-1") => {}
            Err(e) if !valid && e.code() == "invalid_token" => {}
            other => failures.push(format!("{name}, token {i}: {other:?}")),
        }
    }
}

fn algorithms(v: &Value) -> Option<Vec<mcp_auth_core::Alg>> {
    v.as_array().map(|a| {
        a.iter()
            .map(|x| mcp_auth_core::Alg::parse(x.as_str().unwrap()).unwrap())
            .collect()
    })
}

#[tokio::test]
async fn keys() {
    use base64::Engine;
    use mcp_auth_core::{JwtVerifier, Key, KeySet, KeySource};
    let doc = load_vector("keys.json");
    let mut failures = vec![];
    let jwt = |algs: Option<Vec<mcp_auth_core::Alg>>| JwtOptions {
        algorithms: algs,
        ..JwtOptions::default()
    };
    for case in doc["secrets"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let secret = base64::engine::general_purpose::STANDARD
            .decode(case["secret_base64"].as_str().unwrap())
            .unwrap();
        let algs = algorithms(&case["algorithms"]);
        match (
            Key::from_secret(&secret, algs.as_deref()),
            case["error"].as_str(),
        ) {
            (Ok(key), None) => {
                let v = JwtVerifier::new(KeySource::static_key(key), jwt(algs));
                check_key_tokens(name, case, &v, &mut failures).await;
            }
            (Err(e), Some(code)) if e.code() == code && e.kind() == ErrorKind::Config => {}
            (other, _) => failures.push(format!("{name}: {:?}", other.map(|_| "a key"))),
        }
    }
    for case in doc["jwks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let algs = algorithms(&case["algorithms"]);
        match (
            KeySet::configured(&case["keys"], algs.as_deref()),
            case["error"].as_str(),
        ) {
            (Ok(set), None) => {
                let v = JwtVerifier::new(KeySource::Static(Arc::new(set)), jwt(algs));
                check_key_tokens(name, case, &v, &mut failures).await;
            }
            (Err(e), Some(code)) if e.code() == code && e.kind() == ErrorKind::Config => {}
            (other, _) => failures.push(format!("{name}: {:?}", other.map(|_| "keys"))),
        }
    }
    let server = TestServer::start();
    for (i, case) in doc["published"].as_array().unwrap().iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let path = format!("/published/{i}");
        server.set(&path, Reply::json(&case["jwks"]));
        let v = JwtVerifier::new(
            KeySource::Remote {
                uri: server.url(&path),
                options: Default::default(),
            },
            jwt(algorithms(&case["algorithms"])),
        );
        check_key_tokens(name, case, &v, &mut failures).await;
        if let Some(kid) = case["notice"].as_str() {
            let notices = mcp_auth_core::notice::take();
            if !notices
                .iter()
                .any(|n| n.contains(&server.url(&path)) && n.contains(kid))
            {
                failures.push(format!("{name}: no notice naming `{kid}` in {notices:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn options() {
    let doc = load_vector("options.json");
    for case in doc["durations"].as_array().unwrap() {
        let s = case["seconds"].as_f64().unwrap();
        match mcp_auth_core::duration::from_secs("cache_ttl", s) {
            Ok(_) => assert!(case["ok"].as_bool().unwrap(), "{s} accepted"),
            Err(e) => {
                assert!(!case["ok"].as_bool().unwrap(), "{s} refused: {e}");
                assert_eq!(e.code(), doc["code"]);
            }
        }
        // The same value in milliseconds, as the Node package's options give it.
        let ms = mcp_auth_core::duration::from_millis("cooldownDuration", s * 1000.0);
        assert_eq!(ms.is_ok(), case["ok"].as_bool().unwrap(), "{s} s in ms");
    }
}

/// One answer of the route, in the shape of a `dpop.json` expectation.
fn dpop_answer(
    auth: &Authenticator,
    now: f64,
    r: std::result::Result<mcp_auth_core::Accepted, mcp_auth_core::Refused>,
) -> Value {
    let nonce_ok = |headers: &[(String, String)]| -> Value {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("dpop-nonce"))
            .map(|(_, v)| v.as_str())
            .collect();
        match values.as_slice() {
            [] => json!(false),
            // The newest nonce: made at this very "now".
            [one] => match auth.dpop().and_then(|d| d.nonce_issued_at(one)) {
                Some(at) if at == now.floor() as u64 => json!(true),
                other => json!(format!("a DPoP-Nonce made at {other:?}, not at {now}")),
            },
            _ => json!("several DPoP-Nonce headers"),
        }
    };
    match r {
        Ok(a) => json!({
            "status": 200,
            "auth_info": {
                "issuer": a.info.issuer,
                "subject": a.info.subject,
                "client_id": a.info.client_id,
                "scopes": a.info.scopes,
                "audience": a.info.audience.as_ref().map(|a| a.to_json()),
                "jkt": a.info.jkt(),
            },
            "dpop_nonce": nonce_ok(&a.headers),
        }),
        Err(f) => {
            let resp = &f.response;
            assert_eq!(
                resp.www_authenticate,
                (!resp.challenges.is_empty()).then(|| resp.challenges.join(", ")),
                "the joined challenge is the list joined"
            );
            json!({
                "status": resp.status,
                "body": resp.body,
                "www_authenticate": resp.challenges,
                "dpop_nonce": nonce_ok(&resp.headers),
                "why": f.error.to_string(),
            })
        }
    }
}

#[tokio::test]
async fn dpop() {
    use mcp_auth_core::{DpopOptions, McpRequest, RequestAuth};

    let doc = load_vector("dpop.json");
    let server = TestServer::start();
    server.set("/vectors/jwks", Reply::json(&doc["jwks"]));
    let answers: std::collections::HashMap<String, Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("introspection").is_some())
        .map(|c| {
            let header = c["request"]["authorization"].as_str().unwrap();
            let token = header.split_once(' ').unwrap().1.to_string();
            (token, c["introspection"].clone())
        })
        .collect();
    server.handle("/vectors/introspect", move |req| {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect();
        let answer = form
            .get("token")
            .and_then(|t| answers.get(t))
            .cloned()
            .unwrap_or(json!({"active": false}));
        Reply::json(&answer)
    });
    let mut md = doc["metadata"].clone();
    md["jwks_uri"] = json!(server.url("/vectors/jwks"));
    let config = Arc::new(ServerConfig {
        metadata: metadata::AuthorizationServerMetadata::from_json(md).unwrap(),
        server_type: AuthServerType::Oidc,
    });
    let resource = doc["resource"].as_str().unwrap();
    let settings = |case: &Value| -> Option<Value> {
        let mut s = case["dpop"].as_object()?.clone();
        s.entry("resource").or_insert(json!(resource));
        Some(Value::Object(s))
    };
    let build = |case: &Value| -> Authenticator {
        let verifier = VerifierOptions {
            jwt: JwtOptions {
                leeway: case["leeway"].as_f64().unwrap(),
                ..JwtOptions::default()
            },
            ..VerifierOptions::default()
        };
        let policy = Policy {
            audience: Some(resource.to_string()),
            required_scopes: strs(&case["required_scopes"]),
            resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().to_string()),
            show_error_details: case["show_error_details"].as_bool().unwrap(),
            ..Policy::default()
        };
        let servers = vec![AuthServer::Resolved(config.clone())];
        let auth = if case.get("introspection").is_some() {
            let v = IntrospectionVerifier::new(
                servers,
                IntrospectionOptions {
                    endpoint: Some(server.url("/vectors/introspect")),
                    client_id: doc["introspection"]["client_id"].as_str().unwrap().into(),
                    client_secret: doc["introspection"]["client_secret"]
                        .as_str()
                        .unwrap()
                        .into(),
                    ..IntrospectionOptions::default()
                },
                verifier,
            )
            .unwrap();
            Authenticator::with_introspection(Arc::new(v), policy)
        } else {
            Authenticator::new(Arc::new(TokenVerifier::new(servers, verifier)), policy)
        };
        match settings(case) {
            Some(s) => auth.with_dpop(DpopOptions::from_json(&s).unwrap()).unwrap(),
            None => auth,
        }
    };
    let mut failures = vec![];
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let r = &case["request"];
        let proofs: Vec<&str> = r["dpop"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let now = case["now"].as_f64().unwrap();
        let auth_req = RequestAuth {
            authorization: r["authorization"].as_str(),
            dpop: &proofs,
            path: r["path"].as_str().unwrap(),
            now: Some(now),
        };
        let req = McpRequest {
            method: r["method"].as_str().unwrap(),
            ..McpRequest::default()
        };
        // Each case through both entry points, each with a route of its own (its own replay
        // store): the synchronous one (falling back to the async one when it must wait), and
        // the async one alone.
        for path in ["now", "async"] {
            let auth = build(case);
            let send = || async {
                if path == "now" {
                    if let std::task::Poll::Ready(r) = auth.check_request_now(&auth_req, &req) {
                        return r;
                    }
                }
                auth.check_request(&auth_req, &req).await
            };
            if case["send_twice"].as_bool().unwrap_or(false) {
                let first = dpop_answer(&auth, now, send().await);
                if first["status"] != 200 {
                    failures.push(format!("{name} [{path}]: the first request got {first}"));
                    continue;
                }
            }
            let got = dpop_answer(&auth, now, send().await);
            let mut cmp = got.clone();
            cmp.as_object_mut().unwrap().remove("why");
            if cmp != case["expect"] {
                failures.push(format!(
                    "{name} [{path}]:\n  expected {}\n  got      {got}",
                    case["expect"]
                ));
            }
        }
    }
    for case in doc["metadata_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let auth = build(
            &json!({"dpop": case["dpop"], "leeway": 0, "required_scopes": null,
                                 "show_error_details": false}),
        );
        let fields = json!({"resource": resource, "scopes_supported": ["read"],
                            "dpop_bound_access_tokens_required": "configured, replaced"});
        let with = resource::with_dpop_fields(fields.as_object().unwrap(), auth.dpop().unwrap());
        let got =
            resource::protected_resource_metadata(&with, &[doc["issuer"].as_str().unwrap().into()]);
        if serde_json::to_string(&got).unwrap() != serde_json::to_string(&case["expected"]).unwrap()
        {
            failures.push(format!(
                "metadata {name}:\n  expected {}\n  got      {}",
                case["expected"],
                Value::Object(got)
            ));
        }
    }
    for case in doc["config_errors"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut s = case["dpop"].as_object().unwrap().clone();
        s.entry("resource").or_insert(json!(resource));
        let outcome = DpopOptions::from_json(&Value::Object(s)).and_then(|o| {
            let verifier = TokenVerifier::new(vec![], VerifierOptions::default());
            Authenticator::new(Arc::new(verifier), Policy::default()).with_dpop(o)
        });
        match outcome {
            Err(e) if e.code() == "invalid_dpop_config" && e.kind() == ErrorKind::Config => {}
            Err(e) => failures.push(format!("config {name}: unexpected error {e}")),
            Ok(_) => failures.push(format!("config {name}: accepted")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
