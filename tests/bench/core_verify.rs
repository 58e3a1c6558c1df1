//! Core floor: the whole per-request check with cached keys (header parse, decode, key lookup,
//! signature, claims, policy, AuthInfo) against the bare signature check with the same crypto
//! library and a pre-parsed key, over tokens the verifier sees for the first time. Two partial
//! paths show where the difference goes: a static key set (no issuer policy, no process-wide
//! caches) and the decoder alone; a repeat row sends one token again and again, which the
//! verifier answers from its cache of verified tokens. A DPoP row compares
//! the proof check with a bare ES256 verification. Writes target/bench/core.json.
//!
//! Run with `make bench` (or `cargo bench -p mcp-auth-core --bench core_verify`).
//!
//! `core_verify --bare-ops FIXTURES AS_PORT bare SECONDS` instead prints, as one JSON line, the
//! bare signature checks per second (wall clock, and `<alg>_cpu` per second of CPU time), so
//! run.py can interleave the bare check with the packages' verify functions round by round.

use std::hint::black_box;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use mcp_auth_core::bearer::Policy;
use mcp_auth_core::metadata::{AuthServerType, AuthorizationServerMetadata};
use mcp_auth_core::verifier::{AuthServer, TokenVerifier, VerifierOptions};
use mcp_auth_core::{runtime, Authenticator, KeySet, ServerConfig};
use serde_json::{json, Value};

const ISS: &str = "https://issuer.example.com";
const AUD: &str = "https://mcp.example.com/mcp";

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Iterations that take about `slice` for `f`, after a warm-up.
fn calibrate(f: &mut dyn FnMut(), slice: Duration) -> u64 {
    for _ in 0..200 {
        f();
    }
    let mut n = 16u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let took = t.elapsed();
        if took >= slice / 4 {
            return ((n as f64) * slice.as_secs_f64() / took.as_secs_f64()).max(1.0) as u64;
        }
        n *= 2;
    }
}

/// Nanoseconds per call of each contender: they take turns, one time slice each per round
/// (A B C, B C A, ...), and each gets the median of its rounds, so load from elsewhere on the
/// machine falls on all of them alike.
fn time_interleaved(fs: &mut [&mut dyn FnMut()], rounds: usize) -> Vec<f64> {
    let slice = Duration::from_millis(60);
    let iters: Vec<u64> = fs.iter_mut().map(|f| calibrate(*f, slice)).collect();
    let mut samples = vec![Vec::with_capacity(rounds); fs.len()];
    for r in 0..rounds {
        for k in 0..fs.len() {
            let i = (r + k) % fs.len();
            let t = Instant::now();
            for _ in 0..iters[i] {
                (fs[i])();
            }
            samples[i].push(t.elapsed().as_nanos() as f64 / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        })
        .collect()
}

/// Per-operation rules in core: the RS256 request check with 20 tool rules and a ~1 KiB
/// `tools/call` body, against the same check without rules (the endpoint rule only).
fn operations_row(endpoint_only: &Authenticator) -> Value {
    use mcp_auth_core::{McpRequest, OperationConfig};
    let rules: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("tool-{i}"), json!(["read"])))
        .collect();
    let with_rules = endpoint_only.clone().with_operation_config(
        OperationConfig::from_json(&json!({ "tool_scopes": rules })).unwrap(),
    );
    let pem = std::fs::read(root().join("tests/vectors/keys/rsa1.pem")).unwrap();
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("rsa-1".into());
    let claims = json!({"iss": ISS, "sub": "user-1", "aud": AUD, "scope": "read write",
                        "client_id": "c", "iat": 1735689600, "exp": 4102444800u64});
    let header = format!(
        "Bearer {}",
        encode(&h, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
    );
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"tool-7","arguments":{{"note":"{}","n":7,"flag":true}}}}}}"#,
        "x".repeat(900)
    );
    let length = body.len().to_string();
    let req = McpRequest {
        method: "POST",
        content_type: Some("application/json"),
        content_length: Some(&length),
        mcp_method: Some("tools/call"),
        mcp_name: Some("tool-7"),
        body: Some(body.as_bytes()),
        ..McpRequest::default()
    };
    assert!(matches!(
        with_rules.authenticate_request_now(Some(&header), &req),
        Poll::Ready(Ok((_, ref ops))) if ops.len() == 1
    ));
    let rules_only = with_rules.operations().unwrap().clone();
    // First-sight tokens, a set for each (they share one verifier and its cache of verified
    // tokens), so that the rules are weighed against a full verification as before that cache.
    let mint_many = |tag: &str| -> Vec<String> {
        let key = EncodingKey::from_rsa_pem(&pem).unwrap();
        (0..mcp_auth_core::verified::MAX_ENTRIES + 76)
            .map(|i| {
                let mut c = claims.clone();
                c["jti"] = json!(format!("{tag}-{i}"));
                format!("Bearer {}", encode(&h, &c, &key).unwrap())
            })
            .collect()
    };
    let (endpoint_tokens, rules_tokens) = (mint_many("e"), mint_many("r"));
    let (mut next_endpoint, mut next_rules) = (0, 0);
    let mut endpoint_f = || {
        next_endpoint = (next_endpoint + 1) % endpoint_tokens.len();
        let h = &endpoint_tokens[next_endpoint];
        let _ = black_box(endpoint_only.authenticate_request_now(Some(black_box(h)), &req));
    };
    let mut rules_f = || {
        next_rules = (next_rules + 1) % rules_tokens.len();
        let h = &rules_tokens[next_rules];
        let _ = black_box(with_rules.authenticate_request_now(Some(black_box(h)), &req));
    };
    let mut classify_f = || {
        let _ = black_box(rules_only.classify(black_box(&req)));
    };
    let ns = time_interleaved(&mut [&mut endpoint_f, &mut rules_f, &mut classify_f], 15);
    println!(
        "operations: endpoint only {:.0} ns, 20 tool rules {:.0} ns (x{:.3}), classify alone {:.0} ns",
        ns[0],
        ns[1],
        ns[1] / ns[0],
        ns[2]
    );
    json!({"endpoint_ns": ns[0], "rules_ns": ns[1], "classify_ns": ns[2], "body_bytes": body.len(),
           "rules_vs_endpoint": ns[1] / ns[0]})
}

/// CPU time of this thread, in seconds.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

/// Calls of `f` per wall-clock second and per CPU second over `seconds`, after a warm-up.
fn ops_per_second(f: &mut dyn FnMut(), seconds: f64) -> (f64, f64) {
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < (seconds / 3.0).min(0.3) {
        f();
    }
    let (start, cpu) = (Instant::now(), thread_cpu_seconds());
    let mut n = 0u64;
    loop {
        for _ in 0..50 {
            f();
        }
        n += 50;
        let took = start.elapsed().as_secs_f64();
        if took >= seconds {
            let used = (thread_cpu_seconds() - cpu).max(1e-9);
            return (n as f64 / took, n as f64 / used);
        }
    }
}

/// DPoP: the proof check itself (one ES256 proof of the vectors: parse, `jwk`, signature,
/// claims, `htu`, `ath`, thumbprint) against a bare ES256 verification of the same proof with a
/// pre-parsed key. Replay and the token are not part of it.
fn dpop_row(rounds: usize) -> Value {
    use mcp_auth_core::dpop::proof::ProofRequest;
    use mcp_auth_core::{Dpop, DpopOptions};
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/vectors/dpop.json")).unwrap(),
    )
    .unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ES256 proof with a bound token")
        .unwrap();
    let token = case["request"]["authorization"]
        .as_str()
        .unwrap()
        .strip_prefix("DPoP ")
        .unwrap()
        .to_string();
    let proof = case["request"]["dpop"][0].as_str().unwrap().to_string();
    let dpop = Dpop::new(
        DpopOptions {
            resource: doc["resource"].as_str().unwrap().into(),
            ..DpopOptions::default()
        },
        0.0,
    )
    .unwrap();
    let req = ProofRequest {
        method: "POST",
        path: "/mcp",
        access_token: &token,
        now: case["now"].as_f64().unwrap(),
    };
    let values = [proof.as_str()];
    assert!(dpop.verify_proof(&values, &req).is_ok());
    let (signing_input, signature) = proof.rsplit_once('.').unwrap();
    let sig_bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(proof.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let b = |k: &str| {
        URL_SAFE_NO_PAD
            .decode(header["jwk"][k].as_str().unwrap())
            .unwrap()
    };
    let mut point = vec![4u8];
    point.extend(b("x"));
    point.extend(b("y"));
    let parsed = ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point).unwrap();
    assert!(parsed
        .verify_sig(signing_input.as_bytes(), &sig_bytes)
        .is_ok());
    let mut proof_f = || {
        let _ = black_box(dpop.verify_proof(black_box(&values), &req));
    };
    let mut bare_f = || {
        black_box(
            parsed
                .verify_sig(black_box(signing_input.as_bytes()), &sig_bytes)
                .is_ok(),
        );
    };
    let ns = time_interleaved(&mut [&mut proof_f, &mut bare_f], rounds);
    println!(
        "dpop: proof check (ES256) {:.0} ns, bare ES256 verification {:.0} ns (x{:.3})",
        ns[0],
        ns[1],
        ns[0] / ns[1]
    );
    json!({"proof_ns": ns[0], "bare_es256_ns": ns[1], "proof_vs_bare": ns[0] / ns[1]})
}

struct Case {
    alg: &'static str,
    pem: &'static str,
    kid: &'static str,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--bare-ops FIXTURES AS_PORT CONTENDER SECONDS`, the arguments run.py gives every contender.
    let bare_ops_seconds: Option<f64> = args
        .iter()
        .position(|a| a == "--bare-ops")
        .map(|i| args.get(i + 4).and_then(|s| s.parse().ok()).unwrap_or(0.6));
    let mut bare_ops = serde_json::Map::new();
    // In --bare-ops, the fixtures' first-sight tokens: the ones the packages verify in that run.
    let fixture_tokens: Option<Value> = bare_ops_seconds.and_then(|_| {
        let i = args.iter().position(|a| a == "--bare-ops")?;
        let text = std::fs::read_to_string(args.get(i + 1)?).ok()?;
        let doc: Value = serde_json::from_str(&text).ok()?;
        Some(doc["first_sight"].clone())
    });
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/vectors/tokens.json")).unwrap(),
    )
    .unwrap();
    let jwks = vectors["jwks"].clone();
    let jwks_uri = "https://issuer.example.com/bench/jwks";
    runtime::globals().jwks.insert(
        jwks_uri,
        KeySet::from_json(&jwks).unwrap(),
        Duration::from_secs(3600),
    );
    let md = AuthorizationServerMetadata::from_json(json!({
        "issuer": ISS, "authorization_endpoint": "x", "token_endpoint": "y",
        "response_types_supported": ["code"], "jwks_uri": jwks_uri,
    }))
    .unwrap();
    let verifier = TokenVerifier::new(
        vec![AuthServer::Resolved(Arc::new(ServerConfig {
            metadata: md,
            server_type: AuthServerType::Oidc,
        }))],
        VerifierOptions::default(),
    );
    let auth = Authenticator::new(
        Arc::new(verifier),
        Policy {
            audience: Some(AUD.into()),
            required_scopes: vec!["read".into()],
            ..Policy::default()
        },
    );

    let cases = [
        Case {
            alg: "RS256",
            pem: "rsa1.pem",
            kid: "rsa-1",
        },
        Case {
            alg: "ES256",
            pem: "ec256.pem",
            kid: "ec-256",
        },
        Case {
            alg: "EdDSA",
            pem: "ed25519.pem",
            kid: "ed-1",
        },
    ];
    let mut results = serde_json::Map::new();
    if bare_ops_seconds.is_none() {
        println!(
            "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>10} {:>12}",
            "alg",
            "ours ns/op",
            "static keys",
            "decode only",
            "jwt-crate",
            "bare sig",
            "ours/bare",
            "repeat ns"
        );
    }
    for c in &cases {
        let pem = std::fs::read(root().join("tests/vectors/keys").join(c.pem)).unwrap();
        let (alg, key) = match c.alg {
            "RS256" => (
                jsonwebtoken::Algorithm::RS256,
                EncodingKey::from_rsa_pem(&pem).unwrap(),
            ),
            "ES256" => (
                jsonwebtoken::Algorithm::ES256,
                EncodingKey::from_ec_pem(&pem).unwrap(),
            ),
            _ => (
                jsonwebtoken::Algorithm::EdDSA,
                EncodingKey::from_ed_pem(&pem).unwrap(),
            ),
        };
        let mut h = Header::new(alg);
        h.kid = Some(c.kid.into());
        let claims = json!({"iss": ISS, "sub": "user-1", "aud": AUD, "scope": "read write",
                            "client_id": "c", "iat": 1735689600, "exp": 4102444800u64});
        let token = encode(&h, &claims, &key).unwrap();
        let header = format!("Bearer {token}");
        assert!(matches!(
            auth.authenticate_now(Some(&header)),
            Poll::Ready(Ok(_))
        ));

        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let sig_bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        // First sight: more distinct tokens than the verifier keeps verified, cycled through, so
        // every one has its signature checked (the fixtures' in --bare-ops). The bare check and
        // the crate's run over the same tokens, so all read bytes and signatures the caches have
        // not just seen. Repeat: the one token, answered from the verifier's cache.
        let first_sight: Vec<String> = match &fixture_tokens {
            Some(f) => f[c.alg]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| format!("Bearer {}", t.as_str().unwrap()))
                .collect(),
            None => (0..mcp_auth_core::verified::MAX_ENTRIES + 76)
                .map(|i| {
                    let mut c = claims.clone();
                    c["jti"] = json!(format!("f-{i}"));
                    format!("Bearer {}", encode(&h, &c, &key).unwrap())
                })
                .collect(),
        };
        // (signing input, signature in base64url, signature bytes) of each first-sight token.
        let inputs: Vec<(&str, &str, Vec<u8>)> = first_sight
            .iter()
            .map(|h| {
                let (input, sig) = h["Bearer ".len()..].rsplit_once('.').unwrap();
                (input, sig, URL_SAFE_NO_PAD.decode(sig).unwrap())
            })
            .collect();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == c.kid)
            .unwrap();
        let b = |k: &str| URL_SAFE_NO_PAD.decode(jwk[k].as_str().unwrap()).unwrap();
        let parsed: ParsedPublicKey = match c.alg {
            "RS256" => RsaPublicKeyComponents {
                n: b("n"),
                e: b("e"),
            }
            .to_parsed_public_key(&sig::RSA_PKCS1_2048_8192_SHA256)
            .unwrap(),
            "ES256" => {
                let mut point = vec![4u8];
                point.extend(b("x"));
                point.extend(b("y"));
                ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point).unwrap()
            }
            _ => ParsedPublicKey::new(&sig::ED25519, b("x")).unwrap(),
        };
        assert!(parsed
            .verify_sig(signing_input.as_bytes(), &sig_bytes)
            .is_ok());
        let mut next_bare = 0;
        let mut bare_f = || {
            next_bare = (next_bare + 1) % inputs.len();
            let (input, _, sig) = &inputs[next_bare];
            black_box(parsed.verify_sig(black_box(input.as_bytes()), sig).is_ok());
        };
        if let Some(seconds) = bare_ops_seconds {
            let (wall, cpu) = ops_per_second(&mut bare_f, seconds);
            bare_ops.insert(c.alg.into(), json!(wall));
            bare_ops.insert(format!("{}_cpu", c.alg), json!(cpu));
            continue;
        }
        let dk = jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap())
            .unwrap();

        let rounds: usize = std::env::var("BENCH_CORE_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(25);
        let mut next = 0;
        let mut ours_f = || {
            next = (next + 1) % first_sight.len();
            let _ = black_box(auth.authenticate_now(Some(black_box(&first_sight[next]))));
        };
        let mut repeat_f = || {
            let _ = black_box(auth.authenticate_now(Some(black_box(&header))));
        };
        let mut next_crate = 0;
        let mut crate_f = || {
            next_crate = (next_crate + 1) % inputs.len();
            let (input, sig, _) = &inputs[next_crate];
            black_box(jsonwebtoken::crypto::verify(sig, input.as_bytes(), &dk, alg).unwrap());
        };
        // Where the time around the signature goes: the same tokens through the static-key path
        // (no issuer policy, no process-wide caches) and through the decoder alone.
        let keyset = KeySet::from_json(&jwks).unwrap();
        let jwt_opts = mcp_auth_core::JwtOptions::default();
        // Over the same first-sight tokens as `ours`, so that all three read cold bytes alike.
        let raw: Vec<&str> = first_sight.iter().map(|h| &h["Bearer ".len()..]).collect();
        let (mut next_static, mut next_decode) = (0, 0);
        let mut static_f = || {
            next_static = (next_static + 1) % raw.len();
            let _ = black_box(mcp_auth_core::jwt::verify_with_keys(
                black_box(raw[next_static]),
                &keyset,
                &jwt_opts,
            ));
        };
        let mut decode_f = || {
            next_decode = (next_decode + 1) % raw.len();
            let _ = black_box(mcp_auth_core::jwt::decode(
                black_box(raw[next_decode]),
                &jwt_opts,
            ));
        };
        let ns = time_interleaved(
            &mut [
                &mut ours_f,
                &mut crate_f,
                &mut bare_f,
                &mut static_f,
                &mut decode_f,
                &mut repeat_f,
            ],
            rounds,
        );
        let (ours, crate_ns, bare, static_ns, decode_ns, repeat_ns) =
            (ns[0], ns[1], ns[2], ns[3], ns[4], ns[5]);
        println!(
            "{:<8} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>10.3} {:>12.0}",
            c.alg,
            ours,
            static_ns,
            decode_ns,
            crate_ns,
            bare,
            ours / bare,
            repeat_ns
        );
        results.insert(
            c.alg.to_string(),
            json!({"ours_ns": ours, "jsonwebtoken_verify_ns": crate_ns, "bare_ns": bare, "overhead": ours / bare,
                   "static_keys_ns": static_ns, "decode_ns": decode_ns,
                   "repeat_ns": repeat_ns, "repeat_vs_bare": repeat_ns / bare}),
        );
    }
    if bare_ops_seconds.is_some() {
        println!("{}", Value::Object(bare_ops));
        return;
    }
    let operations = operations_row(&auth);
    let rounds: usize = std::env::var("BENCH_CORE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let dpop = dpop_row(rounds);
    let rs = results["RS256"]["overhead"].clone();
    let out = json!({"core_overhead_rs256": rs, "algorithms": results, "operations": operations,
                     "dpop_proof_vs_bare_es256": dpop["proof_vs_bare"], "dpop": dpop});
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
        .join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("core.json"),
        serde_json::to_string_pretty(&out).unwrap(),
    )
    .unwrap();
}
