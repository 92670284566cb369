//! One JSON document in the reference page's layout, streamed: the header fields, then one
//! array per data type with a row per line, so a document of any size is never held whole.
//!
//! ```text
//! {
//!   "export_id": "exp_abc123",
//!   "generated_at": "2025-01-15T10:30:00Z",
//!   "user": {"user_id":"user_123","email":"user@example.com",…},
//!   "pageviews": [
//!     {"timestamp":"2025-01-14T15:30:00Z","url":"/products/widget",…},
//!     {"timestamp":"2025-01-14T15:32:00Z","url":"/checkout",…}
//!   ],
//!   "events": [],
//!   "sessions": [ … ]
//! }
//! ```

use std::io::{self, Write};

use serde::Serialize;

use crate::rows::JsonRow;

/// A document being written. Call [`JsonDocument::array`] once per data type, then
/// [`JsonDocument::finish`].
pub struct JsonDocument<W: Write> {
    out: W,
}

impl<W: Write> JsonDocument<W> {
    /// Writes `export_id`, `generated_at` and, when given, `user` (`null` for an anonymous
    /// visitor when the profile was asked for).
    pub fn begin<U: Serialize>(
        mut out: W,
        export_id: &str,
        generated_at: &str,
        user: Option<Option<U>>,
    ) -> io::Result<Self> {
        out.write_all(b"{\n  \"export_id\": ")?;
        serde_json::to_writer(&mut out, export_id)?;
        out.write_all(b",\n  \"generated_at\": ")?;
        serde_json::to_writer(&mut out, generated_at)?;
        if let Some(user) = user {
            out.write_all(b",\n  \"user\": ")?;
            serde_json::to_writer(&mut out, &user)?;
        }
        Ok(JsonDocument { out })
    }

    /// Writes `"key": [ rows… ]`; returns how many rows.
    pub fn array<R: JsonRow>(
        &mut self,
        key: &str,
        rows: impl Iterator<Item = io::Result<R>>,
    ) -> io::Result<u64> {
        self.out.write_all(b",\n  ")?;
        serde_json::to_writer(&mut self.out, key)?;
        self.out.write_all(b": [")?;
        let mut count = 0u64;
        for row in rows {
            let row = row?;
            self.out
                .write_all(if count == 0 { b"\n    " } else { b",\n    " })?;
            row.write_json(&mut self.out)?;
            count += 1;
        }
        self.out
            .write_all(if count == 0 { b"]" } else { b"\n  ]" })?;
        Ok(count)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n}\n")?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_valid_json_with_rows_one_per_line() {
        let mut doc = JsonDocument::begin(
            Vec::new(),
            "exp_1",
            "2025-01-15T10:30:00Z",
            Some(None::<u8>),
        )
        .unwrap();
        doc.array(
            "pageviews",
            [Ok(serde_json::json!(1)), Ok(serde_json::json!(2))].into_iter(),
        )
        .unwrap();
        doc.array(
            "events",
            std::iter::empty::<io::Result<serde_json::Value>>(),
        )
        .unwrap();
        let bytes = doc.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "{\n  \"export_id\": \"exp_1\",\n  \"generated_at\": \"2025-01-15T10:30:00Z\",\n  \"user\": null,\n  \"pageviews\": [\n    1,\n    2\n  ],\n  \"events\": []\n}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["pageviews"], serde_json::json!([1, 2]));
    }
}
