//! How far an identify call can be believed: it decides whether the call may change a
//! profile or move a visitor, and it is shown beside every link so that a reviewer sees what a
//! data-subject request would hand out and on whose word.

use serde::{Deserialize, Serialize};

/// Who vouched for an identify line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkTrust {
    /// An API key with the `ingest` scope, `ferry import` or `ferry demo`: the operator.
    #[serde(rename = "keyed_ingest")]
    Keyed,
    /// The public tracker, with a `user_hash` made from the website's identify secret: the
    /// site's own backend vouched for the user id.
    #[serde(rename = "signed_identify")]
    Signed,
    /// The public tracker without a signature, on a website that allows it: anyone could have
    /// sent it.
    #[serde(rename = "unsigned_identify")]
    Unsigned,
}

impl LinkTrust {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkTrust::Keyed => "keyed_ingest",
            LinkTrust::Signed => "signed_identify",
            LinkTrust::Unsigned => "unsigned_identify",
        }
    }

    pub fn parse(s: &str) -> Option<LinkTrust> {
        [LinkTrust::Keyed, LinkTrust::Signed, LinkTrust::Unsigned]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// Whether the call may change what is already known about a person (their email, name,
    /// properties, or which person a visitor belongs to).
    pub fn may_overwrite(self) -> bool {
        self != LinkTrust::Unsigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_trust_reads_back_from_its_name() {
        for t in [LinkTrust::Keyed, LinkTrust::Signed, LinkTrust::Unsigned] {
            assert_eq!(LinkTrust::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::json!(t.as_str())
            );
        }
        assert_eq!(LinkTrust::parse("other"), None);
    }
}
