//! A website's rows in bulk, as the store hands them to the writers: batches of fixed-size rows
//! whose text lives in one buffer per batch, so a batch of thousands of rows costs two
//! allocations instead of several per row.

use crate::Millis;

/// Rows per batch a bulk stream sends.
pub const BATCH_ROWS: usize = 4_096;

/// Where a text value sits in its batch's buffer; [`Span::NULL`] for a missing value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub const NULL: Span = Span {
        start: 0,
        len: u32::MAX,
    };
}

/// A batch of rows and the text they point into.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch<R> {
    text: String,
    pub rows: Vec<R>,
}

impl<R> Batch<R> {
    pub fn with_capacity(rows: usize) -> Self {
        Batch {
            text: String::with_capacity(rows * 96),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Copies `value` into the batch's buffer.
    pub fn span(&mut self, value: Option<&str>) -> Span {
        match value {
            None => Span::NULL,
            Some(v) => {
                let start = self.text.len() as u32;
                self.text.push_str(v);
                Span {
                    start,
                    len: v.len() as u32,
                }
            }
        }
    }

    pub fn get(&self, span: Span) -> Option<&str> {
        (span.len != u32::MAX)
            .then(|| &self.text[span.start as usize..(span.start + span.len) as usize])
    }

    /// The text of a span that is never null (an empty string if it was).
    pub fn str(&self, span: Span) -> &str {
        self.get(span).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of text held: batches are sent when full by rows or by text.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BulkPageview {
    pub timestamp: Millis,
    pub url: Span,
    pub title: Span,
    pub referrer: Span,
    pub device: Span,
    pub browser: Span,
    pub country: Span,
    pub visitor_id: Span,
    /// The session's public number ([`crate::session::SessionIds`]); written as
    /// `sess_{session}`, as in a person's export.
    pub session: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BulkEvent {
    pub timestamp: Millis,
    pub name: Span,
    /// The properties as stored: one compact JSON object.
    pub properties: Span,
    pub visitor_id: Span,
    pub session: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BulkSession {
    pub session: i64,
    pub visitor_id: Span,
    pub started_at: Millis,
    pub ended_at: Millis,
    pub pages_viewed: u64,
    pub events_triggered: u64,
}

/// Rows of each data type in a bulk export's range, for progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkCounts {
    pub pageviews: u64,
    pub events: u64,
    pub sessions: u64,
    pub visitors: u64,
}

impl BulkCounts {
    /// Rows an export of `types` will write (the summary is not counted).
    pub fn total(&self, types: &[crate::export::DataType]) -> u64 {
        use crate::export::DataType;
        types
            .iter()
            .map(|t| match t {
                DataType::Pageviews => self.pageviews,
                DataType::Events => self.events,
                DataType::Sessions => self.sessions,
                DataType::Visitors => self.visitors,
                DataType::Profile | DataType::Summary => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_give_back_their_text_and_null_stays_null() {
        let mut batch = Batch::<()>::with_capacity(2);
        let a = batch.span(Some("héllo"));
        let none = batch.span(None);
        let empty = batch.span(Some(""));
        assert_eq!(batch.get(a), Some("héllo"));
        assert_eq!(batch.get(none), None);
        assert_eq!(batch.get(empty), Some(""));
        assert_eq!(batch.str(none), "");
    }
}

/// Which segment: a data type's rows of one window (a day), in one format and row layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentKey {
    /// `pageviews` or `events`.
    pub data_type: String,
    /// `csv` or `ndjson`.
    pub format: String,
    pub layout: String,
    pub window: (Millis, Millis),
}

/// An export segment as the store records it: the rows of one closed day, formatted ahead of
/// time into a file named by `id` (see the export crate's `segment` module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecord {
    pub id: i64,
    pub key: SegmentKey,
    /// False while it is being built.
    pub ready: bool,
    pub rows: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
    /// The events CSV's property columns of its day.
    pub event_keys: Vec<String>,
    pub created_at: Millis,
}

/// What a built segment holds, as recorded when it is ready.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentFacts {
    pub rows: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
    pub event_keys: Vec<String>,
}
