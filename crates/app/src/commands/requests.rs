//! `ferry requests list|create|import|erase|show`: data-subject requests at the command line, through the
//! same service as the API (the same checks and audit entries; the actor is `cli`). Lists
//! print ids and dates, not people's addresses; `show` prints the request as the API does.

use clap::Subcommand;
use ferry_domain::request::RequestStatus;

use crate::config::StoreArgs;
use crate::services::Actor;
use crate::services::requests::{self, NewRequest, day_of};

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// List an account's requests (id, type, status, received, due), oldest first.
    List {
        #[arg(long)]
        account: String,
        /// Only requests of this status (received, verification_sent, verified, …).
        #[arg(long)]
        status: Option<String>,
    },
    /// Record a request received outside Ferry and print its id.
    Create {
        #[arg(long)]
        account: String,
        /// access, portability or erasure.
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        email: String,
        /// The day (YYYY-MM-DD) or instant (RFC 3339) it arrived; default now.
        #[arg(long)]
        received_at: Option<String>,
        #[arg(long)]
        external_ref: Option<String>,
    },
    /// Import requests from a CSV or NDJSON file (`-`: stdin), idempotent by external_ref:
    /// re-running a file, whole or after a crash, creates nothing twice. Prints the report.
    Import {
        #[arg(long)]
        account: String,
        file: std::path::PathBuf,
    },
    /// Erase the subject of a verified erasure request (GDPR Art. 17): queues the erasure
    /// the worker (`ferry serve` or `ferry worker`) runs; `show` follows it and prints the
    /// deletion report once it is done. The same step as `POST /requests/{id}/fulfil`.
    Erase {
        #[arg(long)]
        account: String,
        id: String,
        /// Export the person's data first (as for an access request); erase once it completed.
        #[arg(long)]
        export_first: bool,
    },
    /// Print one request, with its timeline, as JSON.
    Show {
        #[arg(long)]
        account: String,
        id: String,
    },
}

pub async fn run(args: &StoreArgs, cmd: RequestsCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    let clock = crate::clock::system();
    let actor = |name: String| {
        let store = store.clone();
        async move {
            let account = super::admin::account(store.as_ref(), &name).await?;
            anyhow::Ok(Actor::Cli {
                account: account.id,
            })
        }
    };
    let problem = |p: crate::error_code::Problem| anyhow::anyhow!(p.message);
    match cmd {
        RequestsCommand::List { account, status } => {
            let actor = actor(account).await?;
            let status = match status {
                None => None,
                Some(s) => Some(
                    RequestStatus::parse(&s)
                        .ok_or_else(|| anyhow::anyhow!("unknown status `{s}`"))?,
                ),
            };
            let settings = store.request_settings(actor.account()).await?;
            let today = day_of(clock.now());
            for r in store.requests(actor.account(), status).await? {
                let due = requests::deadlines::due(&r, &settings, today);
                println!(
                    "{}  {}  {}  received {}  due {}{}",
                    r.id,
                    r.kind.as_str(),
                    r.status.as_str(),
                    r.received_on,
                    due.due_on,
                    if due.overdue { "  OVERDUE" } else { "" }
                );
            }
        }
        RequestsCommand::Create {
            account,
            kind,
            email,
            received_at,
            external_ref,
        } => {
            let actor = actor(account).await?;
            let body = NewRequest {
                kind,
                subject_email: email,
                user_id: None,
                visitor_id: None,
                received_at,
                assignee: None,
                notes: None,
                external_ref,
            };
            let (created, new) = requests::create(store.as_ref(), clock.as_ref(), &actor, body)
                .await
                .map_err(problem)?;
            if !new {
                eprintln!("a request with that external reference exists already");
            }
            println!("{}", created.id);
        }
        RequestsCommand::Import { account, file } => {
            use crate::services::requests::import::{Format, import, parse};
            let actor = actor(account).await?;
            let body = if file.as_os_str() == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
                bytes
            } else {
                std::fs::read(&file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
            };
            let ndjson = file
                .extension()
                .is_some_and(|e| e == "ndjson" || e == "jsonl");
            let format = if ndjson {
                Format::Ndjson
            } else {
                Format::detect(None, &body)
            };
            let rows = parse(format, &body).map_err(problem)?;
            let report = import(store.as_ref(), clock.as_ref(), &actor, rows)
                .await
                .map_err(problem)?;
            println!("{}", serde_json::to_string(&report)?);
            if report.rejected > 0 {
                anyhow::bail!(
                    "{} of {} rows were rejected (see errors)",
                    report.rejected,
                    report.rows
                );
            }
        }
        RequestsCommand::Erase {
            account,
            id,
            export_first,
        } => {
            use crate::services::requests::fulfilment::{FulfilBody, fulfil};
            let actor = actor(account).await?;
            let request = requests::find(store.as_ref(), &actor, &id)
                .await
                .map_err(problem)?;
            if request.kind != ferry_domain::request::RequestType::Erasure {
                anyhow::bail!(
                    "request `{id}` is an {} request, not an erasure: answer it with \
                     POST /requests/{id}/fulfil",
                    request.kind.as_str()
                );
            }
            let body = FulfilBody {
                export_first: Some(export_first),
                ..FulfilBody::default()
            };
            let moved = fulfil(store.as_ref(), clock.as_ref(), &actor, &id, body)
                .await
                .map_err(problem)?;
            println!("{} {}", moved.id, moved.status.as_str());
        }
        RequestsCommand::Show { account, id } => {
            let actor = actor(account).await?;
            let request = requests::find(store.as_ref(), &actor, &id)
                .await
                .map_err(problem)?;
            let settings = store.request_settings(actor.account()).await?;
            let mut out = crate::api::requests_view::view(&request, &settings, day_of(clock.now()));
            let steps = store.request_steps(actor.account(), &id).await?;
            out["timeline"] = crate::api::requests_view::timeline(&steps);
            if request.kind == ferry_domain::request::RequestType::Erasure {
                out["deletion_report"] =
                    requests::erasure::report_of(store.as_ref(), actor.account(), &id)
                        .await
                        .map_err(problem)?;
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}
