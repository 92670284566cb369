//! Destination JSON, checked: the reference page's S3 and GCS objects as written (bare, or
//! inside `{"destination": …}`), plus an optional `endpoint` for S3-compatible stores and
//! emulators; SFTP, email and local directories as DESIGN.md gives them. Each type's fields
//! are split into public settings (shown back) and secrets (sealed, never shown).

use ferry_deliver::DeliveryError;
use ferry_deliver::Sink;
use ferry_deliver::email::{EmailSink, ExportNotice, SmtpRelay};
use ferry_deliver::gcs::GcsSink;
use ferry_deliver::local::LocalSink;
use ferry_deliver::s3::{S3Sink, S3Target};
use ferry_deliver::sftp::SftpSink;
use serde_json::{Map, Value};

use crate::error_code::{ErrorCode, Problem};

/// A field of a destination type.
struct Field {
    name: &'static str,
    required: bool,
    secret: bool,
}

const fn f(name: &'static str, required: bool, secret: bool) -> Field {
    Field {
        name,
        required,
        secret,
    }
}

/// The types and their fields. `sftp` needs one of `password`, `private_key` (checked apart).
fn fields(kind: &str) -> Option<&'static [Field]> {
    const S3: &[Field] = &[
        f("bucket", true, false),
        f("region", true, false),
        f("path", false, false),
        f("access_key_id", true, false),
        f("secret_access_key", true, true),
        f("endpoint", false, false),
    ];
    const GCS: &[Field] = &[
        f("bucket", true, false),
        f("path", false, false),
        f("service_account_json", true, true),
        f("endpoint", false, false),
    ];
    const SFTP: &[Field] = &[
        f("host", true, false),
        f("port", false, false),
        f("username", true, false),
        f("password", false, true),
        f("private_key", false, true),
        f("path", false, false),
        f("host_key", true, false),
    ];
    const EMAIL: &[Field] = &[f("to", true, false)];
    const LOCAL: &[Field] = &[f("path", true, false)];
    Some(match kind {
        "s3" => S3,
        "gcs" => GCS,
        "sftp" => SFTP,
        "email" => EMAIL,
        "local" => LOCAL,
        _ => return None,
    })
}

/// A checked destination: `public` holds `type` and the public fields, `secrets` the rest.
#[derive(Debug, Clone)]
pub struct Shape {
    pub kind: String,
    pub public: Map<String, Value>,
    pub secrets: Map<String, Value>,
}

fn invalid(message: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidDestination, message)
}

/// Checks a destination object (the `{"destination": …}` wrapper is taken off first).
pub fn parse(value: &Value) -> Result<Shape, Problem> {
    let value = match value.get("destination") {
        Some(inner) if value.as_object().is_some_and(|o| o.len() == 1) => inner,
        _ => value,
    };
    let object = value.as_object().ok_or_else(|| {
        invalid("a destination is a JSON object with a `type`: s3, gcs, sftp, email or local")
    })?;
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the destination needs a `type`: s3, gcs, sftp, email or local"))?;
    let spec = fields(kind).ok_or_else(|| {
        invalid(format!(
            "unknown destination type `{kind}`: use s3, gcs, sftp, email or local"
        ))
    })?;
    let mut shape = Shape {
        kind: kind.to_string(),
        public: Map::new(),
        secrets: Map::new(),
    };
    shape.public.insert("type".into(), kind.into());
    for (name, v) in object {
        if name == "type" {
            continue;
        }
        let field = spec.iter().find(|f| f.name == name).ok_or_else(|| {
            let known: Vec<&str> = spec.iter().map(|f| f.name).collect();
            invalid(format!(
                "`{name}` is not a field of a `{kind}` destination: it takes {}",
                known.join(", ")
            ))
        })?;
        check_value(kind, name, v)?;
        let into = if field.secret {
            &mut shape.secrets
        } else {
            &mut shape.public
        };
        into.insert(name.clone(), v.clone());
    }
    for field in spec.iter().filter(|f| f.required) {
        if !object.contains_key(field.name) {
            return Err(invalid(format!(
                "a `{kind}` destination needs `{}`",
                field.name
            )));
        }
    }
    if kind == "sftp" && shape.secrets.is_empty() {
        return Err(invalid(
            "an `sftp` destination needs `password` or `private_key`",
        ));
    }
    Ok(shape)
}

fn check_value(kind: &str, name: &str, v: &Value) -> Result<(), Problem> {
    if name == "port" {
        return match v.as_u64() {
            Some(1..=65535) => Ok(()),
            _ => Err(invalid("`port` must be a number from 1 to 65535")),
        };
    }
    let text = v
        .as_str()
        .ok_or_else(|| invalid(format!("`{name}` must be a string")))?;
    let required = fields(kind)
        .and_then(|s| s.iter().find(|f| f.name == name))
        .is_some_and(|f| f.required);
    if required && text.trim().is_empty() {
        return Err(invalid(format!("`{name}` must not be empty")));
    }
    if text.len() > 16 * 1024 {
        return Err(invalid(format!("`{name}` is over 16 KiB")));
    }
    match (kind, name) {
        (_, "endpoint") if !(text.starts_with("http://") || text.starts_with("https://")) => Err(
            invalid("`endpoint` must be an http:// or https:// URL (`https://s3.example.com`)"),
        ),
        ("local", "path") if !text.starts_with('/') => Err(invalid(
            "a `local` destination's `path` must be an absolute directory (`/srv/exports`)",
        )),
        ("email", "to") if !text.contains('@') => Err(invalid("`to` must be an email address")),
        _ => Ok(()),
    }
}

/// The destination as the API shows it: its settings, each secret as `"redacted"`.
pub fn redacted(public: &Map<String, Value>, secret_names: &[String]) -> Map<String, Value> {
    let mut shown = public.clone();
    for name in secret_names {
        shown.insert(name.clone(), "redacted".into());
    }
    shown
}

fn text(map: &Map<String, Value>, name: &str) -> String {
    map.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A sink's config from the destination's settings and opened secrets together (the fields
/// are the destination JSON's). The reason stays generic: serde's would quote a value, and
/// the value may be a credential.
fn config<T: serde::de::DeserializeOwned>(shape: &Shape) -> Result<T, DeliveryError> {
    let mut all = shape.public.clone();
    // The encryption key was used before the files reached the sink.
    all.remove(super::key::FIELD);
    all.extend(shape.secrets.clone());
    serde_json::from_value(Value::Object(all)).map_err(|_| {
        DeliveryError::Permanent(format!(
            "the {} destination's settings cannot be read: check its fields and save it again",
            shape.kind
        ))
    })
}

/// What an `email` delivery's mail needs besides its address.
pub struct Mail {
    pub relay: SmtpRelay,
    pub notice: ExportNotice,
    pub attach_limit: u64,
}

/// The sink that delivers to a destination. Types whose sink is not in this build yet fail
/// clearly (and for good: retrying cannot help).
/// `mail`: what an `email` destination's mail says and where it is sent from (`None`: no
/// relay, or a destination test, which sends no mail).
pub fn sink(shape: &Shape, mail: Option<Mail>) -> Result<Box<dyn Sink>, DeliveryError> {
    let (p, s) = (&shape.public, &shape.secrets);
    match shape.kind.as_str() {
        "s3" => Ok(Box::new(S3Sink {
            target: S3Target {
                bucket: text(p, "bucket"),
                region: text(p, "region"),
                path: text(p, "path"),
                access_key_id: text(p, "access_key_id"),
                secret_access_key: text(s, "secret_access_key"),
                endpoint: p
                    .get("endpoint")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
        })),
        "local" => Ok(Box::new(LocalSink {
            dir: text(p, "path").into(),
        })),
        "sftp" => Ok(Box::new(SftpSink {
            config: config(shape)?,
        })),
        "gcs" => Ok(Box::new(GcsSink {
            config: config(shape)?,
        })),
        "email" => {
            let mail = mail.ok_or_else(|| {
                DeliveryError::Permanent(
                    "email delivery needs a mail relay: start the process that runs jobs \
                     (ferry serve, or ferry worker with --public-url) with FERRY_SMTP_URL and \
                     FERRY_SMTP_FROM (--smtp-url, --smtp-from)"
                        .into(),
                )
            })?;
            Ok(Box::new(EmailSink {
                config: config(shape)?,
                relay: mail.relay,
                notice: mail.notice,
                attach_limit: mail.attach_limit,
            }))
        }
        other => Err(DeliveryError::Permanent(format!(
            "delivery to `{other}` destinations is not available in this build yet: use s3, \
             gcs, sftp, email or local, or fetch the download link"
        ))),
    }
}
