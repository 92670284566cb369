//! Settings → Data Export → Scheduled (`/settings/data-export/scheduled`): the account's
//! schedules with their last runs (the export's status and the delivery's), and the account's
//! destinations with their public settings (a credential shows only as "set").
//!
//! This file builds the page; `schedule_forms` and `destination_forms` answer its forms, each
//! through the same service as the API (`services::schedules`, `services::destinations`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_domain::schedule::Schedule;
use ferry_store::{DashboardRole, DestinationRecord};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Dashboard;
use super::destination_forms::{DestinationType, types};
use super::page::{Chrome, PageError, render};
use super::schedule_forms::ScheduleForm;
use super::session::SignedIn;

pub const PATH: &str = "/settings/data-export/scheduled";
/// Runs shown per schedule, newest first.
const RUNS_SHOWN: u32 = 5;

pub struct RunRow {
    pub window: String,
    pub trigger: String,
    pub export_id: String,
    /// The export's status (`queued` … `completed`, or `failed` when none could be made).
    pub status: String,
    /// The delivery's status (`pending`, `delivered`, `failed`), when the run delivers.
    pub delivery: String,
    pub error: String,
}

pub struct ScheduleRow {
    pub id: String,
    pub website: String,
    pub frequency: String,
    pub format: String,
    pub data_types: String,
    pub destination: String,
    pub encrypted_to: String,
    pub enabled: bool,
    pub next_window: String,
    pub runs: Vec<RunRow>,
}

pub struct DestinationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub settings: Vec<Setting>,
}

/// A public setting with its value, or a credential (`secret`: only its name is shown).
pub struct Setting {
    pub key: String,
    pub value: String,
    pub secret: bool,
}

/// What an answer to a form adds to the page.
#[derive(Default)]
pub struct Extras {
    pub notice: Option<String>,
    /// The schedule form as sent, and the service's reason for refusing it.
    pub schedule_form: Option<ScheduleForm>,
    pub schedule_error: Option<String>,
    /// The schedule the form edits (`None`: the form makes a new one).
    pub editing: Option<String>,
    /// The destination form's type, its non-secret fields as sent, and the refusal.
    pub destination_kind: Option<String>,
    pub destination_values: Map<String, Value>,
    pub destination_error: Option<String>,
    /// A destination test: its id, whether it worked, and what to say.
    pub test: Option<(String, bool, String)>,
}

#[derive(Template)]
#[template(path = "scheduled.html")]
struct ScheduledPage {
    chrome: Chrome,
    is_admin: bool,
    notice: Option<String>,
    schedules: Vec<ScheduleRow>,
    websites: Vec<(String, String)>,
    destinations: Vec<DestinationRow>,
    form: ScheduleForm,
    data_types: &'static [(&'static str, &'static str)],
    formats: [&'static str; 4],
    schedule_error: Option<String>,
    editing: Option<String>,
    types: Vec<DestinationType>,
    destination_error: Option<String>,
    test: Option<(String, bool, String)>,
}

impl ScheduledPage {
    fn frequency_is(&self, f: &str) -> bool {
        self.form.frequency_choice() == f
    }

    fn is_website(&self, id: &str) -> bool {
        self.form.website_id == id
    }

    fn is_destination(&self, id: &str) -> bool {
        self.form.destination_id == id
    }

    fn is_format(&self, format: &str) -> bool {
        self.form.format == format
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// What the form just did (a fixed word, never text to show as is).
    #[serde(default)]
    done: Option<String>,
}

/// The message of a `?done=` word; unknown words say nothing.
fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "schedule-created" => "The schedule is saved.",
        "schedule-updated" => {
            "The schedule is changed; the next window runs with its new settings."
        }
        "schedule-enabled" => "The schedule is on: windows since it was turned off run in order.",
        "schedule-disabled" => "The schedule is off: it queues nothing until it is turned on.",
        "schedule-run" => {
            "The next window is queued now; its scheduled run still comes when the window ends."
        }
        "schedule-deleted" => "The schedule is deleted; its runs' exports stay until they expire.",
        "destination-created" => "The destination is saved. Its credentials are not shown again.",
        "destination-deleted" => "The destination is deleted.",
        _ => return None,
    })
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let extras = Extras {
        notice: q.done.as_deref().and_then(done_message).map(str::to_string),
        ..Default::default()
    };
    show(&state, &s, StatusCode::OK, extras).await
}

pub async fn show(
    state: &Dashboard,
    s: &SignedIn,
    status: StatusCode,
    extras: Extras,
) -> Result<Response, PageError> {
    let store = state.app.store.as_ref();
    let account = s.user.account;
    let websites: Vec<(String, String)> = store
        .websites(account)
        .await?
        .into_iter()
        .map(|w| (w.id, w.domain))
        .collect();
    let destinations = store.destinations(account).await?;
    let mut schedules = Vec::new();
    for schedule in store.schedules(account).await? {
        schedules.push(schedule_row(state, &schedule, &websites, &destinations).await?);
    }
    let destination_rows = destinations
        .iter()
        .map(|d| destination_row(state, d))
        .collect();
    let page = ScheduledPage {
        chrome: Chrome::new(s, "scheduled"),
        is_admin: s.user.role == DashboardRole::Admin,
        notice: extras.notice,
        schedules,
        websites,
        destinations: destination_rows,
        form: extras.schedule_form.unwrap_or_else(ScheduleForm::fresh),
        data_types: &super::schedule_forms::DATA_TYPES,
        formats: ["csv", "json", "ndjson", "parquet"],
        schedule_error: extras.schedule_error,
        editing: extras.editing,
        types: types(
            extras.destination_kind.as_deref(),
            &extras.destination_values,
        ),
        destination_error: extras.destination_error,
        test: extras.test,
    };
    Ok(render(status, &page))
}

async fn schedule_row(
    state: &Dashboard,
    s: &Schedule,
    websites: &[(String, String)],
    destinations: &[DestinationRecord],
) -> Result<ScheduleRow, PageError> {
    let store = state.app.store.as_ref();
    let mut runs = Vec::new();
    for r in store.schedule_runs(&s.id, RUNS_SHOWN).await? {
        let status = match (&r.export_status, &r.run.error) {
            (Some(status), _) => status.clone(),
            (None, Some(_)) => "failed".into(),
            (None, None) => "queued".into(),
        };
        let delivery = match &r.run.export_id {
            Some(id) if s.destination_id.is_some() => store
                .delivery(id)
                .await?
                .map(|d| d.status.as_str().to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        runs.push(RunRow {
            window: format!("{} – {}", r.run.window.from, r.run.window.last_day()),
            trigger: r.run.trigger.as_str().to_string(),
            export_id: r.run.export_id.clone().unwrap_or_default(),
            status,
            delivery,
            error: r
                .run
                .error
                .as_ref()
                .map(|(code, message)| format!("{code}: {message}"))
                .unwrap_or_default(),
        });
    }
    let website = websites
        .iter()
        .find(|(id, _)| *id == s.website_id)
        .map_or_else(|| s.website_id.clone(), |(_, domain)| domain.clone());
    let destination = match &s.destination_id {
        None => "download link".to_string(),
        Some(id) => destinations
            .iter()
            .find(|d| d.id == *id)
            .map_or_else(|| id.clone(), label),
    };
    let next_to = s.frequency.next_boundary(s.next_from);
    Ok(ScheduleRow {
        id: s.id.clone(),
        website,
        frequency: s.frequency.as_str().to_string(),
        format: s.format.as_str().to_uppercase(),
        data_types: s
            .data_types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        destination,
        encrypted_to: s
            .encryption
            .as_ref()
            .map(|e| e.fingerprint.clone())
            .unwrap_or_default(),
        enabled: s.enabled,
        next_window: format!("{} – {}", s.next_from, next_to - chrono::Duration::days(1)),
        runs,
    })
}

/// `warehouse (s3)`, or the id when it has no name.
fn label(d: &DestinationRecord) -> String {
    format!(
        "{} ({})",
        d.name.clone().unwrap_or_else(|| d.id.clone()),
        d.kind
    )
}

fn destination_row(state: &Dashboard, d: &DestinationRecord) -> DestinationRow {
    let public: Map<String, Value> = serde_json::from_str(&d.settings).unwrap_or_default();
    // Only the names of the credentials leave the sealed box; their values stay in it.
    let secret_names: Vec<String> =
        crate::services::destinations::open(&state.app.sealer, d.account, &d.settings, &d.sealed)
            .map(|shape| shape.secrets.keys().cloned().collect())
            .unwrap_or_default();
    let mut settings: Vec<Setting> = public
        .iter()
        .filter(|(k, _)| k.as_str() != "type")
        .map(|(k, v)| {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Setting {
                key: k.clone(),
                value: shown,
                secret: false,
            }
        })
        .collect();
    settings.extend(secret_names.into_iter().map(|key| Setting {
        key,
        value: String::new(),
        secret: true,
    }));
    DestinationRow {
        id: d.id.clone(),
        name: d.name.clone().unwrap_or_default(),
        kind: d.kind.clone(),
        settings,
    }
}
