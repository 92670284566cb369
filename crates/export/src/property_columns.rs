//! Which event-property keys become CSV columns.
//!
//! Property keys come from whoever posts events, and the public tracker takes them from
//! anyone: a website's distinct keys have no natural bound. One column per key would let a
//! stream of made-up keys turn an export into a million columns, every row of it a million
//! commas. So the first [`MAX_PROPERTY_COLUMNS`] keys, in sorted order, get a column each
//! (`property_<key>`, as the reference layout has them); when there are more, one further
//! column, [`OTHER_PROPERTIES`], holds the rest of each row's properties as a JSON object
//! (keys sorted; empty when the row has none of them). It comes right after the property
//! columns, and only when there are more keys than columns: normal data never sees it.
//!
//! ```text
//! keys a, b, c with a cap of 2:  timestamp,name,property_a,property_b,properties_other,…
//! a row {"a":1,"c":"x"}:         …,1,,"{""c"":""x""}",…
//! ```

use serde_json::{Map, Value};

/// Property columns at most; a website's keys beyond them share [`OTHER_PROPERTIES`].
pub const MAX_PROPERTY_COLUMNS: usize = 200;

/// The column that holds the properties without a column of their own. Every property column
/// starts with `property_`, so no key can take this name.
pub const OTHER_PROPERTIES: &str = "properties_other";

/// The property columns of an events CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyColumns {
    /// Keys with a column, in column order: sorted, except in a schedule's runs, which keep
    /// the order of the series (earlier runs' keys first, new ones appended).
    keys: Vec<String>,
    /// The same keys sorted, for lookups.
    sorted: Vec<String>,
    /// More keys were seen than have a column.
    other: bool,
}

impl PropertyColumns {
    /// `all` is every key seen, without repeats, in the order of the columns (sorted, but
    /// for a schedule's series).
    pub fn new(all: &[String]) -> Self {
        Self::capped(all, MAX_PROPERTY_COLUMNS)
    }

    fn capped(all: &[String], cap: usize) -> Self {
        let keys: Vec<String> = all.iter().take(cap).cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        PropertyColumns {
            keys,
            sorted,
            other: all.len() > cap,
        }
    }

    /// The keys that have a column, in column order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Whether the [`OTHER_PROPERTIES`] column is there.
    pub fn has_other(&self) -> bool {
        self.other
    }

    /// No property column at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.other
    }

    /// The header cells: `property_<key>`…, then [`OTHER_PROPERTIES`] when there.
    pub fn header(&self) -> impl Iterator<Item = String> + '_ {
        self.keys
            .iter()
            .map(|k| format!("property_{k}"))
            .chain(self.other.then(|| OTHER_PROPERTIES.to_string()))
    }

    pub fn has_column(&self, key: &str) -> bool {
        self.sorted
            .binary_search_by(|k| k.as_str().cmp(key))
            .is_ok()
    }

    /// The [`OTHER_PROPERTIES`] cell of a row: its properties without a column, as compact
    /// JSON (empty text when there are none).
    pub fn other_cell(&self, properties: &Map<String, Value>) -> String {
        let rest: Map<String, Value> = properties
            .iter()
            .filter(|(k, _)| !self.has_column(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if rest.is_empty() {
            return String::new();
        }
        serde_json::to_string(&rest).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:04}")).collect()
    }

    #[test]
    fn up_to_the_cap_every_key_has_a_column_and_there_is_no_other_column() {
        let columns = PropertyColumns::new(&keys(MAX_PROPERTY_COLUMNS));
        assert_eq!(columns.keys().len(), MAX_PROPERTY_COLUMNS);
        assert!(!columns.has_other());
        assert!(columns.header().all(|h| h.starts_with("property_")));
    }

    #[test]
    fn past_the_cap_the_first_keys_keep_columns_and_the_rest_share_one_json_column() {
        let all = keys(MAX_PROPERTY_COLUMNS + 1_000);
        let columns = PropertyColumns::new(&all);
        let header: Vec<String> = columns.header().collect();
        assert_eq!(header.len(), MAX_PROPERTY_COLUMNS + 1);
        assert_eq!(header[0], "property_k0000");
        assert_eq!(header[MAX_PROPERTY_COLUMNS], OTHER_PROPERTIES);
        let row = json!({"k0000": 1, "k0999": "x", "k1100": [true]});
        let other = columns.other_cell(row.as_object().unwrap());
        assert_eq!(other, r#"{"k0999":"x","k1100":[true]}"#);
        let only_columns = json!({"k0001": 2});
        assert_eq!(columns.other_cell(only_columns.as_object().unwrap()), "");
    }

    #[test]
    fn a_small_cap_shows_the_layout_of_the_module_doc() {
        let columns = PropertyColumns::capped(&["a".into(), "b".into(), "c".into()], 2);
        let header: Vec<String> = columns.header().collect();
        assert_eq!(header, ["property_a", "property_b", "properties_other"]);
        let row = json!({"a": 1, "c": "x"});
        assert_eq!(columns.other_cell(row.as_object().unwrap()), r#"{"c":"x"}"#);
    }
}
