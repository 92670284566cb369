//! A tracked website, and the checks applied before one is created.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Website {
    /// Public id, e.g. `web_5f0c2a9e81d4b7c3a1e2`, used in every URL and ingest line.
    pub id: String,
    pub domain: String,
    /// IANA zone; `from`/`to` dates and the per-day series are days in this zone.
    pub timezone: Tz,
    /// Days to keep raw data; `None` keeps it until deleted.
    pub retention_days: Option<u32>,
    pub created_at: DateTime<Utc>,
}

/// How a website's public identify endpoint tells its own backend's calls from anyone's.
/// The secret never leaves Ferry after it is shown at creation or rotation.
#[derive(Clone, PartialEq)]
pub struct IdentifyPolicy {
    /// The key of `user_hash = HMAC-SHA256(secret, user_id)`, e.g. `fis_…`.
    pub secret: String,
    /// Whether unsigned identify calls are taken too (marked `unsigned_identify`).
    pub allow_unsigned: bool,
    pub rotated_at: DateTime<Utc>,
}

impl std::fmt::Debug for IdentifyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifyPolicy")
            .field("secret", &"<redacted>")
            .field("allow_unsigned", &self.allow_unsigned)
            .field("rotated_at", &self.rotated_at)
            .finish()
    }
}

/// What a caller asks for when creating a website, as it arrives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebsite {
    pub domain: String,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// A [`NewWebsite`] that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidWebsite {
    pub domain: String,
    pub timezone: Tz,
    pub retention_days: Option<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebsiteError {
    #[error(
        "`{0}` is not a domain name: give a host such as shop.example.com, without scheme or path"
    )]
    BadDomain(String),
    #[error("`{0}` is not an IANA time zone: use a name such as Europe/Berlin or UTC")]
    BadTimezone(String),
    #[error("retention_days must be between 1 and 36500, or left out to keep data until deleted")]
    BadRetention,
}

impl NewWebsite {
    pub fn validate(self) -> Result<ValidWebsite, WebsiteError> {
        let domain = self
            .domain
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !is_domain(&domain) {
            return Err(WebsiteError::BadDomain(self.domain));
        }
        let timezone = match self.timezone.as_deref() {
            None => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| WebsiteError::BadTimezone(name.to_string()))?,
        };
        if matches!(self.retention_days, Some(d) if d == 0 || d > 36_500) {
            return Err(WebsiteError::BadRetention);
        }
        Ok(ValidWebsite {
            domain,
            timezone,
            retention_days: self.retention_days,
        })
    }
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(domain: &str, tz: Option<&str>) -> NewWebsite {
        NewWebsite {
            domain: domain.into(),
            timezone: tz.map(Into::into),
            retention_days: None,
        }
    }

    #[test]
    fn domains_are_normalised_and_checked() {
        let ok = new("Shop.Example.COM.", Some("Europe/Berlin"))
            .validate()
            .unwrap();
        assert_eq!(ok.domain, "shop.example.com");
        assert_eq!(ok.timezone, Tz::Europe__Berlin);
        assert!(new("https://x.com/", None).validate().is_err());
        assert!(new("a..b", None).validate().is_err());
        assert_eq!(
            new("x.com", Some("Mars/Base")).validate(),
            Err(WebsiteError::BadTimezone("Mars/Base".into()))
        );
    }
}
