//! `manifest.json`, the same type for every export: what the export is ([`Description`]), the
//! rows of each data type, and the size and SHA-256 of every other file. Its fields, in order:
//!
//! ```text
//! a person's export                     a website's bulk export
//! export_id                             export_id
//!                                       kind ("bulk")
//! generated_at                          generated_at
//! subject, identities                   website_id, domain, time_zone
//! data_types, format, date_range        data_types, format, date_range
//!                                       part_size
//! row_counts, files                     row_counts, files
//! schema_version                        schema_version
//! ```
//!
//! Fields may be added, none renamed or dropped: people and scripts read these files.
//!
//! `schema_version` ([`SCHEMA_VERSION`]) names the layout of the manifest and of the data
//! files beside it. Within one version changes are additive only: new manifest fields, new
//! files, new columns appended after the existing ones; nothing is renamed, reordered or
//! dropped, so files written by version N load with version N+1's reader. A change that
//! breaks that rule takes a new version. The field comes last because it was added last.

use std::collections::BTreeMap;
use std::io;

use ferry_domain::export::{DataType, ExportRange, Format, Identity, SubjectRef};
use serde::Serialize;
use serde::ser::SerializeStruct;

/// The layout version every manifest carries (see the module's comment for how it evolves).
pub const SCHEMA_VERSION: u32 = 1;

/// One file of the package as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Rows written per data type.
pub type RowCounts = BTreeMap<String, u64>;

/// What an export is, everything but its files: what its manifest and its `README.txt` are
/// written from. Owned, so a writer thread can take it along.
#[derive(Debug, Clone)]
pub struct Description {
    pub export_id: String,
    pub generated_at: String,
    pub kind: Kind,
    pub data_types: Vec<DataType>,
    pub format: Format,
    /// The days the export covers (`null` on a side: unbounded, and no rows to name a day).
    /// A bulk export's is resolved before it starts; a person's, from the rows it wrote.
    pub date_range: ExportRange,
    /// CSV text cells had spreadsheet formulas defused; the README says so.
    pub neutralise: bool,
    /// The fingerprint of the OpenPGP key the export's files are encrypted to.
    pub encrypted_to: Option<String>,
}

/// Whose data the export holds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// One person's data, found through `subject`.
    Person {
        subject: SubjectRef,
        /// Every visitor matched to the subject, so a reviewer sees what was included.
        identities: Vec<Identity>,
        /// The Art. 15 facts, when the package carries them (`report.html`).
        about: Option<Box<crate::report::About>>,
    },
    /// A website's bulk export, its data files split into parts of at most `part_size` bytes.
    Website {
        website_id: String,
        domain: String,
        time_zone: String,
        part_size: u64,
    },
}

/// `manifest.json` of an export whose files are written.
pub struct Manifest<'a> {
    pub description: &'a Description,
    pub row_counts: &'a RowCounts,
    pub files: &'a [FileEntry],
}

impl Manifest<'_> {
    /// The pretty-printed JSON.
    pub fn to_json(&self) -> io::Result<Vec<u8>> {
        Ok(serde_json::to_vec_pretty(self)?)
    }
}

impl Serialize for Manifest<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.description;
        let mut out = serializer.serialize_struct("Manifest", 13)?;
        out.serialize_field("export_id", &d.export_id)?;
        if let Kind::Website { .. } = d.kind {
            out.serialize_field("kind", "bulk")?;
        }
        out.serialize_field("generated_at", &d.generated_at)?;
        match &d.kind {
            Kind::Person {
                subject,
                identities,
                ..
            } => {
                out.serialize_field("subject", subject)?;
                out.serialize_field("identities", identities)?;
            }
            Kind::Website {
                website_id,
                domain,
                time_zone,
                ..
            } => {
                out.serialize_field("website_id", website_id)?;
                out.serialize_field("domain", domain)?;
                out.serialize_field("time_zone", time_zone)?;
            }
        }
        let data_types: Vec<&str> = d.data_types.iter().map(|t| t.as_str()).collect();
        out.serialize_field("data_types", &data_types)?;
        out.serialize_field("format", d.format.as_str())?;
        out.serialize_field("date_range", &d.date_range)?;
        if let Kind::Website { part_size, .. } = d.kind {
            out.serialize_field("part_size", &part_size)?;
        }
        if let Some(fingerprint) = &d.encrypted_to {
            out.serialize_field("encrypted_to", fingerprint)?;
        }
        out.serialize_field("row_counts", self.row_counts)?;
        out.serialize_field("files", self.files)?;
        out.serialize_field("schema_version", &SCHEMA_VERSION)?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_website_manifest_keeps_its_fields_in_their_published_order() {
        let description = Description {
            export_id: "exp_1".into(),
            generated_at: "2024-01-01T00:00:00Z".into(),
            kind: Kind::Website {
                website_id: "web_1".into(),
                domain: "shop.example".into(),
                time_zone: "UTC".into(),
                part_size: 1000,
            },
            data_types: vec![DataType::Pageviews],
            format: Format::Csv,
            date_range: ExportRange {
                start: "2024-01-01".parse().ok(),
                end: None,
            },
            neutralise: true,
            encrypted_to: None,
        };
        let counts = RowCounts::from([("pageviews".to_string(), 2)]);
        let json = Manifest {
            description: &description,
            row_counts: &counts,
            files: &[],
        }
        .to_json()
        .unwrap();
        let text = String::from_utf8(json).unwrap();
        // Top-level keys are the lines indented by two spaces exactly.
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "export_id",
                "kind",
                "generated_at",
                "website_id",
                "domain",
                "time_zone",
                "data_types",
                "format",
                "date_range",
                "part_size",
                "row_counts",
                "files",
                "schema_version"
            ]
        );
        assert!(text.contains("\"schema_version\": 1"), "{text}");
        assert!(text.contains("\"kind\": \"bulk\""));
        assert!(
            text.contains(
                "\"date_range\": {\n    \"start\": \"2024-01-01\",\n    \"end\": null\n  }"
            ),
            "days are written as YYYY-MM-DD text, an open side as null: {text}"
        );
    }
}
