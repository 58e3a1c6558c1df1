//! Bounded HTTP exchanges: every call has a timeout and a size cap. Metadata fetches follow at
//! most a few redirects, all within the origin first asked (so no scheme downgrade, and no
//! configured header reaches another host); key sets and introspection follow none.

use std::time::Duration;

use serde_json::Value;

pub const USER_AGENT: &str = concat!("mcp-auth/", env!("CARGO_PKG_VERSION"));
const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Follows same-origin redirects only.
pub fn build_client() -> reqwest::Client {
    client_with(reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match first {
            Some(first) if same_origin(&first, attempt.url()) => attempt.follow(),
            _ => {
                let to = attempt.url().origin().ascii_serialization();
                attempt.error(format!(
                    "redirected to another origin ({to}), which is not followed"
                ))
            }
        }
    }))
}

fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A client that never follows redirects: key sets (as jose fetches them) and requests that
/// carry credentials.
pub fn build_client_no_redirects() -> reqwest::Client {
    client_with(reqwest::redirect::Policy::none())
}

fn client_with(redirect: reqwest::redirect::Policy) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(redirect)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("cannot build the mcp-auth HTTP client")
}

/// A fetched JSON document with the response's `Cache-Control: max-age`, if any.
#[derive(Debug)]
pub struct JsonResponse {
    pub body: Value,
    pub max_age: Option<Duration>,
}

/// Why a fetch failed, worded for the end of "Failed to fetch ... from <url>: ".
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    Status(u16, String),
    Timeout(Duration),
    TooLarge(usize),
    InvalidJson(String),
    Network(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Status(code, reason) => write!(f, "{code} {reason}"),
            FetchError::Timeout(d) => write!(f, "timed out after {} ms", d.as_millis()),
            FetchError::TooLarge(n) => write!(f, "response larger than {n} bytes"),
            FetchError::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            FetchError::Network(e) => write!(f, "{e}"),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display omits the root cause ("error sending request"); walk the chain.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    v.split(',').find_map(|d| {
        let d = d.trim();
        if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        let (k, v) = d.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        v.trim()
            .trim_matches('"')
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    })
}

/// GET `url` and parse JSON, within `timeout` for the whole exchange and `max_bytes` of body.
///
/// The exchange always runs on the shared runtime, whatever runtime the caller polls from:
/// pooled connections belong to the runtime that opened them.
pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    timeout: Duration,
    max_bytes: usize,
) -> Result<JsonResponse, FetchError> {
    let task = get_json_here(
        client.clone(),
        url.to_string(),
        headers.to_vec(),
        timeout,
        max_bytes,
    );
    on_shared_runtime(task).await
}

async fn on_shared_runtime(
    work: impl std::future::Future<Output = Result<JsonResponse, FetchError>> + Send + 'static,
) -> Result<JsonResponse, FetchError> {
    crate::runtime::spawn(work)
        .await
        .unwrap_or_else(|e| Err(FetchError::Network(format!("the fetch task failed: {e}"))))
}

async fn get_json_here(
    client: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    max_bytes: usize,
) -> Result<JsonResponse, FetchError> {
    let mut req = client.get(&url);
    req = with_headers(req, &headers);
    bounded(send_for_json(req, max_bytes), timeout).await
}

/// POST `form` (already `application/x-www-form-urlencoded`) to `url` and parse the JSON answer,
/// with the same bounds as [`get_json`]. Give it a client that follows no redirects: a redirected
/// POST would carry credentials to wherever the redirect points.
pub async fn post_form_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    form: String,
    timeout: Duration,
    max_bytes: usize,
) -> Result<JsonResponse, FetchError> {
    let client = client.clone();
    let url = url.to_string();
    let headers = headers.to_vec();
    let task = crate::runtime::spawn(async move {
        let req = client
            .post(&url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form);
        bounded(
            send_for_json(with_headers(req, &headers), max_bytes),
            timeout,
        )
        .await
    });
    task.await
        .unwrap_or_else(|e| Err(FetchError::Network(format!("the fetch task failed: {e}"))))
}

fn with_headers(
    mut req: reqwest::RequestBuilder,
    headers: &[(String, String)],
) -> reqwest::RequestBuilder {
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
    {
        req = req.header(reqwest::header::ACCEPT, "application/json");
    }
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req
}

async fn bounded(
    work: impl std::future::Future<Output = Result<JsonResponse, FetchError>>,
    timeout: Duration,
) -> Result<JsonResponse, FetchError> {
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout(timeout)),
    }
}

async fn send_for_json(
    req: reqwest::RequestBuilder,
    max_bytes: usize,
) -> Result<JsonResponse, FetchError> {
    let mut resp = req
        .send()
        .await
        .map_err(|e| FetchError::Network(describe(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Status(
            status.as_u16(),
            status.canonical_reason().unwrap_or("").to_string(),
        ));
    }
    if resp
        .content_length()
        .is_some_and(|n| n as usize > max_bytes)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let age = max_age(resp.headers());
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| FetchError::Network(describe(&e)))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Value =
        serde_json::from_slice(&body).map_err(|e| FetchError::InvalidJson(e.to_string()))?;
    Ok(JsonResponse { body, max_age: age })
}
