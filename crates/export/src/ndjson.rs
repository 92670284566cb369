//! One JSON object per line, `\n`-terminated, in the same row layout as the JSON document.

use std::io::{self, Write};

use crate::rows::JsonRow;

/// Writes every row as a line; returns how many.
pub fn write_lines<R: JsonRow>(
    mut out: impl Write,
    rows: impl Iterator<Item = io::Result<R>>,
) -> io::Result<u64> {
    let mut count = 0;
    for row in rows {
        row?.write_json(&mut out)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_row_is_one_line() {
        let mut out = Vec::new();
        let rows = [Ok(serde_json::json!("a")), Ok(serde_json::json!("b\nc"))];
        let n = super::write_lines(&mut out, rows.into_iter()).unwrap();
        assert_eq!(
            (n, String::from_utf8(out).unwrap()),
            (2, "\"a\"\n\"b\\nc\"\n".to_string())
        );
    }
}
