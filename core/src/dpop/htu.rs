//! The `htu` comparison (RFC 9449 §4.3 step 9): the proof's URL against the request's,
//! without query and fragment, after syntax- and scheme-based normalisation (RFC 3986 §6.2.2,
//! §6.2.3): scheme and host case, default ports, percent-encoding case, percent-encoded
//! unreserved characters, dot segments, an empty path.
//!
//! The request's URL is built from the configured resource identifier's origin and the request
//! path, never from the `Host` header or the server's own view of its address: behind a proxy
//! those name the proxy's upstream, and a client can choose the `Host` it sends.

use url::Url;

use crate::error::Result;

/// Scheme, host and port of the resource identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// A URL reduced to what `htu` compares.
#[derive(Debug, PartialEq, Eq)]
struct Normal {
    scheme: String,
    host: String,
    port: u16,
    path: String,
}

impl Origin {
    /// The origin of an http(s) resource identifier.
    pub(crate) fn of(resource: &str) -> Result<Origin, String> {
        let url = Url::parse(resource).map_err(|e| format!("`resource` is not a URL ({e})"))?;
        let n = normal(&url).ok_or("`resource` is not an http(s) URL with a host")?;
        Ok(Origin {
            scheme: n.scheme,
            host: n.host,
            port: n.port,
        })
    }

    /// `scheme://host[:port]` as a client would write it.
    pub(crate) fn to_url_prefix(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }

    /// Whether `htu` names this origin and `request_path` (its query and fragment ignored).
    pub(crate) fn matches(&self, htu: &str, request_path: &str) -> Result<(), String> {
        let path = request_path.split(['?', '#']).next().unwrap_or_default();
        if !path.starts_with('/') {
            return Err("the request path given to the DPoP check is not absolute".into());
        }
        let expected = Url::parse(&format!("{}{path}", self.to_url_prefix()))
            .ok()
            .and_then(|u| normal(&u))
            .ok_or("the request path does not form a URL with the resource's origin")?;
        let got = Url::parse(htu)
            .ok()
            .filter(|u| u.username().is_empty() && u.password().is_none())
            .and_then(|u| normal(&u))
            .ok_or("the proof's `htu` is not an http(s) URL")?;
        if got != expected {
            return Err(format!(
                "the proof's `htu` is not the request's URL ({}{})",
                self.to_url_prefix(),
                crate::operations::shown(&expected.path)
            ));
        }
        Ok(())
    }
}

/// The compared parts of an http(s) URL. `Url` has already lower-cased the scheme and host,
/// dropped a default port and removed dot segments.
fn normal(url: &Url) -> Option<Normal> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str().filter(|h| !h.is_empty())?.to_string();
    Some(Normal {
        scheme: url.scheme().to_string(),
        host,
        port: url.port_or_known_default()?,
        path: normal_path(url.path()),
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodings of unreserved characters decoded, the others in upper case; an empty
/// path is `/`.
fn normal_path(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = h * 16 + l;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push(b[i + 1].to_ascii_uppercase() as char);
                    out.push(b[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // `Url` only ever gives ASCII paths.
        out.push(b[i] as char);
        i += 1;
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        let o = Origin::of("https://MCP.example.com:443/mcp").unwrap();
        assert_eq!(o.to_url_prefix(), "https://mcp.example.com");
        for ok in [
            "https://mcp.example.com/mcp",
            "HTTPS://MCP.EXAMPLE.COM:443/mcp",
            "https://mcp.example.com/mcp?x=1#f",
            "https://mcp.example.com/%6Dcp",
            "https://mcp.example.com/a/../mcp",
        ] {
            assert!(o.matches(ok, "/mcp").is_ok(), "{ok}");
        }
        for bad in [
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://evil.example.com/mcp",
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/MCP",
            "https://user@mcp.example.com/mcp",
            "mcp.example.com/mcp",
            "ftp://mcp.example.com/mcp",
        ] {
            assert!(o.matches(bad, "/mcp").is_err(), "{bad}");
        }
        assert!(o
            .matches("https://mcp.example.com/a%2fb", "/a%2Fb?q")
            .is_ok());
        assert!(o.matches("https://mcp.example.com/mcp", "mcp").is_err());
        let local = Origin::of("http://127.0.0.1:8080/").unwrap();
        assert!(local.matches("http://127.0.0.1:8080", "/").is_ok());
        assert!(local.matches("http://127.0.0.1/", "/").is_err());
    }

    #[test]
    fn stray_percent_signs_stay() {
        assert_eq!(normal_path("/a%2"), "/a%2");
        assert_eq!(normal_path("/a%zz"), "/a%zz");
        assert_eq!(normal_path("/%7e%2f"), "/~%2F");
        assert_eq!(normal_path(""), "/");
    }
}
