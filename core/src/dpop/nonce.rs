//! Server-provided DPoP nonces (RFC 9449 §8, §9), stateless: a nonce is the time it was made,
//! sealed with AES-256-GCM under a key derived from the server's secret. Any replica that
//! shares the secret opens any replica's nonce, and nothing is stored.
//!
//! Format (base64url without padding, 50 characters): `0x01 || iv (12) || ciphertext of the
//! issue time as 8 big-endian bytes (seconds since the epoch) || tag (16)`. The key is
//! HKDF-SHA256(salt = "mcp-auth dpop nonce", ikm = secret, info = "aes-256-gcm"), 32 bytes;
//! the additional data is "mcp-auth dpop nonce" followed by the version byte.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Shortest secret accepted: 32 bytes, as many as the key it is stretched into.
pub const MIN_SECRET_BYTES: usize = 32;

const VERSION: u8 = 1;
const LABEL: &[u8] = b"mcp-auth dpop nonce";
const TAG_LEN: usize = 16;
const SEALED_LEN: usize = 1 + NONCE_LEN + 8 + TAG_LEN;
/// Length of a nonce as sent.
pub const NONCE_CHARS: usize = (SEALED_LEN * 8).div_ceil(6);

struct KeyLen;
impl KeyType for KeyLen {
    fn len(&self) -> usize {
        32
    }
}

/// Why a proof's nonce is not one to accept now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceProblem {
    /// Not made by a server holding this secret (or damaged).
    Unknown,
    /// Older than the window.
    Expired,
    /// Made later than now, beyond the leeway.
    Future,
}

impl NonceProblem {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NonceProblem::Unknown => "the proof's `nonce` was not issued by this server",
            NonceProblem::Expired => "the proof's `nonce` has expired",
            NonceProblem::Future => "the proof's `nonce` was issued in the future",
        }
    }
}

/// The sealing key and how long a nonce stays valid.
pub(crate) struct NonceKey {
    key: LessSafeKey,
    window: f64,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

fn aad() -> [u8; LABEL.len() + 1] {
    let mut a = [0u8; LABEL.len() + 1];
    a[..LABEL.len()].copy_from_slice(LABEL);
    a[LABEL.len()] = VERSION;
    a
}

impl NonceKey {
    pub(crate) fn new(secret: &[u8], window: f64) -> Result<NonceKey, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the nonce secret must be at least {MIN_SECRET_BYTES} bytes (got {})",
                secret.len()
            ));
        }
        let mut raw = [0u8; 32];
        Salt::new(HKDF_SHA256, LABEL)
            .extract(secret)
            .expand(&[b"aes-256-gcm"], KeyLen)
            .and_then(|okm| okm.fill(&mut raw))
            .map_err(|_| "the nonce key could not be derived".to_string())?;
        let key = UnboundKey::new(&AES_256_GCM, &raw)
            .map_err(|_| "the nonce key could not be made".to_string())?;
        Ok(NonceKey {
            key: LessSafeKey::new(key),
            window,
        })
    }

    /// A fresh nonce for `now` (a random IV each time, so no two nonces share one).
    pub(crate) fn mint(&self, now: f64) -> String {
        let mut iv = [0u8; NONCE_LEN];
        if aws_lc_rs::rand::fill(&mut iv).is_err() {
            // No randomness: send nothing a client could use; every proof then asks again.
            return String::new();
        }
        let secs = now.max(0.0).floor() as u64;
        let mut sealed = Vec::with_capacity(SEALED_LEN);
        sealed.push(VERSION);
        sealed.extend_from_slice(&iv);
        let mut body = secs.to_be_bytes().to_vec();
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(aad()),
                &mut body,
            )
            .is_err()
        {
            return String::new();
        }
        sealed.extend_from_slice(&body);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// When `nonce` was made, if a server with this secret made it.
    pub(crate) fn issued_at(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != NONCE_CHARS {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        if raw.len() != SEALED_LEN || raw[0] != VERSION {
            return None;
        }
        let iv: [u8; NONCE_LEN] = raw[1..1 + NONCE_LEN].try_into().ok()?;
        let mut body = raw[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(iv),
                Aad::from(aad()),
                &mut body,
            )
            .ok()?;
        Some(u64::from_be_bytes(plain.try_into().ok()?))
    }

    /// Whether `nonce` is one of ours and still valid at `now`.
    pub(crate) fn check(&self, nonce: &str, now: f64, leeway: f64) -> Result<(), NonceProblem> {
        let at = self.issued_at(nonce).ok_or(NonceProblem::Unknown)? as f64;
        if at > now + leeway {
            return Err(NonceProblem::Future);
        }
        if now - at > self.window {
            return Err(NonceProblem::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_across_replicas_and_windows() {
        let secret = [7u8; 32];
        let a = NonceKey::new(&secret, 300.0).unwrap();
        let b = NonceKey::new(&secret, 300.0).unwrap();
        let n = a.mint(1_800_000_000.5);
        assert_eq!(n.len(), NONCE_CHARS);
        assert_ne!(n, a.mint(1_800_000_000.5), "a fresh IV each time");
        assert_eq!(b.issued_at(&n), Some(1_800_000_000));
        assert!(b.check(&n, 1_800_000_300.0, 0.0).is_ok());
        assert_eq!(
            b.check(&n, 1_800_000_301.0, 0.0),
            Err(NonceProblem::Expired)
        );
        assert_eq!(b.check(&n, 1_799_999_990.0, 5.0), Err(NonceProblem::Future));
        let other = NonceKey::new(&[8u8; 32], 300.0).unwrap();
        assert_eq!(
            other.check(&n, 1_800_000_000.0, 0.0),
            Err(NonceProblem::Unknown)
        );
        let mut flipped = n.into_bytes();
        flipped[20] = if flipped[20] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(a.issued_at(&flipped), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(NonceKey::new(&[1u8; 31], 300.0)
            .unwrap_err()
            .contains("at least 32 bytes"));
    }
}
