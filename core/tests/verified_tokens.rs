//! The verifiers' cache of verified tokens: a repeated token skips its signature check, but
//! never outlives its `exp`, the key set that verified it, or the verifier's own options.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Reply, TestServer};
use jsonwebtoken::{encode, EncodingKey, Header};
use mcp_auth_core::jwks::JwksOptions;
use mcp_auth_core::jwt::JwtOptions;
use mcp_auth_core::keys::KeySet;
use mcp_auth_core::{JwtVerifier, KeySource};
use serde_json::{json, Value};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(common::vectors_dir().join("keys").join(name)).unwrap()
}

use common::vector_rsa_jwk as jwk;

fn mint(pem_name: &str, kid: &str, claims: Value) -> String {
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(&pem(pem_name)).unwrap();
    encode(&h, &claims, &key).unwrap()
}

fn claims(exp: u64) -> Value {
    json!({"iss": "https://issuer.example.com", "sub": "u", "exp": exp, "iat": now()})
}

fn remote(uri: &str, opts: JwtOptions) -> JwtVerifier {
    JwtVerifier::new(
        KeySource::Remote {
            uri: uri.to_string(),
            options: JwksOptions {
                cooldown: Duration::ZERO,
                ..JwksOptions::default()
            },
        },
        opts,
    )
}

#[tokio::test]
async fn a_repeated_token_is_answered_from_the_cache_and_expires_on_time() {
    let s = TestServer::start();
    s.set("/jwks", Reply::json(&json!({"keys": [jwk("rsa-1", "a")]})));
    let v = remote(
        &s.url("/jwks"),
        JwtOptions {
            leeway: 0.0,
            ..JwtOptions::default()
        },
    );
    let t = mint("rsa1.pem", "a", claims(now() + 2));
    let first = v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    let again = v.verify_now(&t);
    let std::task::Poll::Ready(Ok(again)) = again else {
        panic!("a cached token answers at once: {again:?}")
    };
    assert_eq!(again, first);
    // The clock is checked on every hit.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let e = v.verify(&t).await.unwrap_err();
    assert_eq!(e.code(), "invalid_token");
    assert!(e.to_string().contains("expired"), "{e}");
}

#[tokio::test]
async fn failures_are_never_kept() {
    let s = TestServer::start();
    s.set("/jwks", Reply::json(&json!({"keys": [jwk("rsa-1", "a")]})));
    let v = remote(&s.url("/jwks"), JwtOptions::default());
    let wrong_key = mint("rsa2.pem", "a", claims(now() + 600));
    let expired = mint("rsa1.pem", "a", claims(now() - 3600));
    for t in [&wrong_key, &expired] {
        v.verify(t).await.unwrap_err();
        v.verify(t).await.unwrap_err();
    }
    assert_eq!(v.cached_tokens(), 0);
}

#[tokio::test]
async fn a_key_removed_from_the_set_no_longer_verifies_its_cached_tokens() {
    let s = TestServer::start();
    s.set(
        "/jwks",
        Reply::json(&json!({"keys": [jwk("rsa-1", "old")]})),
    );
    let v = remote(&s.url("/jwks"), JwtOptions::default());
    let old = mint("rsa1.pem", "old", claims(now() + 600));
    v.verify(&old).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    // The server rotates the old key out; a token of the new key makes the verifier refetch.
    s.set(
        "/jwks",
        Reply::json(&json!({"keys": [jwk("rsa-enc", "new")]})),
    );
    let new = mint("rsa2.pem", "new", claims(now() + 600));
    v.verify(&new).await.unwrap();
    assert_eq!(s.hits("/jwks"), 2);
    // The cached answer was for a set that is gone: the token is checked again, and fails.
    let e = v.verify(&old).await.unwrap_err();
    assert!(
        ["invalid_token", "token_verification_failed"].contains(&e.code()),
        "{e}"
    );
    assert_eq!(v.cached_tokens(), 0);
    assert!(v.verify(&new).await.is_ok());
    assert_eq!(v.cached_tokens(), 1);
}

#[tokio::test]
async fn each_verifier_keeps_its_own_tokens_under_its_own_options() {
    let s = TestServer::start();
    s.set("/jwks", Reply::json(&json!({"keys": [jwk("rsa-1", "a")]})));
    // Expired ten minutes ago: inside a one-hour leeway, outside the default one.
    let t = mint("rsa1.pem", "a", claims(now() - 600));
    let lenient = remote(
        &s.url("/jwks"),
        JwtOptions {
            leeway: 3600.0,
            ..JwtOptions::default()
        },
    );
    let strict = remote(&s.url("/jwks"), JwtOptions::default());
    lenient.verify(&t).await.unwrap();
    lenient.verify(&t).await.unwrap();
    assert!(strict.verify(&t).await.is_err());
    // A verifier that allows only ES256 refuses the RS256 token another verifier keeps.
    let es_only = remote(
        &s.url("/jwks"),
        JwtOptions {
            leeway: 3600.0,
            algorithms: Some(vec![mcp_auth_core::keys::Alg::ES256]),
            ..JwtOptions::default()
        },
    );
    assert!(es_only.verify(&t).await.is_err());
}

#[tokio::test]
async fn static_keys_keep_tokens_and_the_cache_is_bounded() {
    let set = KeySet::from_json(&json!({"keys": [jwk("rsa-1", "a")]})).unwrap();
    let v = JwtVerifier::new(KeySource::Static(Arc::new(set)), JwtOptions::default());
    let n = mcp_auth_core::verified::MAX_ENTRIES + 5;
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            mint(
                "rsa1.pem",
                "a",
                json!({"iss": "i", "sub": format!("u{i}"), "exp": now() + 600}),
            )
        })
        .collect();
    for t in &tokens {
        v.verify(t).await.unwrap();
    }
    assert_eq!(v.cached_tokens(), mcp_auth_core::verified::MAX_ENTRIES);
    // The oldest went first; verifying it again is a miss that verifies in full.
    let info = v.verify(&tokens[0]).await.unwrap();
    assert_eq!(info.subject.as_deref(), Some("u0"));
    assert_eq!(v.cached_tokens(), mcp_auth_core::verified::MAX_ENTRIES);
}
