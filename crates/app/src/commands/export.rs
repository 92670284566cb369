//! `ferry export --user user_123 --format csv -o out.zip`: one person's export, written through
//! the same pipeline as the API's, with a progress line. The file appears only when complete.

use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use chrono::{NaiveDate, SecondsFormat, Utc};
use ferry_domain::export::{DataType, ExportRange, Format, Include, SubjectRef};
use ferry_domain::{Account, DateRangeError};
use ferry_export::person::PersonExport;
use ferry_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ExportArgs, FormatArg};
use crate::config::StoreArgs;
use crate::keys::random_id;
use crate::pipeline::StoreSource;

pub async fn run(store_args: &StoreArgs, args: ExportArgs) -> anyhow::Result<()> {
    let store = super::open_store(store_args).await?;
    let account = pick_account(store.as_ref(), args.account.as_deref()).await?;
    let subject_ref = match (&args.user, &args.email, &args.visitor) {
        (Some(u), _, _) => SubjectRef::UserId(u.clone()),
        (_, Some(e), _) => SubjectRef::Email(e.clone()),
        (_, _, Some(v)) => SubjectRef::VisitorId(v.clone()),
        _ => bail!("name the person with --user, --email or --visitor"),
    };
    let data_types = include(&args.include)?.resolve().map_err(|e| anyhow!(e))?;
    let range = ExportRange {
        start: args.from.as_deref().map(|d| day("from", d)).transpose()?,
        end: args.to.as_deref().map(|d| day("to", d)).transpose()?,
    };
    if let (Some(from), Some(to)) = (range.start, range.end)
        && from > to
    {
        bail!("{}", DateRangeError::Reversed { from, to });
    }
    let subject = store
        .find_subject(account.id, &subject_ref, args.website.as_deref())
        .await?
        .ok_or_else(|| {
            anyhow!(
                "subject_not_found: nobody matches that {} in account `{}`",
                kind(&subject_ref),
                account.name
            )
        })?;
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
        FormatArg::Ndjson => Format::Ndjson,
        FormatArg::Parquet => {
            bail!("Parquet is for bulk exports (--bulk); a person's export is json, csv or ndjson")
        }
    };
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} exporting: {pos} rows ({per_sec})")
            .expect("a valid template"),
    );
    let counter = bar.clone();
    let source = StoreSource {
        store: Arc::clone(&store),
        visitors: subject.identities.iter().map(|i| i.visitor_key).collect(),
        range,
        runtime: tokio::runtime::Handle::current(),
        on_row: Arc::new(move || counter.inc(1)),
    };
    let export_id = random_id("exp_", 8);
    let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let output = args.output.clone();
    let partial = output.with_extension("part");
    let zip = args.zip || format != Format::Json;
    let neutralise = !args.keep_formulas;
    let counts = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut source = source;
        let export = PersonExport {
            export_id: &export_id,
            generated_at: &generated_at,
            subject_ref: &subject_ref,
            subject: &subject,
            data_types: &data_types,
            format,
            range,
            neutralise,
        };
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let out = std::io::BufWriter::with_capacity(1 << 20, file);
        let (out, counts) = if zip {
            export.write_zip(out, &mut source)?
        } else {
            export.write_json(out, &mut source)?
        };
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, &output)?;
        Ok(counts)
    })
    .await??;
    bar.finish_and_clear();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("wrote {} ({})", args.output.display(), summary.join(" "));
    if std::env::var_os("FERRY_REPORT_PEAK_RSS").is_some() {
        // For `ferry bench --exports`, which runs this command to measure its memory.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak rss: {}", line.trim_start_matches("VmHWM:").trim());
        }
    }
    Ok(())
}

/// `--include`: `all` or a comma-separated list of data types.
pub(super) fn include(arg: &str) -> anyhow::Result<Include> {
    if arg == "all" {
        return Ok(Include::Keyword("all".into()));
    }
    arg.split(',')
        .map(|t| serde_json::from_value::<DataType>(serde_json::json!(t.trim())))
        .collect::<Result<Vec<_>, _>>()
        .map(Include::List)
        .map_err(|_| {
            anyhow!("--include takes `all` or a list of pageviews, events, sessions, profile (bulk: visitors, summary)")
        })
}

pub(super) fn day(field: &'static str, value: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        anyhow!(
            "{}",
            DateRangeError::NotADate {
                field,
                value: value.into()
            }
        )
    })
}

fn kind(subject: &SubjectRef) -> &'static str {
    match subject {
        SubjectRef::UserId(_) => "user id",
        SubjectRef::Email(_) => "email",
        SubjectRef::VisitorId(_) => "visitor id",
    }
}

pub(super) async fn pick_account(store: &dyn Store, name: Option<&str>) -> anyhow::Result<Account> {
    if let Some(name) = name {
        return store
            .account_by_name(name)
            .await?
            .with_context(|| format!("no account named `{name}`"));
    }
    let mut accounts = store.accounts().await?;
    match accounts.len() {
        1 => Ok(accounts.remove(0)),
        0 => bail!("there are no accounts yet: create one with `ferry accounts create NAME`"),
        _ => {
            let names: Vec<String> = accounts.into_iter().map(|a| a.name).collect();
            bail!(
                "several accounts exist ({}): choose one with --account",
                names.join(", ")
            )
        }
    }
}
