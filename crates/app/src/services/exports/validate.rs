//! An export request's options, checked and turned into an [`ExportSpec`], or a clear error
//! before anything is queued. The API's JSON bodies and the CLI's flags both arrive here.

use ferry_domain::export::{DataType, ExportRange, Format, Include, SubjectRef};
use ferry_domain::job::{Encryption, ExportSpec};
use ferry_domain::{DateRangeError, parse_date};
use ferry_encrypt::Recipient;
use serde::Deserialize;
use serde_json::Value;

use crate::error_code::{ErrorCode, Problem};

/// Links live 7 days unless asked otherwise; at most 30.
pub const DEFAULT_EXPIRES_IN: u64 = 7 * 24 * 3600;
const MAX_EXPIRES_IN: u64 = 30 * 24 * 3600;

/// 1 MiB. Parts smaller than this only multiply files: a caller asking for tiny parts of a large
/// website would have Ferry write (and the archive list) millions of them.
pub const MIN_PART_SIZE: u64 = 1 << 20;

/// Everything an export request may set besides whom it is about. Formats and data types are
/// read as text here, so that a wrong one gets its own code (`invalid_format`,
/// `invalid_include`) instead of a generic one from the JSON parser.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub include: Option<Include>,
    #[serde(default)]
    pub website_id: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub one_time: Option<bool>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub zip: Option<bool>,
    /// Bulk exports: split each data file into parts of at most this many bytes.
    #[serde(default)]
    pub part_size: Option<u64>,
    /// Keep CSV cells a spreadsheet would run as formulas exactly as stored.
    #[serde(default)]
    pub keep_formulas: Option<bool>,
    /// Encrypt the files to an OpenPGP public key.
    #[serde(default)]
    pub encryption: Option<EncryptionOptions>,
    /// Where to deliver the finished export: a destination id (`"dst_…"`), or a destination
    /// object given inline (credentials included: never log these options).
    #[serde(default)]
    pub delivery: Option<Value>,
    /// Seals an inline destination's credentials: set by the entry point, never by the
    /// request (`None`: this entry point cannot deliver).
    #[serde(skip)]
    pub sealer: Option<crate::sealing::Sealer>,
    /// The smallest `part_size` taken: set by the entry point, never by the request (`None`:
    /// [`MIN_PART_SIZE`]). Only tests lower it, to split a few rows into several parts.
    #[serde(skip)]
    pub min_part_size: Option<u64>,
    /// A schedule's run: the series' event-property columns, in order (set by the
    /// scheduler, never by a request).
    #[serde(skip)]
    pub event_columns: Option<Vec<String>>,
    /// The id to give the export, for an entry point that may ask twice for the same one (a
    /// retried schedule run): asking again answers the export already queued. Set by the
    /// entry point, never by a request (`None`: a new random id).
    #[serde(skip)]
    pub export_id: Option<String>,
}

/// `"encryption": {"pgp_public_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----…"}`, or
/// `"encryption": {"none": true}`: no encryption, even where the destination or the account
/// has a key (the opt-out is explicit, and the export's audit entry records it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOptions {
    #[serde(default)]
    pub pgp_public_key: Option<String>,
    #[serde(default)]
    pub none: Option<bool>,
}

impl EncryptionOptions {
    pub fn key(armored: String) -> EncryptionOptions {
        EncryptionOptions {
            pgp_public_key: Some(armored),
            none: None,
        }
    }

    /// Asks for no encryption at all (`{"none": true}`).
    pub fn opts_out(&self) -> bool {
        self.none == Some(true) && self.pgp_public_key.is_none()
    }
}

/// The largest armored key taken: a 16384-bit RSA key with many signatures fits easily.
const MAX_PUBLIC_KEY_BYTES: usize = 64 * 1024;

/// Checks `armored` as of `now` (ms) and keeps it with its fingerprint. `whose` names the key
/// in messages (`pgp_public_key`, `the destination's key`…).
pub fn check_key(armored: &str, now: i64, whose: &str) -> Result<Encryption, Problem> {
    if armored.len() > MAX_PUBLIC_KEY_BYTES {
        return Err(unprocessable(
            ErrorCode::InvalidEncryptionKey,
            format!("{whose} is over {MAX_PUBLIC_KEY_BYTES} bytes: send one public key, armored"),
        ));
    }
    let recipient = Recipient::parse(armored, now.div_euclid(1000)).map_err(|problem| {
        unprocessable(
            ErrorCode::InvalidEncryptionKey,
            format!("{whose}: {problem}"),
        )
    })?;
    Ok(Encryption {
        fingerprint: recipient.fingerprint().to_string(),
        pgp_public_key: armored.to_string(),
    })
}

/// The request's own key, checked as of `now` (ms); `None` when it gave none or opted out.
pub fn encryption(
    options: Option<EncryptionOptions>,
    now: i64,
) -> Result<Option<Encryption>, Problem> {
    let Some(options) = options else {
        return Ok(None);
    };
    match (options.pgp_public_key, options.none) {
        (Some(armored), None) => check_key(&armored, now, "pgp_public_key").map(Some),
        (None, Some(true)) => Ok(None),
        (Some(_), Some(_)) => Err(unprocessable(
            ErrorCode::InvalidEncryptionKey,
            "`encryption` takes either pgp_public_key or \"none\": true, not both",
        )),
        (None, _) => Err(unprocessable(
            ErrorCode::InvalidEncryptionKey,
            "`encryption` needs pgp_public_key (an armored OpenPGP public key), or \"none\": \
             true to send this export unencrypted even where a stored key would apply",
        )),
    }
}

fn unprocessable(code: ErrorCode, message: impl Into<String>) -> Problem {
    Problem::new(code, message)
}

/// A day as `YYYY-MM-DD`, strictly.
pub fn day(field: &'static str, value: Option<&str>) -> Result<Option<chrono::NaiveDate>, Problem> {
    value
        .map(|v| parse_date(field, v).map_err(Problem::from))
        .transpose()
}

/// `now` (ms) is when an encryption key must be valid.
pub fn to_spec(
    subject: Option<SubjectRef>,
    o: ExportOptions,
    default_expires_in: u64,
    now: i64,
) -> Result<ExportSpec, Problem> {
    let bulk = subject.is_none();
    let include = o.include.unwrap_or(Include::Keyword("all".into()));
    let data_types: Vec<DataType> = if bulk {
        include.resolve_bulk()
    } else {
        include.resolve()
    }
    .map_err(|m| unprocessable(ErrorCode::InvalidInclude, m))?;
    let format = match o.format.as_deref() {
        None if bulk => Format::Csv,
        None => Format::Json,
        Some(name) => Format::parse(name).ok_or_else(|| {
            unprocessable(
                ErrorCode::InvalidFormat,
                format!(
                    "`format` is `{name}`: use json, csv or ndjson (bulk exports: parquet too)"
                ),
            )
        })?,
    };
    if !bulk && format == Format::Parquet {
        return Err(unprocessable(
            ErrorCode::InvalidFormat,
            "Parquet is for bulk exports (\"kind\":\"bulk\"); a person's export is json, csv or ndjson",
        ));
    }
    if bulk && o.website_id.is_none() {
        return Err(unprocessable(
            ErrorCode::WebsiteRequired,
            "a bulk export covers one website: give its website_id",
        ));
    }
    let part_size = match (bulk, o.part_size) {
        (_, None) => None,
        (false, Some(_)) => {
            return Err(unprocessable(
                ErrorCode::InvalidPartSize,
                "part_size applies to bulk exports only: leave it out",
            ));
        }
        (true, Some(n)) if n < o.min_part_size.unwrap_or(MIN_PART_SIZE) => {
            return Err(unprocessable(
                ErrorCode::InvalidPartSize,
                format!(
                    "part_size is in bytes, at least {} (1 MiB; the default is 1000000000)",
                    o.min_part_size.unwrap_or(MIN_PART_SIZE)
                ),
            ));
        }
        (true, Some(n)) => Some(n),
    };
    let range = ExportRange {
        start: day("from", o.from.as_deref())?,
        end: day("to", o.to.as_deref())?,
    };
    if let (Some(from), Some(to)) = (range.start, range.end)
        && from > to
    {
        return Err(DateRangeError::Reversed { from, to }.into());
    }
    let expires_in = o.expires_in.unwrap_or(default_expires_in);
    if expires_in == 0 || expires_in > MAX_EXPIRES_IN {
        return Err(unprocessable(
            ErrorCode::InvalidExpiresIn,
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
        keep_formulas: o.keep_formulas.unwrap_or(false),
        // Set once the subject is found (`request_export`).
        person: None,
        encryption: encryption(o.encryption, now)?,
        event_columns: o.event_columns,
    })
}
