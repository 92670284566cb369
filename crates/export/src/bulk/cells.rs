//! Cell writers for the bulk hot path: straight into a byte buffer, no per-cell allocation.
//! Their output equals the person export's writers (the `csv` crate, serde_json, chrono's
//! RFC 3339) byte for byte; the tests below hold them to that.

use chrono::{DateTime, Datelike};
use ferry_domain::Millis;

use crate::formula;

/// RFC 3339 UTC timestamps with `Z`, milliseconds only when there are any. Rows come in time
/// order, so the date is formatted once per day.
#[derive(Default)]
pub struct Timestamps {
    day: i64,
    date: [u8; 11],
    known: bool,
}

const MS_PER_DAY: i64 = 86_400_000;

impl Timestamps {
    pub fn write(&mut self, ms: Millis, out: &mut Vec<u8>) {
        let day = ms.div_euclid(MS_PER_DAY);
        if !self.known || day != self.day {
            let Some(at) =
                DateTime::from_timestamp_millis(ms).filter(|d| (0..=9999).contains(&d.year()))
            else {
                out.extend_from_slice(crate::rows::timestamp(ms).as_bytes());
                return;
            };
            let text = format!("{:04}-{:02}-{:02}T", at.year(), at.month(), at.day());
            self.date.copy_from_slice(text.as_bytes());
            self.day = day;
            self.known = true;
        }
        let in_day = ms.rem_euclid(MS_PER_DAY);
        let (secs, millis) = (in_day / 1000, in_day % 1000);
        out.extend_from_slice(&self.date);
        two(out, secs / 3600);
        out.push(b':');
        two(out, secs / 60 % 60);
        out.push(b':');
        two(out, secs % 60);
        if millis != 0 {
            out.push(b'.');
            out.push(b'0' + (millis / 100) as u8);
            out.push(b'0' + (millis / 10 % 10) as u8);
            out.push(b'0' + (millis % 10) as u8);
        }
        out.push(b'Z');
    }
}

fn two(out: &mut Vec<u8>, n: i64) {
    out.push(b'0' + (n / 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

pub fn integer(out: &mut Vec<u8>, n: impl itoa_like::Integer) {
    n.append_to(out);
}

/// Decimal integers without going through `fmt`.
pub mod itoa_like {
    pub trait Integer {
        fn append_to(self, out: &mut Vec<u8>);
    }

    impl Integer for u64 {
        fn append_to(self, out: &mut Vec<u8>) {
            let mut buf = [0u8; 20];
            let mut i = buf.len();
            let mut n = self;
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            out.extend_from_slice(&buf[i..]);
        }
    }

    impl Integer for i64 {
        fn append_to(self, out: &mut Vec<u8>) {
            if self < 0 {
                out.push(b'-');
            }
            self.unsigned_abs().append_to(out);
        }
    }
}

/// Bytes that make a CSV cell need quotes.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b',' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\r' as usize] = true;
    table[b'\n' as usize] = true;
    table
};

/// A CSV text cell: `'`-prefixed when a spreadsheet would run it as a formula (and
/// `neutralise` is on; [`crate::formula`]), quoted when it holds a comma, quote or line break.
pub fn csv_text(out: &mut Vec<u8>, cell: &str, neutralise: bool) {
    let risky = neutralise && formula::is_formula(cell);
    let needs_quotes = cell.bytes().any(|b| SPECIAL[b as usize]);
    if needs_quotes {
        out.push(b'"');
    }
    if risky {
        out.push(formula::PREFIX as u8);
    }
    if needs_quotes {
        for part in cell.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// A JSON string (or `null`), escaped as serde_json escapes.
pub fn json_text(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.extend_from_slice(b"null"),
        Some(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

/// A CSV cell for one event property value, as the person export writes it.
pub fn csv_value(out: &mut Vec<u8>, value: Option<&serde_json::Value>, neutralise: bool) {
    match value {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(s)) => csv_text(out, s, neutralise),
        Some(other) => csv_text(out, &other.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_the_person_export() {
        let mut t = Timestamps::default();
        for ms in [
            0,
            1_736_869_500_000,
            1_736_869_500_123,
            1_736_869_500_120,
            1_736_899_199_999,
            1_736_899_200_000,
            -1,
        ] {
            let mut out = Vec::new();
            t.write(ms, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), crate::rows::timestamp(ms));
        }
    }

    #[test]
    fn csv_cells_match_the_csv_crate() {
        for cell in [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "",
            "=1+1",
            "-5",
            "ü",
        ] {
            let mut ours = Vec::new();
            csv_text(&mut ours, cell, false);
            let mut theirs = csv::Writer::from_writer(Vec::new());
            theirs.write_record([cell, "x"]).unwrap();
            let theirs = String::from_utf8(theirs.into_inner().unwrap()).unwrap();
            let expected = theirs.strip_suffix(",x\n").unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), expected, "{cell:?}");
        }
        let mut out = Vec::new();
        csv_text(&mut out, "=HYPERLINK(\"x\")", true);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
    }

    #[test]
    fn integers_and_json_strings() {
        let mut out = Vec::new();
        integer(&mut out, 0u64);
        out.push(b' ');
        integer(&mut out, -42i64);
        out.push(b' ');
        json_text(&mut out, Some("a\"b\n"));
        out.push(b' ');
        json_text(&mut out, None);
        assert_eq!(String::from_utf8(out).unwrap(), "0 -42 \"a\\\"b\\n\" null");
    }
}
