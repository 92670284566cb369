//! The export endpoints' bodies. Their checks live in the export service
//! ([`crate::services::exports`]), shared with the CLI.

use ferry_domain::export::SubjectRef;
use serde::Deserialize;

use crate::services::exports::ExportOptions;

/// `POST /exports`: a person's export, or a website's with `"kind":"bulk"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralBody {
    #[serde(default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) subject: Option<SubjectRef>,
    #[serde(flatten)]
    pub(super) options: ExportOptions,
}
