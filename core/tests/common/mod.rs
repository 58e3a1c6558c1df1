//! A small HTTP/1.1 server on 127.0.0.1 whose answers tests set per path: status, body, headers,
//! a delay, or a body cut short. It counts requests per path.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
    /// Announce this Content-Length but send `body` only (a truncated answer).
    pub declared_len: Option<usize>,
}

impl Reply {
    pub fn json(v: &serde_json::Value) -> Self {
        Reply {
            status: 200,
            body: serde_json::to_vec(v).unwrap(),
            headers: vec![("content-type".into(), "application/json".into())],
            delay: Duration::ZERO,
            declared_len: None,
        }
    }
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: b"{}".to_vec(),
            headers: vec![],
            delay: Duration::ZERO,
            declared_len: None,
        }
    }
    pub fn raw(body: &[u8]) -> Self {
        Reply {
            body: body.to_vec(),
            ..Reply::status(200)
        }
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A request as the server saw it, for handlers that answer by content.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    handlers: Arc<Mutex<HashMap<String, Handler>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl TestServer {
    /// Starts on a free port; runs on its own thread so any test runtime can use it.
    pub fn start() -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let server = TestServer {
            addr,
            routes: Arc::default(),
            handlers: Arc::default(),
            hits: Arc::default(),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((mut sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let s = s.clone();
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 4096];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buf
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .map(|i| i + 4)
                            .unwrap_or(buf.len());
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let mut lines = head.split("\r\n");
                        let mut first = lines.next().unwrap_or("").split_whitespace();
                        let method = first.next().unwrap_or("GET").to_string();
                        let path = first.next().unwrap_or("/").to_string();
                        let headers: Vec<(String, String)> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                            .collect();
                        let want = headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                            .and_then(|(_, v)| v.parse::<usize>().ok())
                            .unwrap_or(0)
                            .min(1 << 20);
                        let mut body = buf[end..].to_vec();
                        while body.len() < want {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => body.extend_from_slice(&chunk[..n]),
                            }
                        }
                        *s.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                        let handler = s.handlers.lock().unwrap().get(&path).cloned();
                        let reply = match handler {
                            Some(h) => Some(h(&Seen {
                                method,
                                path: path.clone(),
                                headers,
                                body,
                            })),
                            None => s.routes.lock().unwrap().get(&path).cloned(),
                        };
                        let reply = reply.unwrap_or_else(|| Reply::status(404));
                        tokio::time::sleep(reply.delay).await;
                        let mut out = format!(
                            "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                            reply.status,
                            reply.declared_len.unwrap_or(reply.body.len())
                        );
                        for (k, v) in &reply.headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str("\r\n");
                        let _ = sock.write_all(out.as_bytes()).await;
                        let _ = sock.write_all(&reply.body).await;
                        let _ = sock.shutdown().await;
                    });
                }
            });
        });
        server
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.into(), reply);
    }
    /// Answers `path` by what the request holds.
    pub fn handle(&self, path: &str, h: impl Fn(&Seen) -> Reply + Send + Sync + 'static) {
        self.handlers
            .lock()
            .unwrap()
            .insert(path.into(), Arc::new(h));
    }
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

pub fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

pub fn load_vector(name: &str) -> serde_json::Value {
    let p = vectors_dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// The RSA key `src` of `tokens.json`'s key set, published as `kid` (without `use`).
pub fn vector_rsa_jwk(src: &str, kid: &str) -> serde_json::Value {
    let jwks = load_vector("tokens.json")["jwks"].clone();
    let mut k = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == src)
        .unwrap()
        .clone();
    k["kid"] = serde_json::json!(kid);
    k.as_object_mut().unwrap().remove("use");
    k
}
