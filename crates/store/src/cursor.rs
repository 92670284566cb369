//! Pagination cursors: opaque to clients (base64url of a small text), checked on the way back in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;

pub fn encode(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// Decodes a cursor and checks it starts with `tag:`, returning the rest.
pub fn decode(cursor: &str, tag: &str) -> Result<String, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    text.strip_prefix(tag)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::to_string)
        .ok_or(StoreError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursors_round_trip_and_reject_other_tags() {
        let c = super::encode("pages:12:/a,b");
        assert_eq!(super::decode(&c, "pages").unwrap(), "12:/a,b");
        assert!(super::decode(&c, "visitors").is_err());
        assert!(super::decode("%%%", "pages").is_err());
    }
}
