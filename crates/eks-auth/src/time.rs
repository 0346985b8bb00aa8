//! Pure: the one way times are written for people and for Kubernetes.

use std::time::SystemTime;

/// RFC 3339 in UTC with `Z` and whole seconds (fractions are cut, never rounded up), as
/// Kubernetes writes `metav1.Time`. Times outside what jiff represents (before -9999 or after
/// 9999) are clamped.
pub fn rfc3339(time: SystemTime) -> String {
    let timestamp = jiff::Timestamp::try_from(time).unwrap_or_else(|_| {
        if time < SystemTime::UNIX_EPOCH {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        }
    });
    timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rfc3339_is_utc_whole_seconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_682_640_840_999);
        assert_eq!(rfc3339(t), "2023-04-28T00:14:00Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
