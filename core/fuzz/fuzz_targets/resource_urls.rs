#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_auth_core::metadata::{discovery_urls, well_known_url, AuthServerType};
use mcp_auth_core::resource::{resource_metadata_path, resource_metadata_url, RESOURCE_METADATA_BASE_PATH};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(url) = resource_metadata_url(&s) {
        let path = resource_metadata_path(&s).unwrap();
        assert!(path.starts_with(RESOURCE_METADATA_BASE_PATH));
        assert!(url.contains(RESOURCE_METADATA_BASE_PATH));
        assert!(!url.contains('#'));
    }
    if let Ok(u) = well_known_url(&s, AuthServerType::OAuth) {
        assert!(u.contains("/.well-known/oauth-authorization-server"));
        assert!(discovery_urls(&s).unwrap().len() >= 2);
    }
});
