//! The replay store shared by replicas: one Redis (or Valkey) where every proof is recorded
//! with `SET <prefix><key> 1 NX PX <ms>`, atomic, so of two replicas that see the same proof
//! at once exactly one accepts it. Entries expire by themselves when the proof leaves its
//! window.
//!
//! Every call (connecting included) ends within the configured timeout. When Redis cannot
//! answer, the request is refused (503 `dpop_replay_store_unavailable`) unless the route was
//! configured to fail open, which accepts the proof unrecorded. After a failed connection
//! attempt, no new one is made for [`RETRY_AFTER`]: requests in that time fail at once instead
//! of each waiting for the timeout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

use super::replay::ReplayKey;
use crate::error::{codes, Error, Result};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
pub const DEFAULT_KEY_PREFIX: &str = "mcp-auth:dpop:";
/// How long after a failed connection attempt requests fail without trying again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A Redis replay store; cheap to share (the connection is made on first use, per process).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// The URL with any password replaced, for messages.
    shown: String,
    prefix: String,
    timeout: Duration,
    fail_open: bool,
    /// The connection of the process that made it (a child of `fork()` makes its own).
    conn: Mutex<Option<(u32, MultiplexedConnection)>>,
    retry_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.shown)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .field("fail_open", &self.inner.fail_open)
            .finish()
    }
}

/// `url` with its password (if any) replaced by `***`.
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

fn hex(key: &ReplayKey) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in key {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

impl RedisStore {
    /// Checks `url` (no connection is made yet). `Err` explains the problem.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        fail_open: bool,
    ) -> std::result::Result<RedisStore, String> {
        let client = redis::Client::open(url).map_err(|e| {
            format!(
                "`{}` is not a Redis URL (redis://, rediss://, valkey://, valkeys:// or unix://): {}",
                shown_url(url),
                e.detail().unwrap_or("it does not parse")
            )
        })?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                shown: shown_url(url),
                prefix: prefix.to_string(),
                timeout,
                fail_open,
                conn: Mutex::new(None),
                retry_at: Mutex::new(None),
            }),
        })
    }

    /// Records a proof valid until `until`; `true` when no replica recorded it before.
    pub(crate) async fn record(&self, key: &ReplayKey, until: f64, now: f64) -> Result<bool> {
        let inner = self.inner.clone();
        let name = format!("{}{}", inner.prefix, hex(key));
        let ttl_ms = (((until - now) * 1000.0).ceil() as u64).max(1);
        // On the core's runtime, whatever runtime awaits us: the connection's driver task must
        // outlive the host's request.
        let outcome = crate::runtime::spawn(async move { inner.set_nx(name, ttl_ms).await })
            .await
            .unwrap_or_else(|e| Err(format!("the replay store task failed: {e}")));
        match outcome {
            Ok(fresh) => Ok(fresh),
            Err(_) if self.inner.fail_open => Ok(true),
            Err(why) => Err(Error::config(
                codes::DPOP_REPLAY_STORE_UNAVAILABLE,
                "The DPoP replay store is unavailable; try again later.",
            )
            .with_cause(format!("Redis at {}: {why}", self.inner.shown))),
        }
    }

    /// Asks Redis directly (for tests and health checks): the remaining lifetime of a
    /// recorded proof in milliseconds, `None` when it is not recorded.
    pub async fn ttl_ms(&self, jkt: &str, jti: &str) -> std::result::Result<Option<u64>, String> {
        let inner = self.inner.clone();
        let name = format!(
            "{}{}",
            inner.prefix,
            hex(&super::replay::replay_key(jkt, jti))
        );
        crate::runtime::spawn(async move {
            let work = async {
                let mut con = inner.connection().await?;
                let ttl: i64 = redis::cmd("PTTL")
                    .arg(&name)
                    .query_async(&mut con)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(u64::try_from(ttl).ok())
            };
            tokio::time::timeout(inner.timeout, work)
                .await
                .unwrap_or_else(|_| Err("no answer in time".into()))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
    }
}

impl Inner {
    async fn set_nx(&self, name: String, ttl_ms: u64) -> std::result::Result<bool, String> {
        let work = async {
            let mut con = self.connection().await?;
            let reply: Option<String> = redis::cmd("SET")
                .arg(&name)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut con)
                .await
                .map_err(|e| e.to_string())?;
            Ok(reply.is_some())
        };
        let r = match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
        };
        if r.is_err() {
            // A connection that failed once is not trusted again; the next call reconnects.
            *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        r
    }

    async fn connection(&self) -> std::result::Result<MultiplexedConnection, String> {
        let pid = std::process::id();
        if let Some((p, c)) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *p == pid {
                return Ok(c.clone());
            }
        }
        if let Some(at) = *self.retry_at.lock().unwrap_or_else(|p| p.into_inner()) {
            if Instant::now() < at {
                return Err(format!(
                    "the last connection attempt failed less than {} ms ago",
                    RETRY_AFTER.as_millis()
                ));
            }
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => {
                *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some((pid, c.clone()));
                Ok(c)
            }
            Err(e) => {
                *self.retry_at.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + RETRY_AFTER);
                Err(format!("cannot connect: {e}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_never_shown() {
        for bad in ["http://127.0.0.1:6379", "redis//x", "", "memory"] {
            assert!(
                RedisStore::new(bad, "p:", DEFAULT_TIMEOUT, false).is_err(),
                "{bad}"
            );
        }
        let e = RedisStore::new("http://:hunter2@h/", "p:", DEFAULT_TIMEOUT, false).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let ok = RedisStore::new(
            "redis://:hunter2@127.0.0.1:1/0",
            "p:",
            DEFAULT_TIMEOUT,
            false,
        )
        .unwrap();
        assert!(!format!("{ok:?}").contains("hunter2"));
        assert_eq!(hex(&[0xab; 32]).len(), 64);
    }
}
