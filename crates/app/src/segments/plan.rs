//! Which stretches of an export's window ready segments cover, and which must be read live.

use ferry_domain::bulk::SegmentRecord;
use ferry_store::Window;

/// One stretch of a data type's rows, in export order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stretch {
    /// A ready segment that holds rows.
    Segment(SegmentRecord),
    /// Rows to read from the store.
    Live(Window),
}

/// Tiles `window` with the `usable` ready segments (by start; one that overlaps an earlier
/// one is skipped) and live stretches between them. Segments without rows cover their day
/// without a stretch of their own.
pub fn stretches(
    records: &[SegmentRecord],
    window: Window,
    usable: impl Fn(&SegmentRecord) -> bool,
) -> Vec<Stretch> {
    let mut ready: Vec<&SegmentRecord> = records
        .iter()
        .filter(|r| r.ready && usable(r))
        .filter(|r| r.key.window.0 >= window.0 && r.key.window.1 <= window.1)
        .collect();
    ready.sort_by_key(|r| r.key.window);
    let mut out = Vec::new();
    let mut cursor = window.0;
    for record in ready {
        let (start, end) = record.key.window;
        if start < cursor || start >= end {
            continue;
        }
        if start > cursor {
            out.push(Stretch::Live((cursor, start)));
        }
        if record.rows > 0 {
            out.push(Stretch::Segment(record.clone()));
        }
        cursor = end;
    }
    if cursor < window.1 {
        out.push(Stretch::Live((cursor, window.1)));
    }
    out
}

/// The live stretches alone: what segments do not cover.
pub fn gaps(stretches: &[Stretch]) -> Vec<Window> {
    stretches
        .iter()
        .filter_map(|s| match s {
            Stretch::Live(w) => Some(*w),
            Stretch::Segment(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_domain::bulk::SegmentKey;

    fn record(id: i64, window: Window, rows: u64, ready: bool) -> SegmentRecord {
        SegmentRecord {
            id,
            key: SegmentKey {
                data_type: "pageviews".into(),
                format: "csv".into(),
                layout: "1".into(),
                window,
            },
            ready,
            rows,
            raw_bytes: 0,
            stored_bytes: 0,
            event_keys: Vec::new(),
            created_at: 0,
        }
    }

    #[test]
    fn segments_tile_the_window_with_live_stretches_between() {
        let records = vec![
            record(2, (20, 30), 5, true),
            record(1, (10, 20), 5, true),
            // Overlaps segment 2 (another time zone's day): skipped.
            record(3, (25, 35), 5, true),
            // Still building: read live.
            record(4, (40, 50), 5, false),
            // Ready without rows: covers its day, nothing to read.
            record(5, (50, 60), 0, true),
            // Outside the window.
            record(6, (90, 100), 5, true),
        ];
        let plan = stretches(&records, (0, 80), |_| true);
        assert_eq!(
            plan,
            vec![
                Stretch::Live((0, 10)),
                Stretch::Segment(records[1].clone()),
                Stretch::Segment(records[0].clone()),
                Stretch::Live((30, 50)),
                Stretch::Live((60, 80)),
            ]
        );
        assert_eq!(gaps(&plan), vec![(0, 10), (30, 50), (60, 80)]);
        assert_eq!(
            stretches(&records, (0, 80), |r| r.id != 1),
            vec![
                Stretch::Live((0, 20)),
                Stretch::Segment(records[0].clone()),
                Stretch::Live((30, 50)),
                Stretch::Live((60, 80)),
            ]
        );
        assert_eq!(
            stretches(&[], (0, 80), |_| true),
            vec![Stretch::Live((0, 80))]
        );
    }
}
