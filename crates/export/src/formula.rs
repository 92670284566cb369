//! Spreadsheet formulas in CSV text cells, defused. URLs, titles and event properties come from
//! web pages anyone can load; a cell that starts with `= + - @`, tab or CR runs as a formula
//! when the file is opened in a spreadsheet, so the CSV writers (the person export's
//! [`crate::csv_files`] and the bulk export's [`crate::bulk::cells`]) put a `'` before it. The
//! rule lives here once so the two writers cannot drift apart.

use std::borrow::Cow;

/// What goes before a cell that would run as a formula.
pub const PREFIX: char = '\'';

/// Whether a spreadsheet would run `cell` as a formula.
pub fn is_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `cell` as written with formulas defused: [`PREFIX`]ed when it [`is_formula`].
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    if is_formula(cell) {
        format!("{PREFIX}{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cells_a_spreadsheet_would_run_are_prefixed() {
        for (cell, out) in [
            ("=1+1", "'=1+1"),
            ("+gift", "'+gift"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralised(cell), out, "{cell:?}");
        }
    }
}
