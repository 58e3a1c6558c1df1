//! DPoP replay stores through a real route: the in-process store at its cap, and the Redis
//! store against a real `redis-server` on 127.0.0.1 that these tests start and stop (they
//! skip, saying so, when `redis-server` is not installed: `apt-get install redis-server`).

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{load_vector, Reply, TestServer};
use mcp_auth_core::dpop::RedisStore;
use mcp_auth_core::metadata::{AuthServerType, AuthorizationServerMetadata};
use mcp_auth_core::verifier::{AuthServer, TokenVerifier, VerifierOptions};
use mcp_auth_core::{Authenticator, DpopOptions, McpRequest, Policy, RequestAuth, ServerConfig};
use serde_json::{json, Value};

const NOW: f64 = 1_767_225_600.0;

/// The client of the vectors: its key, its public JWK, and the token bound to it.
struct Client {
    key: EcdsaKeyPair,
    jwk: Value,
    token: String,
}

fn client(doc: &Value) -> Client {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/keys");
    let pem = std::fs::read_to_string(root.join("dpop-ec256.pem")).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &STANDARD.decode(der).unwrap(),
    )
    .unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ES256 proof with a bound token")
        .unwrap();
    let header = case["request"]["authorization"].as_str().unwrap();
    let proof = case["request"]["dpop"][0].as_str().unwrap();
    let h: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(proof.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    Client {
        key,
        jwk: h["jwk"].clone(),
        token: header.strip_prefix("DPoP ").unwrap().to_string(),
    }
}

impl Client {
    /// A fresh proof (its own `jti`) for `POST /mcp` at [`NOW`].
    fn proof(&self, jti: &str) -> String {
        let b = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let header = b(&json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}));
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, self.token.as_bytes()));
        let payload = b(
            &json!({"jti": jti, "htm": "POST", "htu": "https://mcp.example.com/mcp",
                                "iat": NOW, "ath": ath}),
        );
        let input = format!("{header}.{payload}");
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

struct Route {
    auth: Authenticator,
    _jwks: TestServer,
}

fn route(doc: &Value, dpop: Value) -> Route {
    let server = TestServer::start();
    server.set("/jwks", Reply::json(&doc["jwks"]));
    let mut md = doc["metadata"].clone();
    md["jwks_uri"] = json!(server.url("/jwks"));
    let config = Arc::new(ServerConfig {
        metadata: AuthorizationServerMetadata::from_json(md).unwrap(),
        server_type: AuthServerType::Oidc,
    });
    let verifier = TokenVerifier::new(
        vec![AuthServer::Resolved(config)],
        VerifierOptions::default(),
    );
    let policy = Policy {
        audience: Some("https://mcp.example.com/mcp".into()),
        resource_metadata: Some(doc["resource_metadata"].as_str().unwrap().into()),
        ..Policy::default()
    };
    let mut options = dpop;
    options["resource"] = json!("https://mcp.example.com/mcp");
    let auth = Authenticator::new(Arc::new(verifier), policy)
        .with_dpop(DpopOptions::from_json(&options).unwrap())
        .unwrap();
    Route {
        auth,
        _jwks: server,
    }
}

/// Status and error code of one request with `proof`.
async fn send(route: &Route, c: &Client, proof: &str) -> (u16, String) {
    let header = format!("DPoP {}", c.token);
    let proofs = [proof];
    let auth = RequestAuth {
        authorization: Some(&header),
        dpop: &proofs,
        path: "/mcp",
        now: Some(NOW),
    };
    let req = McpRequest {
        method: "POST",
        ..McpRequest::default()
    };
    match route.auth.check_request(&auth, &req).await {
        Ok(_) => (200, String::new()),
        Err(r) => (
            r.response.status,
            format!(
                "{} ({})",
                r.response.body["error"].as_str().unwrap_or(""),
                r.error
            ),
        ),
    }
}

#[tokio::test]
async fn the_in_process_store_refuses_new_proofs_when_full_of_live_ones() {
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let r = route(&doc, json!({"replay_max_entries": 2}));
    assert_eq!(send(&r, &c, &c.proof("m-1")).await.0, 200);
    assert_eq!(send(&r, &c, &c.proof("m-2")).await.0, 200);
    let (status, why) = send(&r, &c, &c.proof("m-3")).await;
    assert_eq!(status, 503, "{why}");
    assert!(why.starts_with("temporarily_unavailable"), "{why}");
    assert!(why.contains("dpop_replay_store_full"), "{why}");
    // The entries it holds are still refused as replays.
    let (status, why) = send(&r, &c, &c.proof("m-1")).await;
    assert_eq!(
        (status, why.starts_with("invalid_dpop_proof")),
        (401, true),
        "{why}"
    );
}

/// A `redis-server` of this test on a free port of 127.0.0.1, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

fn redis_server_binary() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join("redis-server"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Redis {
    /// `None` (and a message) when redis-server is not installed.
    fn start(port: u16) -> Option<Redis> {
        let Some(bin) = redis_server_binary() else {
            eprintln!(
                "skipping: redis-server is not installed (Debian: apt-get install redis-server; `make test-rust` installs it)"
            );
            return None;
        };
        let dir =
            std::env::temp_dir().join(format!("mcp-auth-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(bin)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server does not start");
        let r = Redis { child, port, dir };
        r.wait_ready();
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Until it answers PING (a readiness wait, not a timing assertion).
    fn wait_ready(&self) {
        use std::io::{Read, Write};
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} never answered", self.port);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn replicas_sharing_redis_refuse_each_others_replays() {
    let Some(redis) = Redis::start(free_port()) else {
        return;
    };
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let settings = json!({"replay_store": redis.url(), "replay_key_prefix": "t1:"});
    let (a, b) = (route(&doc, settings.clone()), route(&doc, settings));
    let p = c.proof("r-1");
    assert_eq!(send(&a, &c, &p).await, (200, String::new()));
    let (status, why) = send(&b, &c, &p).await;
    assert_eq!(status, 401, "{why}");
    assert!(why.contains("used before"), "{why}");
    // And the replica that saw it first refuses it too.
    assert_eq!(send(&a, &c, &p).await.0, 401);
    assert_eq!(send(&b, &c, &c.proof("r-2")).await.0, 200);

    // The entry lives as long as the proof stays acceptable (iat + 300 s, "now" = iat).
    let Some(mcp_auth_core::dpop::ReplayStore::Redis(store)) =
        a.auth.dpop().unwrap().replay_store()
    else {
        panic!("not a Redis store");
    };
    let jkt = mcp_auth_core::dpop::jwk_thumbprint(c.jwk.as_object().unwrap()).unwrap();
    let ttl = store.ttl_ms(&jkt, "r-1").await.unwrap().unwrap();
    assert!(ttl > 0 && ttl <= 300_000, "{ttl}");
    assert_eq!(store.ttl_ms(&jkt, "never-sent").await.unwrap(), None);

    // The synchronous entry point cannot ask Redis: it says so.
    let header = format!("DPoP {}", c.token);
    let proofs = [c.proof("r-3")];
    let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
    let auth = RequestAuth {
        authorization: Some(&header),
        dpop: &proofs,
        path: "/mcp",
        now: Some(NOW),
    };
    let req = McpRequest {
        method: "POST",
        ..McpRequest::default()
    };
    assert!(matches!(
        a.auth.check_request_now(&auth, &req),
        Poll::Pending
    ));
    assert!(a.auth.check_request(&auth, &req).await.is_ok());
}

#[tokio::test]
async fn redis_down_fails_closed_unless_told_otherwise_and_recovers() {
    let port = free_port();
    let Some(redis) = Redis::start(port) else {
        return;
    };
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let closed = route(
        &doc,
        json!({"replay_store": redis.url(), "replay_key_prefix": "t2:"}),
    );
    let open = route(
        &doc,
        json!({"replay_store": redis.url(), "replay_key_prefix": "t2:", "replay_fail_open": true}),
    );
    assert_eq!(send(&closed, &c, &c.proof("d-1")).await.0, 200);
    assert_eq!(send(&open, &c, &c.proof("d-2")).await.0, 200);
    drop(redis);

    let (status, why) = send(&closed, &c, &c.proof("d-3")).await;
    assert_eq!(status, 503, "{why}");
    assert!(why.starts_with("temporarily_unavailable"), "{why}");
    assert!(why.contains("dpop_replay_store_unavailable"), "{why}");
    assert!(why.contains("127.0.0.1"), "{why}");
    assert_eq!(send(&open, &c, &c.proof("d-4")).await.0, 200);

    // Back on the same port: requests succeed again once the retry pause has passed.
    let _again = Redis::start(port).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n = 0;
    loop {
        n += 1;
        let (status, why) = send(&closed, &c, &c.proof(&format!("d-back-{n}"))).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {why}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_redis_that_never_answers_is_cut_off_by_the_timeout() {
    if redis_server_binary().is_none() {
        eprintln!("skipping: redis-server is not installed (Debian: apt-get install redis-server)");
        return;
    }
    // Accepts connections and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = vec![];
        for s in silent.incoming().take(4) {
            conns.push(s);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let r = route(
        &doc,
        json!({"replay_store": format!("redis://127.0.0.1:{port}/0"), "replay_timeout_ms": 200}),
    );
    let (status, why) = send(&r, &c, &c.proof("s-1")).await;
    assert_eq!(status, 503, "{why}");
    assert!(why.contains("dpop_replay_store_unavailable"), "{why}");
    drop(held);
}

#[tokio::test]
async fn nothing_listening_fails_closed() {
    if redis_server_binary().is_none() {
        eprintln!("skipping: redis-server is not installed (Debian: apt-get install redis-server)");
        return;
    }
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let r = route(
        &doc,
        json!({"replay_store": format!("redis://127.0.0.1:{}/0", free_port())}),
    );
    for jti in ["n-1", "n-2"] {
        let (status, why) = send(&r, &c, &c.proof(jti)).await;
        assert_eq!(status, 503, "{why}");
        assert!(why.contains("dpop_replay_store_unavailable"), "{why}");
    }
}

#[test]
fn redis_urls_are_checked_when_the_route_is_built() {
    let e = RedisStore::new("redis://[::1", "p:", Duration::from_millis(100), false).unwrap_err();
    assert!(e.contains("not a Redis URL"), "{e}");
}

/// Two guards stacked on one request: the second takes the first's caller without checking the
/// proof again (which would find it replayed), and still applies its own rules.
#[tokio::test]
async fn a_second_guard_of_the_same_request_takes_the_accepted_caller() {
    let doc = load_vector("dpop.json");
    let c = client(&doc);
    let first = route(&doc, json!({}));
    let header = format!("DPoP {}", c.token);
    let proofs = [c.proof("s-1")];
    let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
    let auth = RequestAuth {
        authorization: Some(&header),
        dpop: &proofs,
        path: "/mcp",
        now: Some(NOW),
    };
    let req = McpRequest {
        method: "POST",
        ..McpRequest::default()
    };
    let info = first.auth.check_request(&auth, &req).await.unwrap().info;
    // Checked again in full, the proof is a replay.
    assert_eq!(
        first
            .auth
            .check_request(&auth, &req)
            .await
            .unwrap_err()
            .response
            .status,
        401
    );

    let second = route(&doc, json!({"mode": "required"}));
    let ok = second
        .auth
        .check_accepted(&auth, &req, &info)
        .await
        .unwrap();
    assert_eq!(ok.info.jkt(), info.jkt());
    // Keys cached: the synchronous entry point answers too, the proof checked in full.
    assert!(matches!(
        second.auth.check_accepted_now(&auth, &req, &info),
        Poll::Ready(Ok(_))
    ));
    let tampered = [format!("{}x", proofs[0])];
    let tampered: Vec<&str> = tampered.iter().map(String::as_str).collect();
    let bad_proof = RequestAuth {
        dpop: &tampered,
        ..auth
    };
    assert_eq!(
        second
            .auth
            .check_accepted(&bad_proof, &req, &info)
            .await
            .unwrap_err()
            .response
            .status,
        401
    );
    // This route's own proof rules: an ES384-only route refuses the ES256 proof.
    let es384 = route(&doc, json!({"algorithms": ["ES384"]}));
    assert_eq!(
        es384
            .auth
            .check_accepted(&auth, &req, &info)
            .await
            .unwrap_err()
            .response
            .status,
        401
    );
    // The same caller with another request's token, or in the Bearer scheme, is refused.
    let mut other = info.clone();
    other.token = "another".into();
    assert_eq!(
        second
            .auth
            .check_accepted(&auth, &req, &other)
            .await
            .unwrap_err()
            .response
            .status,
        401
    );
    let bearer = format!("Bearer {}", c.token);
    let as_bearer = RequestAuth {
        authorization: Some(&bearer),
        ..auth
    };
    let refused = second
        .auth
        .check_accepted(&as_bearer, &req, &info)
        .await
        .unwrap_err();
    assert_eq!(refused.response.status, 401);
    assert_eq!(
        refused.response.challenges.len(),
        1,
        "{:?}",
        refused.response.challenges
    );
    // Its own policy still decides: a scope the token lacks.
    let mut scoped = route(&doc, json!({}));
    let mut policy = scoped.auth.policy().clone();
    policy.required_scopes = vec!["admin".into()];
    scoped.auth = Authenticator::new(
        match scoped.auth.mode() {
            mcp_auth_core::Mode::Jwt(v) => v.clone(),
            _ => unreachable!(),
        },
        policy,
    )
    .with_dpop(DpopOptions::from_json(&json!({"resource": "https://mcp.example.com/mcp"})).unwrap())
    .unwrap();
    assert_eq!(
        scoped
            .auth
            .check_accepted(&auth, &req, &info)
            .await
            .unwrap_err()
            .response
            .status,
        403
    );
}
