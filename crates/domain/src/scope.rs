//! What an API key may do. A key carries a set of scopes; `admin` implies every other one.
//!
//! Data-subject requests have scopes of their own (`requests:read`, `requests:write`): they
//! hold people's email addresses and what they asked, which a key made for analytics or
//! exports has no reason to see.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
    #[serde(rename = "exports:read")]
    ExportsRead,
    #[serde(rename = "exports:write")]
    ExportsWrite,
    #[serde(rename = "ingest")]
    Ingest,
    #[serde(rename = "requests:read")]
    RequestsRead,
    #[serde(rename = "requests:write")]
    RequestsWrite,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::AnalyticsRead,
        Scope::ExportsRead,
        Scope::ExportsWrite,
        Scope::Ingest,
        Scope::RequestsRead,
        Scope::RequestsWrite,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AnalyticsRead => "analytics:read",
            Scope::ExportsRead => "exports:read",
            Scope::ExportsWrite => "exports:write",
            Scope::Ingest => "ingest",
            Scope::RequestsRead => "requests:read",
            Scope::RequestsWrite => "requests:write",
            Scope::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown scope `{s}`: use any of analytics:read, exports:read, exports:write, ingest, requests:read, requests:write, admin"
                )
            })
    }
}

/// A key's scopes, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort();
        scopes.dedup();
        Scopes(scopes)
    }

    pub fn all() -> Self {
        Scopes::new(Scope::ALL.to_vec())
    }

    /// Parses a comma-separated list such as `analytics:read,ingest`.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let scopes = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Scope>, _>>()?;
        if scopes.is_empty() {
            return Err("a key needs at least one scope".into());
        }
        Ok(Scopes::new(scopes))
    }

    pub fn allows(&self, wanted: Scope) -> bool {
        self.0.iter().any(|s| *s == wanted || *s == Scope::Admin)
    }

    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin = Scopes::parse_list("admin").unwrap();
        assert!(Scope::ALL.iter().all(|s| admin.allows(*s)));
        let read = Scopes::parse_list("analytics:read, ingest").unwrap();
        assert!(read.allows(Scope::Ingest));
        assert!(!read.allows(Scope::ExportsWrite));
        assert_eq!(read.to_list(), "analytics:read,ingest");
    }

    #[test]
    fn unknown_or_empty_scope_lists_are_refused() {
        assert!(Scopes::parse_list("analytics:write").is_err());
        assert!(Scopes::parse_list(" , ").is_err());
    }
}
