//! How many rows an export will write, for its percent and ETA: segments know their rows, so
//! only the days they do not cover are counted in the store.

use std::collections::HashMap;

use ferry_domain::bulk::BulkCounts;
use ferry_domain::export::DataType;
use ferry_export::bulk::segment::LAYOUT;
use ferry_store::{Store, StoreError, Window};

use super::plan::{Stretch, stretches};

/// The rows an export of `types` over `window` writes (`segments`: whether it uses them).
pub async fn expected_rows(
    store: &dyn Store,
    website: &str,
    window: Window,
    types: &[DataType],
    segments: bool,
) -> Result<u64, StoreError> {
    let people = types
        .iter()
        .any(|t| matches!(t, DataType::Sessions | DataType::Visitors));
    if !segments || people {
        return Ok(store.bulk_counts(website, window).await?.total(types));
    }
    let records = store.segments(website, window).await?;
    let mut counted: HashMap<Window, BulkCounts> = HashMap::new();
    let mut total = 0;
    for (data_type, name) in [
        (DataType::Pageviews, "pageviews"),
        (DataType::Events, "events"),
    ] {
        if !types.contains(&data_type) {
            continue;
        }
        let plan = stretches(&records, window, |r| {
            r.key.data_type == name && r.key.format == "csv" && r.key.layout == LAYOUT
        });
        for stretch in plan {
            total += match stretch {
                Stretch::Segment(r) => r.rows,
                Stretch::Live(gap) => {
                    let counts = match counted.get(&gap) {
                        Some(c) => *c,
                        None => {
                            let c = store.bulk_counts(website, gap).await?;
                            counted.insert(gap, c);
                            c
                        }
                    };
                    counts.total(&[data_type])
                }
            };
        }
    }
    Ok(total)
}
