//! What a tracker hit says about its visitor: device and browser from the User-Agent (woothee),
//! country from a trusted proxy header or a MaxMind-format database. The client address is used
//! for the lookup and then dropped: it is never stored or logged.

use std::net::IpAddr;
use std::path::Path;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderName, header};

use crate::config::ServeArgs;

pub struct Enricher {
    geo: Option<maxminddb::Reader<Vec<u8>>>,
    country_header: Option<HeaderName>,
    client_ip_header: Option<HeaderName>,
}

/// What Ferry records about the client of one hit.
#[derive(Debug, Default, PartialEq)]
pub struct ClientInfo {
    pub device: Option<String>,
    pub browser: Option<String>,
    pub country: Option<String>,
    /// Crawlers and monitors: their hits are acknowledged and not stored.
    pub is_bot: bool,
}

impl Enricher {
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<Self> {
        let header = |name: &Option<String>| -> anyhow::Result<Option<HeaderName>> {
            name.as_deref()
                .map(|n| {
                    HeaderName::try_from(n.trim())
                        .with_context(|| format!("`{n}` is not a header name"))
                })
                .transpose()
        };
        Ok(Enricher {
            geo: args.geoip_db.as_deref().map(open_geo).transpose()?,
            country_header: header(&args.country_header)?,
            client_ip_header: header(&args.client_ip_header)?,
        })
    }

    pub fn describe(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> ClientInfo {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (device, browser, is_bot) = user_agent(ua);
        ClientInfo {
            device,
            browser,
            country: self.country(headers, peer),
            is_bot,
        }
    }

    fn country(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<String> {
        if let Some(name) = &self.country_header {
            let code = headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim);
            if let Some(code) =
                code.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            {
                return Some(code.to_ascii_uppercase());
            }
        }
        let geo = self.geo.as_ref()?;
        let ip = self.client_ip(headers, peer)?;
        let found: maxminddb::geoip2::Country = geo.lookup(ip).ok()??;
        found.country?.iso_code.map(str::to_string)
    }
}

impl Enricher {
    /// The client's address: the trusted proxy header's first address when one is
    /// configured, else the socket's peer. Used, never stored or logged.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        match &self.client_ip_header {
            Some(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok()),
            None => peer,
        }
    }
}

fn open_geo(path: &Path) -> anyhow::Result<maxminddb::Reader<Vec<u8>>> {
    maxminddb::Reader::open_readfile(path)
        .with_context(|| format!("cannot read the GeoIP database {}", path.display()))
}

/// (device, browser, is_bot) from a User-Agent string.
pub fn user_agent(ua: &str) -> (Option<String>, Option<String>, bool) {
    let Some(parsed) = woothee::parser::Parser::new().parse(ua) else {
        return (None, None, false);
    };
    let device = match (parsed.category, parsed.os) {
        ("crawler", _) => return (None, None, true),
        (_, "iPad") => "tablet",
        (_, "Android") if !ua.contains("Mobile") => "tablet",
        ("pc", _) => "desktop",
        ("smartphone" | "mobilephone", _) => "mobile",
        _ => "other",
    };
    let browser = match parsed.name {
        "UNKNOWN" | "" => None,
        name => Some(name.to_string()),
    };
    (Some(device.to_string()), browser, false)
}

#[cfg(test)]
mod tests {
    use super::user_agent;

    #[test]
    fn common_user_agents_map_to_device_and_browser() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(
            user_agent(chrome),
            (Some("desktop".into()), Some("Chrome".into()), false)
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(
            user_agent(iphone),
            (Some("mobile".into()), Some("Safari".into()), false)
        );
        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert!(user_agent(bot).2);
    }
}
