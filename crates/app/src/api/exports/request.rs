//! What the export endpoints take: the request bodies and their checks, turned into an
//! [`ExportSpec`] or a clear error before anything is queued.

use axum::http::StatusCode;
use chrono::NaiveDate;
use ferry_domain::DateRangeError;
use ferry_domain::export::{DataType, ExportRange, Format, Include, SubjectRef};
use ferry_domain::job::ExportSpec;
use serde::Deserialize;
use serde_json::Value;

use crate::api::error::ApiError;

/// Links live 7 days unless asked otherwise; at most 30.
pub(super) const DEFAULT_EXPIRES_IN: u64 = 7 * 24 * 3600;
const MAX_EXPIRES_IN: u64 = 30 * 24 * 3600;

/// What both create endpoints take besides the subject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    include: Option<Include>,
    #[serde(default)]
    website_id: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    one_time: Option<bool>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    zip: Option<bool>,
    /// Bulk exports: split each data file into parts of at most this many bytes.
    #[serde(default)]
    part_size: Option<u64>,
    /// Accepted so that scripts written for later releases get a clear answer.
    #[serde(default)]
    encryption: Option<Value>,
    #[serde(default)]
    delivery: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralBody {
    #[serde(default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) subject: Option<SubjectRef>,
    #[serde(flatten)]
    pub(super) options: Options,
}

/// Parts smaller than this would only multiply files.
const MIN_PART_SIZE: u64 = 512;

pub(super) fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

pub(super) fn date(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .filter(|_| v.len() == 10)
                .ok_or_else(|| {
                    DateRangeError::NotADate {
                        field,
                        value: v.into(),
                    }
                    .into()
                })
        })
        .transpose()
}

pub(super) fn spec(
    subject: Option<SubjectRef>,
    o: Options,
    default_expires_in: u64,
) -> Result<ExportSpec, ApiError> {
    let bulk = subject.is_none();
    if o.encryption.is_some() || o.delivery.is_some() {
        return Err(unprocessable(
            "unsupported",
            "encryption and delivery are not available yet: leave them out and fetch download_url",
        ));
    }
    let include = o.include.unwrap_or(Include::Keyword("all".into()));
    let data_types: Vec<DataType> = if bulk {
        include.resolve_bulk()
    } else {
        include.resolve()
    }
    .map_err(|m| unprocessable("invalid_include", m))?;
    let format = o
        .format
        .unwrap_or(if bulk { Format::Csv } else { Format::Json });
    if !bulk && format == Format::Parquet {
        return Err(unprocessable(
            "invalid_format",
            "Parquet is for bulk exports (\"kind\":\"bulk\"); a person's export is json, csv or ndjson",
        ));
    }
    if bulk && o.website_id.is_none() {
        return Err(unprocessable(
            "website_required",
            "a bulk export covers one website: give its website_id",
        ));
    }
    let part_size = match (bulk, o.part_size) {
        (_, None) => None,
        (false, Some(_)) => {
            return Err(unprocessable(
                "invalid_part_size",
                "part_size applies to bulk exports only: leave it out",
            ));
        }
        (true, Some(n)) if n < MIN_PART_SIZE => {
            return Err(unprocessable(
                "invalid_part_size",
                format!(
                    "part_size is in bytes, at least {MIN_PART_SIZE} (the default is 1000000000)"
                ),
            ));
        }
        (true, Some(n)) => Some(n),
    };
    let range = ExportRange {
        start: date("from", o.from.as_deref())?,
        end: date("to", o.to.as_deref())?,
    };
    if let (Some(from), Some(to)) = (range.start, range.end)
        && from > to
    {
        return Err(DateRangeError::Reversed { from, to }.into());
    }
    let expires_in = o.expires_in.unwrap_or(default_expires_in);
    if expires_in == 0 || expires_in > MAX_EXPIRES_IN {
        return Err(unprocessable(
            "invalid_expires_in",
            format!("expires_in is in seconds, from 1 to {MAX_EXPIRES_IN} (30 days)"),
        ));
    }
    Ok(ExportSpec {
        subject,
        website_id: o.website_id,
        data_types,
        format,
        range,
        // A bulk export is one ZIP unless separate files (one link each) are asked for.
        zip: o.zip.unwrap_or(bulk),
        one_time: o.one_time.unwrap_or(false),
        expires_in,
        part_size,
    })
}
