//! Process-wide state: the tokio runtime, the HTTP client and the caches.
//!
//! All of it is rebuilt when the process id changes, because a child of `fork()` (gunicorn,
//! uWSGI, multiprocessing) inherits the parent's memory but none of its threads: the parent's
//! runtime workers, connection pools and any lock held mid-fetch would be dead in the child.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use crate::jwks::JwksCache;
use crate::metadata::cache::MetadataCache;

pub struct Globals {
    pub runtime: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    /// For requests carrying client credentials (introspection): no redirects.
    pub http_no_redirects: reqwest::Client,
    pub jwks: JwksCache,
    pub metadata: MetadataCache,
}

struct Slot {
    pid: u32,
    globals: Arc<Globals>,
}

static SLOT: OnceLock<Mutex<Option<Slot>>> = OnceLock::new();

fn build() -> Globals {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mcp-auth")
        .enable_all()
        .build()
        .expect("cannot start the mcp-auth tokio runtime");
    Globals {
        runtime,
        http: crate::http::build_client(),
        http_no_redirects: crate::http::build_client_no_redirects(),
        jwks: JwksCache::default(),
        metadata: MetadataCache::default(),
    }
}

/// The globals of this process, created on first use and again after a fork.
pub fn globals() -> Arc<Globals> {
    let pid = std::process::id();
    let slot = SLOT.get_or_init(|| Mutex::new(None));
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref() {
        Some(s) if s.pid == pid => s.globals.clone(),
        _ => {
            if let Some(old) = guard.take() {
                // The parent's runtime has no threads here; dropping it would wait for them.
                std::mem::forget(old);
            }
            let g = Arc::new(build());
            *guard = Some(Slot {
                pid,
                globals: g.clone(),
            });
            g
        }
    }
}

/// Forgets every cached key set and discovered metadata of this process (tests; multi-tenant
/// processes that reconfigure): the next verification fetches afresh.
pub fn clear_caches() {
    let g = globals();
    g.jwks.clear();
    g.metadata.clear();
}

/// Runs `fut` on the shared runtime and waits for it (for synchronous host APIs).
/// Must not be called from a thread of that runtime.
pub fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let g = globals();
    if tokio::runtime::Handle::try_current().is_ok() {
        // Inside some runtime (a host that embeds tokio): run on ours from a helper thread.
        let handle = g.runtime.handle().clone();
        return std::thread::scope(|s| {
            s.spawn(move || handle.block_on(fut))
                .join()
                .expect("mcp-auth blocking task panicked")
        });
    }
    g.runtime.block_on(fut)
}

/// Spawns `fut` on the shared runtime; the handle resolves when it finishes.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    globals().runtime.spawn(fut)
}
