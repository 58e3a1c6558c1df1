//! Durations from configuration: every one the core accepts can be added to a clock reading,
//! so no configured value can make a later request panic (or, in Node, abort the process).

use std::time::Duration;

use crate::error::{Error, Result};

/// Configuration error code for a duration that cannot be honoured.
pub const INVALID_DURATION: &str = "invalid_duration";

/// The longest configurable duration: ten years. Caches, cooldowns and timeouts beyond it are
/// mistakes (a unit mix-up, say), and clock arithmetic stays far from overflow.
pub const MAX: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::config(INVALID_DURATION, message)
}

/// A duration of `seconds` for the option `what`: finite, not negative, at most [`MAX`].
pub fn from_secs(what: &str, seconds: f64) -> Result<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(invalid(format!(
            "`{what}` must be a finite, non-negative number of seconds, not {seconds}."
        )));
    }
    if seconds > MAX.as_secs_f64() {
        return Err(invalid(format!(
            "`{what}` is {seconds} seconds, more than the {} seconds (ten years) allowed.",
            MAX.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// [`from_secs`] for a value in milliseconds.
pub fn from_millis(what: &str, millis: f64) -> Result<Duration> {
    if !millis.is_finite() || millis < 0.0 {
        return Err(invalid(format!(
            "`{what}` must be a finite, non-negative number of milliseconds, not {millis}."
        )));
    }
    from_secs(what, millis / 1000.0).map_err(|_| {
        invalid(format!(
            "`{what}` is {millis} milliseconds, more than the {} milliseconds (ten years) allowed.",
            MAX.as_millis()
        ))
    })
}

/// Refuses a duration built elsewhere that exceeds [`MAX`].
pub fn check(what: &str, d: Duration) -> Result<()> {
    if d > MAX {
        return Err(invalid(format!(
            "`{what}` is {} seconds, more than the {} seconds (ten years) allowed.",
            d.as_secs(),
            MAX.as_secs()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usable_durations_pass() {
        assert_eq!(from_secs("x", 1.5).unwrap(), Duration::from_millis(1500));
        assert_eq!(from_millis("x", 30_000.0).unwrap(), Duration::from_secs(30));
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1e19, 1e300] {
            assert_eq!(from_secs("x", bad).unwrap_err().code(), INVALID_DURATION);
        }
        assert!(from_millis("x", 1e30).is_err());
        assert!(check("x", Duration::MAX).is_err());
        assert!(std::time::Instant::now().checked_add(MAX).is_some());
    }
}
