//! Small conversions between SQLite values and domain types.

use chrono::{DateTime, TimeZone, Utc};
use ferry_domain::Millis;

pub(crate) fn time(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

pub(crate) fn opt_time(ms: Option<Millis>) -> Option<DateTime<Utc>> {
    ms.map(time)
}

pub(crate) fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}
