//! Fetching behaviour against real HTTP servers on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Reply, TestServer};
use jsonwebtoken::{encode, EncodingKey, Header};
use mcp_auth_core::jwks::JwksOptions;
use mcp_auth_core::metadata::{self, AuthServerType, FetchOptions};
use mcp_auth_core::verifier::{AuthServer, TokenVerifier, VerifierOptions};
use mcp_auth_core::{runtime, Flavor};
use serde_json::{json, Value};

fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(common::vectors_dir().join("keys").join(name)).unwrap()
}

fn jwk(kid: &str) -> Value {
    let src = match kid {
        "rsa-2" => "rsa-enc",
        k => k,
    };
    common::vector_rsa_jwk(src, kid)
}

fn mint(iss: &str, kid: &str) -> String {
    let pem = if kid == "rsa-2" {
        "rsa2.pem"
    } else {
        "rsa1.pem"
    };
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(kid.into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": iss, "sub": "u", "aud": "https://mcp.example.com", "exp": now + 600, "iat": now});
    encode(
        &h,
        &claims,
        &EncodingKey::from_rsa_pem(&key_pem(pem)).unwrap(),
    )
    .unwrap()
}

fn metadata_json(issuer: &str, jwks_uri: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": jwks_uri,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "end_session_endpoint": format!("{issuer}/logout"),
    })
}

fn quick() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_millis(500),
        ..FetchOptions::default()
    }
}

#[tokio::test]
async fn fetches_typed_metadata_and_keeps_unknown_fields() {
    let s = TestServer::start();
    let issuer = s.url("/tenant");
    s.set(
        "/tenant/.well-known/openid-configuration",
        Reply::json(&metadata_json(&issuer, "x")),
    );
    let c = metadata::fetch_server_config(&issuer, Some(AuthServerType::Oidc), None, &quick())
        .await
        .unwrap();
    assert_eq!(c.metadata.issuer, issuer);
    assert_eq!(c.server_type, AuthServerType::Oidc);
    assert_eq!(
        c.metadata.extra["end_session_endpoint"],
        json!(format!("{issuer}/logout"))
    );
    // The OAuth form of the same issuer is a different URL, which is not served here.
    let e = metadata::fetch_server_config(&issuer, Some(AuthServerType::OAuth), None, &quick())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error");
    let msg = e.message(Flavor::Python);
    assert!(
        msg.starts_with("Failed to fetch server config from http://"),
        "{msg}"
    );
    assert!(
        msg.contains("/.well-known/oauth-authorization-server/tenant: 404 Not Found"),
        "{msg}"
    );
}

#[tokio::test]
async fn discovery_without_type_follows_the_spec_order() {
    let s = TestServer::start();
    let issuer = s.url("/t1");
    // Only the OIDC path-inserted form answers: the OAuth form must be tried first (404).
    s.set(
        "/.well-known/openid-configuration/t1",
        Reply::json(&metadata_json(&issuer, "x")),
    );
    let c = metadata::fetch_server_config(&issuer, None, None, &quick())
        .await
        .unwrap();
    assert_eq!(c.server_type, AuthServerType::Oidc);
    assert_eq!(s.hits("/.well-known/oauth-authorization-server/t1"), 1);
    assert_eq!(s.hits("/.well-known/openid-configuration/t1"), 1);
    assert_eq!(s.hits("/t1/.well-known/openid-configuration"), 0);
}

#[tokio::test]
async fn server_errors_are_wrapped() {
    let s = TestServer::start();
    s.set("/500", Reply::status(500));
    s.set(
        "/bad-json",
        Reply::raw(b"<html>not json</html>").header("content-type", "text/html"),
    );
    s.set("/list", Reply::json(&json!([1, 2])));
    s.set("/big", Reply::raw(&vec![b' '; 2 * 1024 * 1024]));
    let mut truncated = Reply::raw(b"{\"issuer\": \"x\"");
    truncated.declared_len = Some(4096);
    s.set("/truncated", truncated);
    let opts = quick();
    let fetch = |p: &str| {
        let url = s.url(p);
        let opts = opts.clone();
        async move {
            metadata::fetch_server_config_by_well_known_url(
                &url,
                AuthServerType::OAuth,
                None,
                &opts,
            )
            .await
        }
    };
    let e = fetch("/500").await.unwrap_err();
    assert!(
        e.message(Flavor::Python).contains("Internal Server Error"),
        "{e}"
    );
    assert!(e
        .message(Flavor::Python)
        .contains("Failed to fetch server config"));
    let e = fetch("/bad-json").await.unwrap_err();
    assert!(e.message(Flavor::Python).contains("invalid JSON"), "{e}");
    let e = fetch("/list").await.unwrap_err();
    assert_eq!(e.code(), "invalid_server_metadata");
    let e = fetch("/big").await.unwrap_err();
    assert!(e.message(Flavor::Python).contains("larger than"), "{e}");
    let e = fetch("/truncated").await.unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error", "{e}");
}

#[tokio::test]
async fn slow_server_times_out_within_the_limit() {
    let s = TestServer::start();
    s.set(
        "/slow",
        Reply::json(&json!({})).delayed(Duration::from_secs(5)),
    );
    let start = Instant::now();
    let e = metadata::fetch_server_config_by_well_known_url(
        &s.url("/slow"),
        AuthServerType::OAuth,
        None,
        &FetchOptions {
            timeout: Duration::from_millis(300),
            ..FetchOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(e.message(Flavor::Python).contains("timed out"), "{e}");
}

#[tokio::test]
async fn redirect_loops_end_with_an_error() {
    let s = TestServer::start();
    s.set("/a", Reply::status(302).header("location", "/b"));
    s.set("/b", Reply::status(302).header("location", "/a"));
    let e = metadata::fetch_server_config_by_well_known_url(
        &s.url("/a"),
        AuthServerType::OAuth,
        None,
        &quick(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error");
    assert!(s.hits("/a") + s.hits("/b") <= 7);
}

#[tokio::test]
async fn issuer_mismatch_is_rejected_unless_disabled() {
    let s = TestServer::start();
    let issuer = s.url("/");
    let issuer = issuer.trim_end_matches('/').to_string();
    s.set(
        "/.well-known/oauth-authorization-server",
        Reply::json(&metadata_json("https://someone-else.example.com", "x")),
    );
    let e = metadata::fetch_server_config(&issuer, Some(AuthServerType::OAuth), None, &quick())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_server_metadata");
    let text = e.to_string();
    assert!(
        text.contains("https://someone-else.example.com") && text.contains(&issuer),
        "{text}"
    );
    let opts = FetchOptions {
        check_issuer: false,
        ..quick()
    };
    assert!(
        metadata::fetch_server_config(&issuer, Some(AuthServerType::OAuth), None, &opts)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn transpile_runs_before_validation() {
    let s = TestServer::start();
    let issuer = s.url("/tr");
    let mut m = metadata_json(&issuer, "x");
    m.as_object_mut()
        .unwrap()
        .remove("response_types_supported");
    s.set("/tr/.well-known/openid-configuration", Reply::json(&m));
    let fix = |mut v: Value| {
        v["response_types_supported"] = json!(["code"]);
        Ok(v)
    };
    let c =
        metadata::fetch_server_config(&issuer, Some(AuthServerType::Oidc), Some(&fix), &quick())
            .await
            .unwrap();
    assert_eq!(c.metadata.response_types_supported, vec!["code"]);
}

fn verifier(issuer: &str, cooldown: Duration) -> TokenVerifier {
    TokenVerifier::new(
        vec![AuthServer::Discovery {
            issuer: issuer.to_string(),
            server_type: Some(AuthServerType::Oidc),
        }],
        VerifierOptions {
            jwks: JwksOptions {
                cooldown,
                timeout: Duration::from_millis(500),
                ..JwksOptions::default()
            },
            fetch: quick(),
            ..VerifierOptions::default()
        },
    )
}

fn serve_issuer(s: &TestServer, tenant: &str, kids: &[&str]) -> String {
    let issuer = s.url(&format!("/{tenant}"));
    let jwks_path = format!("/{tenant}/jwks");
    s.set(
        &format!("/{tenant}/.well-known/openid-configuration"),
        Reply::json(&metadata_json(&issuer, &s.url(&jwks_path))),
    );
    let keys: Vec<Value> = kids.iter().map(|k| jwk(k)).collect();
    s.set(&jwks_path, Reply::json(&json!({ "keys": keys })));
    issuer
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_fetch_once() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "cold", &["rsa-1"]);
    s.set(
        "/cold/.well-known/openid-configuration",
        Reply::json(&metadata_json(&issuer, &s.url("/cold/jwks")))
            .delayed(Duration::from_millis(100)),
    );
    let v = Arc::new(verifier(&issuer, Duration::from_secs(30)));
    let token = mint(&issuer, "rsa-1");
    let mut tasks = vec![];
    for _ in 0..50 {
        let v = v.clone();
        let t = token.clone();
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(s.hits("/cold/.well-known/openid-configuration"), 1);
    assert_eq!(s.hits("/cold/jwks"), 1);
    // Warm now: the synchronous path answers without I/O.
    assert!(v.verify_now(&token).is_ready());
}

#[tokio::test]
async fn key_rotation_refreshes_once_then_accepts() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "rot", &["rsa-1"]);
    let v = verifier(&issuer, Duration::from_millis(200));
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    assert_eq!(s.hits("/rot/jwks"), 1);
    // The issuer rotates: a new kid appears beside the old one.
    serve_issuer(&s, "rot", &["rsa-1", "rsa-2"]);
    tokio::time::sleep(Duration::from_millis(250)).await;
    v.verify(&mint(&issuer, "rsa-2")).await.unwrap();
    assert_eq!(s.hits("/rot/jwks"), 2);
    v.verify(&mint(&issuer, "rsa-2")).await.unwrap();
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    assert_eq!(s.hits("/rot/jwks"), 2);
}

#[tokio::test]
async fn back_to_back_rotations_are_picked_up_at_once() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "rot2", &["rsa-1"]);
    // A long cooldown: only refreshes that fail to find the key may start it.
    let v = verifier(&issuer, Duration::from_secs(30));
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    serve_issuer(&s, "rot2", &["rsa-1", "rsa-2"]);
    v.verify(&mint(&issuer, "rsa-2")).await.unwrap();
    assert_eq!(s.hits("/rot2/jwks"), 2);
    // A made-up kid: one refresh, then the cooldown holds...
    assert!(v.verify(&mint(&issuer, "rsa-9")).await.is_err());
    assert!(v.verify(&mint(&issuer, "rsa-9")).await.is_err());
    assert_eq!(s.hits("/rot2/jwks"), 3);
    // ...and known keys keep working meanwhile.
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    assert_eq!(s.hits("/rot2/jwks"), 3);
}

#[tokio::test]
async fn hmac_tokens_fetch_nothing_so_a_rotation_right_after_is_picked_up() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "hmac", &["rsa-1"]);
    let v = verifier(&issuer, Duration::from_secs(30));
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    // Shaped like a Keycloak refresh token: HS512 with the kid of the realm's secret.
    let mut h = Header::new(jsonwebtoken::Algorithm::HS512);
    h.kid = Some("realm-hmac-key".into());
    let claims = json!({"iss": issuer, "sub": "u", "typ": "Refresh", "exp": 4102444800u64});
    let refresh = encode(&h, &claims, &EncodingKey::from_secret(b"realm secret")).unwrap();
    for _ in 0..3 {
        assert_eq!(
            v.verify(&refresh).await.unwrap_err().code(),
            "invalid_token"
        );
    }
    assert_eq!(s.hits("/hmac/jwks"), 1);
    // So no cooldown was started: the next genuine kid is fetched at once.
    serve_issuer(&s, "hmac", &["rsa-1", "rsa-2"]);
    v.verify(&mint(&issuer, "rsa-2")).await.unwrap();
    assert_eq!(s.hits("/hmac/jwks"), 2);
}

#[tokio::test]
async fn unknown_kid_flood_respects_the_cooldown() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "flood", &["rsa-1"]);
    let v = Arc::new(verifier(&issuer, Duration::from_secs(30)));
    v.verify(&mint(&issuer, "rsa-1")).await.unwrap();
    let bad = mint(&issuer, "rsa-2");
    let mut tasks = vec![];
    for _ in 0..200 {
        let v = v.clone();
        let t = bad.clone();
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.code(), "invalid_token");
    }
    // One fetch for the first token, at most one more for the unknown kid.
    assert!(
        s.hits("/flood/jwks") <= 2,
        "{} fetches",
        s.hits("/flood/jwks")
    );
}

#[tokio::test]
async fn known_keys_survive_a_failing_key_server() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "stale", &["rsa-1"]);
    // The server says its keys expire at once; the cache clamps that to its minimum age, so
    // force staleness through a short cooldown and a refresh on an unknown kid instead.
    let v = verifier(&issuer, Duration::from_millis(100));
    let good = mint(&issuer, "rsa-1");
    v.verify(&good).await.unwrap();
    s.set("/stale/jwks", Reply::status(503));
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A refresh attempt fails...
    assert!(v.verify(&mint(&issuer, "rsa-2")).await.is_err());
    assert_eq!(s.hits("/stale/jwks"), 2);
    // ...and the known key keeps working.
    v.verify(&good).await.unwrap();
    // Recovery without a restart.
    serve_issuer(&s, "stale", &["rsa-1", "rsa-2"]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    v.verify(&mint(&issuer, "rsa-2")).await.unwrap();
}

#[tokio::test]
async fn metadata_failures_are_not_cached() {
    let s = TestServer::start();
    let issuer = s.url("/flaky");
    s.set(
        "/flaky/.well-known/openid-configuration",
        Reply::status(500),
    );
    let v = verifier(&issuer, Duration::from_secs(30));
    let token = mint(&issuer, "rsa-1");
    let e = v.verify(&token).await.unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error");
    assert!(!e.is_auth_failure());
    serve_issuer(&s, "flaky", &["rsa-1"]);
    v.verify(&token).await.unwrap();
}

#[tokio::test]
async fn a_token_never_chooses_what_is_fetched() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "trust", &["rsa-1"]);
    let v = verifier(&issuer, Duration::from_secs(30));
    let foreign = s.url("/evil");
    let e = v.verify(&mint(&foreign, "rsa-1")).await.unwrap_err();
    assert_eq!(e.code(), "invalid_issuer");
    assert_eq!(s.hits("/evil/.well-known/openid-configuration"), 0);
    assert_eq!(s.hits("/trust/.well-known/openid-configuration"), 0);
}

#[test]
fn blocking_calls_work_outside_and_inside_a_runtime() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "blocking", &["rsa-1"]);
    let fetch = {
        let issuer = issuer.clone();
        move || {
            let issuer = issuer.clone();
            runtime::block_on(async move {
                metadata::fetch_server_config(&issuer, Some(AuthServerType::Oidc), None, &quick())
                    .await
            })
        }
    };
    assert!(fetch().is_ok());
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(rt.block_on(async { fetch() }).is_ok());
}

#[tokio::test]
async fn discovered_metadata_is_refreshed_after_its_ttl() {
    let s = TestServer::start();
    let issuer = serve_issuer(&s, "ttl", &["rsa-1"]);
    let mut opts = VerifierOptions {
        fetch: quick(),
        metadata_ttl: Duration::from_millis(200),
        ..VerifierOptions::default()
    };
    opts.jwks.timeout = Duration::from_millis(500);
    let v = TokenVerifier::new(
        vec![AuthServer::Discovery {
            issuer: issuer.clone(),
            server_type: Some(AuthServerType::Oidc),
        }],
        opts,
    );
    let token = mint(&issuer, "rsa-1");
    v.verify(&token).await.unwrap();
    v.verify(&token).await.unwrap();
    assert_eq!(s.hits("/ttl/.well-known/openid-configuration"), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    // Expired: refreshed once; while the server fails, the old metadata keeps serving.
    s.set("/ttl/.well-known/openid-configuration", Reply::status(503));
    v.verify(&token).await.unwrap();
    assert_eq!(s.hits("/ttl/.well-known/openid-configuration"), 2);
    // The failed refresh is not retried on every request.
    v.verify(&token).await.unwrap();
    assert!(v.verify_now(&token).is_ready());
    assert_eq!(s.hits("/ttl/.well-known/openid-configuration"), 2);
}

#[tokio::test]
async fn discovery_without_type_names_every_url_it_tried() {
    let s = TestServer::start();
    let issuer = s.url("/nowhere");
    let e = metadata::fetch_server_config(&issuer, None, None, &quick())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error");
    let msg = e.message(Flavor::Node);
    assert!(
        msg.starts_with(&format!(
            "Failed to fetch server config from {issuer}/.well-known/openid-configuration: 404"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("also tried")
            && msg.contains("/.well-known/oauth-authorization-server/nowhere (404")
            && msg.contains("/.well-known/openid-configuration/nowhere (404"),
        "{msg}"
    );
}

mod introspection {
    use super::*;
    use mcp_auth_core::bearer::Policy;
    use mcp_auth_core::{
        Authenticator, ClientAuthMethod, IntrospectionOptions, IntrospectionVerifier,
    };

    fn active(iss: &str, exp: i64) -> Value {
        json!({"active": true, "iss": iss, "sub": "u", "client_id": "c", "scope": "read", "exp": exp})
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn verifier(
        servers: Vec<AuthServer>,
        endpoint: Option<String>,
        cache_ttl: Option<Duration>,
        timeout: Duration,
    ) -> IntrospectionVerifier {
        IntrospectionVerifier::new(
            servers,
            IntrospectionOptions {
                endpoint,
                client_id: "rs".into(),
                client_secret: "secret".into(),
                auth_method: ClientAuthMethod::ClientSecretPost,
                cache_ttl,
                timeout,
                ..IntrospectionOptions::default()
            },
            VerifierOptions {
                fetch: quick(),
                ..VerifierOptions::default()
            },
        )
        .unwrap()
    }

    fn discovery(issuer: &str) -> Vec<AuthServer> {
        vec![AuthServer::Discovery {
            issuer: issuer.into(),
            server_type: Some(AuthServerType::OAuth),
        }]
    }

    #[tokio::test]
    async fn endpoint_comes_from_discovered_metadata() {
        let s = TestServer::start();
        let issuer = s.url("/is1");
        let mut md = metadata_json(&issuer, "x");
        md["introspection_endpoint"] = json!(s.url("/is1/introspect"));
        s.set(
            "/.well-known/oauth-authorization-server/is1",
            Reply::json(&md),
        );
        s.set(
            "/is1/introspect",
            Reply::json(&active(&issuer, now() + 600)),
        );
        let v = verifier(discovery(&issuer), None, None, Duration::from_secs(2));
        let info = v.verify("opaque-1").await.unwrap();
        assert_eq!(
            (info.issuer.as_str(), info.subject.as_deref()),
            (issuer.as_str(), Some("u"))
        );
        assert_eq!(s.hits("/is1/introspect"), 1);
    }

    #[tokio::test]
    async fn metadata_without_an_endpoint_is_a_server_error() {
        let s = TestServer::start();
        let issuer = s.url("/is2");
        s.set(
            "/.well-known/oauth-authorization-server/is2",
            Reply::json(&metadata_json(&issuer, "x")),
        );
        let v = verifier(discovery(&issuer), None, None, Duration::from_secs(2));
        let e = v.verify("opaque-1").await.unwrap_err();
        assert_eq!(e.code(), "missing_introspection_endpoint");
        assert!(!e.is_auth_failure());
        let r = Policy::default().respond(&e);
        assert_eq!(r.status, 500);
    }

    #[tokio::test]
    async fn cache_is_opt_in_and_bounded_by_exp() {
        let s = TestServer::start();
        let issuer = s.url("/is3");
        let endpoint = s.url("/is3/introspect");
        s.set(
            "/is3/introspect",
            Reply::json(&active(&issuer, now() + 600)),
        );
        let servers = || {
            vec![AuthServer::Discovery {
                issuer: issuer.clone(),
                server_type: None,
            }]
        };
        // Off by default: every request asks.
        let v = verifier(
            servers(),
            Some(endpoint.clone()),
            None,
            Duration::from_secs(2),
        );
        v.verify("t").await.unwrap();
        v.verify("t").await.unwrap();
        assert_eq!(v.requests_sent(), 2);
        // On: the second request is answered from the cache, without I/O.
        let v = verifier(
            servers(),
            Some(endpoint.clone()),
            Some(Duration::from_secs(60)),
            Duration::from_secs(2),
        );
        v.verify("t").await.unwrap();
        assert!(v.verify_now("t").is_ready());
        v.verify("t").await.unwrap();
        assert_eq!(v.requests_sent(), 1);
        // A token that expires within a second is not reused past its `exp`.
        s.set("/is3/introspect", Reply::json(&active(&issuer, now() + 1)));
        v.verify("short").await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let e = v.verify("short").await.unwrap_err();
        assert_eq!(e.code(), "invalid_token");
        assert_eq!(v.requests_sent(), 3);
        // Inactive answers are never cached.
        s.set("/is3/introspect", Reply::json(&json!({"active": false})));
        assert!(v.verify("gone").await.is_err());
        assert!(v.verify("gone").await.is_err());
        assert_eq!(v.requests_sent(), 5);
    }

    #[tokio::test]
    async fn concurrent_checks_of_one_token_share_one_request() {
        let s = TestServer::start();
        let issuer = s.url("/is7");
        s.set(
            "/is7/introspect",
            Reply::json(&active(&issuer, now() + 600)).delayed(Duration::from_millis(200)),
        );
        let servers = vec![AuthServer::Discovery {
            issuer: issuer.clone(),
            server_type: None,
        }];
        let v = Arc::new(verifier(
            servers,
            Some(s.url("/is7/introspect")),
            None,
            Duration::from_secs(2),
        ));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let v = v.clone();
                tokio::spawn(async move { v.verify("same").await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().subject.as_deref(), Some("u"));
        }
        assert_eq!(s.hits("/is7/introspect"), 1);
        // Without a cache, the next request asks again.
        v.verify("same").await.unwrap();
        assert_eq!(v.requests_sent(), 2);
    }

    #[tokio::test]
    async fn a_slow_or_down_endpoint_fails_within_the_timeout() {
        let s = TestServer::start();
        let issuer = s.url("/is4");
        s.set(
            "/is4/introspect",
            Reply::json(&active(&issuer, now() + 600)).delayed(Duration::from_secs(5)),
        );
        let servers = vec![AuthServer::Discovery {
            issuer: issuer.clone(),
            server_type: None,
        }];
        let v = verifier(
            servers.clone(),
            Some(s.url("/is4/introspect")),
            None,
            Duration::from_millis(300),
        );
        let t0 = Instant::now();
        let e = v.verify("t").await.unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(3));
        assert_eq!(e.code(), "token_verification_failed");
        assert!(
            e.to_string().contains("Failed to introspect the token"),
            "{e}"
        );
        // Nothing listening at all.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let v = verifier(
            servers,
            Some(format!("http://127.0.0.1:{port}/i")),
            None,
            Duration::from_secs(2),
        );
        let e = v.verify("t").await.unwrap_err();
        assert_eq!(e.code(), "token_verification_failed");
    }

    #[tokio::test]
    async fn redirects_are_not_followed_with_credentials() {
        let s = TestServer::start();
        let issuer = s.url("/is5");
        s.set("/is5/elsewhere", Reply::json(&active(&issuer, now() + 600)));
        s.set(
            "/is5/introspect",
            Reply::status(307).header("location", &s.url("/is5/elsewhere")),
        );
        let servers = vec![AuthServer::Discovery {
            issuer: issuer.clone(),
            server_type: None,
        }];
        let v = verifier(
            servers,
            Some(s.url("/is5/introspect")),
            None,
            Duration::from_secs(2),
        );
        let e = v.verify("t").await.unwrap_err();
        assert_eq!(e.code(), "token_verification_failed");
        assert_eq!(s.hits("/is5/elsewhere"), 0);
    }

    #[tokio::test]
    async fn the_authenticator_applies_the_route_policy() {
        let s = TestServer::start();
        let issuer = s.url("/is6");
        s.set(
            "/is6/introspect",
            Reply::json(&active(&issuer, now() + 600)),
        );
        let servers = vec![AuthServer::Discovery {
            issuer: issuer.clone(),
            server_type: None,
        }];
        let v = verifier(
            servers,
            Some(s.url("/is6/introspect")),
            None,
            Duration::from_secs(2),
        );
        let auth = Authenticator::with_introspection(
            Arc::new(v),
            Policy {
                issuers: Some(vec![issuer.clone()]),
                required_scopes: vec!["admin".into()],
                resource_metadata: Some("https://rs/.well-known/oauth-protected-resource".into()),
                ..Policy::default()
            },
        );
        let e = auth.authenticate(Some("Bearer abc")).await.unwrap_err();
        let r = auth.respond(&e);
        assert_eq!(r.status, 403);
        assert!(r.www_authenticate.unwrap().contains("insufficient_scope"));
    }
}

fn remote_verifier(uri: &str, jwks: JwksOptions) -> mcp_auth_core::JwtVerifier {
    mcp_auth_core::JwtVerifier::new(
        mcp_auth_core::KeySource::Remote {
            uri: uri.to_string(),
            options: jwks,
        },
        Default::default(),
    )
}

/// An RS256 token of `kid` (or none) signed with `pem`.
fn mint_with(pem: &str, kid: Option<&str>) -> String {
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = kid.map(str::to_string);
    let claims = json!({"iss": "https://issuer.example.com", "sub": "u", "exp": 4102444800u64});
    encode(
        &h,
        &claims,
        &EncodingKey::from_rsa_pem(&key_pem(pem)).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_server_max_age_never_lengthens_the_configured_cache_age() {
    let s = TestServer::start();
    s.set(
        "/maxage/jwks",
        Reply::json(&json!({ "keys": [jwk("rsa-1")] })).header("cache-control", "max-age=86400"),
    );
    // The operator allows no caching at all: a day from the key server must not override that.
    let v = remote_verifier(
        &s.url("/maxage/jwks"),
        JwksOptions {
            cache_max_age: Duration::ZERO,
            ..JwksOptions::default()
        },
    );
    let t = mint("https://issuer.example.com", "rsa-1");
    v.verify(&t).await.unwrap();
    v.verify(&t).await.unwrap();
    assert_eq!(s.hits("/maxage/jwks"), 2);
}

#[tokio::test]
async fn stale_keys_serve_only_up_to_the_staleness_limit() {
    let s = TestServer::start();
    let keys = Reply::json(&json!({ "keys": [jwk("rsa-1")] }));
    let t = mint("https://issuer.example.com", "rsa-1");
    for (path, max_stale, still_served) in [
        ("/bounded/jwks", Duration::ZERO, false),
        ("/unbounded/jwks", Duration::from_secs(3600), true),
    ] {
        s.set(path, keys.clone());
        // No caching and no cooldown: every verification asks the key server.
        let v = remote_verifier(
            &s.url(path),
            JwksOptions {
                cache_max_age: Duration::ZERO,
                cooldown: Duration::ZERO,
                max_stale,
                ..JwksOptions::default()
            },
        );
        v.verify(&t).await.unwrap();
        s.set(path, Reply::status(503));
        let r = v.verify(&t).await;
        assert_eq!(r.is_ok(), still_served, "{path}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.code(), "token_verification_failed");
            assert!(e.to_string().contains("staleness limit"), "{e}");
        }
        // A fetch that succeeds again restores verification.
        s.set(path, keys.clone());
        v.verify(&t).await.unwrap();
    }
}

#[tokio::test]
async fn key_sets_follow_no_redirect() {
    let target = TestServer::start();
    target.set("/jwks", Reply::json(&json!({ "keys": [jwk("rsa-1")] })));
    let s = TestServer::start();
    for (path, to) in [
        ("/same/jwks", s.url("/jwks")),
        ("/other/jwks", target.url("/jwks")),
    ] {
        s.set(path, Reply::status(302).header("location", &to));
    }
    s.set("/jwks", Reply::json(&json!({ "keys": [jwk("rsa-1")] })));
    let t = mint("https://issuer.example.com", "rsa-1");
    for path in ["/same/jwks", "/other/jwks"] {
        let e = remote_verifier(&s.url(path), JwksOptions::default())
            .verify(&t)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "token_verification_failed", "{path}");
        assert!(e.to_string().contains("302"), "{e}");
    }
    assert_eq!(target.hits("/jwks") + s.hits("/jwks"), 0);
}

#[tokio::test]
async fn metadata_follows_same_origin_redirects_only_and_keeps_headers_home() {
    let other = TestServer::start();
    let s = TestServer::start();
    let issuer = s.url("/moved");
    let md = Reply::json(&metadata_json(&issuer, "x"));
    other.set("/.well-known/openid-configuration/elsewhere", md.clone());
    s.set("/new/location", md);
    s.set(
        "/moved/.well-known/openid-configuration",
        Reply::status(301).header("location", &s.url("/new/location")),
    );
    let opts = FetchOptions {
        headers: vec![("x-api-key".into(), "secret-of-this-origin".into())],
        ..quick()
    };
    let c = metadata::fetch_server_config(&issuer, Some(AuthServerType::Oidc), None, &opts)
        .await
        .unwrap();
    assert_eq!(c.metadata.issuer, issuer);
    assert_eq!(s.hits("/new/location"), 1);

    s.set(
        "/moved/.well-known/openid-configuration",
        Reply::status(302).header(
            "location",
            &other.url("/.well-known/openid-configuration/elsewhere"),
        ),
    );
    let e = metadata::fetch_server_config(&issuer, Some(AuthServerType::Oidc), None, &opts)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "fetch_server_config_error");
    assert!(e.to_string().contains("another origin"), "{e}");
    // The other origin never saw the request, so never the header.
    assert_eq!(other.hits("/.well-known/openid-configuration/elsewhere"), 0);
}

#[tokio::test]
async fn verifiers_with_different_headers_never_share_keys() {
    let s = TestServer::start();
    // One URL, a key set per tenant header (as a multi-tenant gateway serves them).
    s.handle("/tenant-keys", |req| match req.header("x-tenant") {
        Some("a") => Reply::json(&json!({ "keys": [jwk("rsa-1")] })),
        Some("b") => Reply::json(&json!({ "keys": [jwk("rsa-2")] })),
        _ => Reply::status(403),
    });
    let for_tenant = |t: &str| {
        remote_verifier(
            &s.url("/tenant-keys"),
            JwksOptions {
                headers: vec![("X-Tenant".into(), t.into())],
                ..JwksOptions::default()
            },
        )
    };
    let (a, b) = (for_tenant("a"), for_tenant("b"));
    let iss = "https://issuer.example.com";
    a.verify(&mint(iss, "rsa-1")).await.unwrap();
    b.verify(&mint(iss, "rsa-2")).await.unwrap();
    assert!(a.verify(&mint(iss, "rsa-2")).await.is_err());
    assert!(b.verify(&mint(iss, "rsa-1")).await.is_err());
}

#[tokio::test]
async fn a_kid_less_token_after_a_rotation_refetches_once_per_cooldown() {
    let s = TestServer::start();
    let no_kid = |kid: &str| {
        let mut k = jwk(kid);
        k.as_object_mut().unwrap().remove("kid");
        k
    };
    s.set(
        "/nokid/jwks",
        Reply::json(&json!({ "keys": [no_kid("rsa-1")] })),
    );
    // One verifier caches the old key; the key server rotates without kids; a token of the new key.
    let v = remote_verifier(&s.url("/nokid/jwks"), JwksOptions::default());
    v.verify(&mint_with("rsa1.pem", None)).await.unwrap();
    s.set(
        "/nokid/jwks",
        Reply::json(&json!({ "keys": [no_kid("rsa-2")] })),
    );
    let rotated = mint_with("rsa2.pem", None);
    assert!(v.verify_now(&rotated).is_pending());
    v.verify(&rotated).await.unwrap();
    assert_eq!(s.hits("/nokid/jwks"), 2);
    // Kid-less tokens the keys do not verify cost no more refreshes within the cooldown.
    for _ in 0..20 {
        assert!(v.verify(&mint_with("rsa1.pem", None)).await.is_err());
    }
    assert_eq!(s.hits("/nokid/jwks"), 2);
    assert!(v.verify_now(&mint_with("rsa1.pem", None)).is_ready());
}

#[tokio::test]
async fn stale_metadata_serves_only_up_to_the_staleness_limit() {
    let s = TestServer::start();
    for (tenant, max_stale, still_served) in [
        ("mdstale0", Duration::ZERO, false),
        ("mdstale1", Duration::from_secs(3600), true),
    ] {
        let issuer = serve_issuer(&s, tenant, &["rsa-1"]);
        let token = mint(&issuer, "rsa-1");
        let path = format!("/{tenant}/.well-known/openid-configuration");
        // Metadata is stale as soon as it is fetched; keys stay fresh.
        let v = TokenVerifier::new(
            vec![AuthServer::Discovery {
                issuer: issuer.clone(),
                server_type: Some(AuthServerType::Oidc),
            }],
            VerifierOptions {
                fetch: FetchOptions {
                    max_stale,
                    ..quick()
                },
                metadata_ttl: Duration::ZERO,
                ..VerifierOptions::default()
            },
        );
        v.verify(&token).await.unwrap();
        s.set(&path, Reply::status(503));
        let r = v.verify(&token).await;
        assert_eq!(r.is_ok(), still_served, "{max_stale:?}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.code(), "fetch_server_config_error");
        }
    }
}
