//! An export job as the API shows it: status, progress with its estimate, the files and
//! their signed links.

use chrono::Utc;
use ferry_domain::job::{ExportJob, ExportStatus};
use serde_json::{Value, json};

use crate::startup::AppState;

/// The job as the API shows it.
pub fn view(
    state: &AppState,
    job: &ExportJob,
    downloads: Option<Vec<ferry_domain::job::DownloadRecord>>,
) -> Value {
    let now = chrono::DateTime::from_timestamp_millis(state.clock.now()).unwrap_or_else(Utc::now);
    let live = job.status == ExportStatus::Completed
        && job.expires_at.is_some_and(|t| t > now)
        && !(job.spec.one_time && job.consumed_at.is_some());
    let expires = job.expires_at.map_or(0, |t| t.timestamp_millis());
    let link = |file: usize| {
        format!(
            "{}/download/{}",
            state.public_url,
            state.links.sign(&job.id, file, expires)
        )
    };
    let files: Vec<Value> = job
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut v = json!({"name": f.name, "bytes": f.bytes, "sha256": f.sha256});
            if live && job.files.len() > 1 {
                v["download_url"] = json!(link(i));
            }
            v
        })
        .collect();
    let status = match job.status {
        ExportStatus::Completed if job.expires_at.is_some_and(|t| t <= now) => {
            ExportStatus::Expired
        }
        other => other,
    };
    let mut view = json!({
        "export_id": job.id,
        "kind": job.spec.kind(),
        "status": status.as_str(),
        "subject": job.spec.subject,
        "format": job.spec.format,
        "include": job.spec.data_types,
        "date_range": {"start": job.spec.range.start, "end": job.spec.range.end},
        "website_id": job.spec.website_id,
        "part_size": job.spec.is_bulk().then(|| job.spec.part_size.unwrap_or(ferry_domain::job::DEFAULT_PART_SIZE)),
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "progress": progress(job, now),
        "files": files,
        "download_url": live.then(|| link(0)),
        "expires_at": job.expires_at,
        "one_time": job.spec.one_time,
        "error": job.error.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
    });
    if let Some(encryption) = &job.spec.encryption {
        view["encrypted_to"] = json!(encryption.fingerprint);
    }
    // Lists leave the download log out; one export's view has it.
    if let Some(downloads) = downloads {
        view["downloads"] = json!(downloads);
    }
    view
}

/// Rows and bytes so far; with the row total known, the percent done and the seconds left at
/// the pace so far.
fn progress(job: &ExportJob, now: chrono::DateTime<Utc>) -> Value {
    let mut p = json!({
        "rows": job.rows_written,
        "bytes": job.bytes_written,
        "rows_total": job.rows_total,
        "percent": null,
        "eta_seconds": null,
    });
    match job.status {
        ExportStatus::Completed => p["percent"] = json!(100.0),
        ExportStatus::Running => {
            if let Some(total) = job.rows_total.filter(|t| *t > 0) {
                let done = (job.rows_written as f64 / total as f64).min(0.999);
                p["percent"] = json!((done * 1000.0).round() / 10.0);
                let elapsed = job
                    .started_at
                    .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                if let Some(elapsed) = elapsed.filter(|_| done > 0.0) {
                    p["eta_seconds"] = json!((elapsed * (1.0 - done) / done).ceil() as u64);
                }
            }
        }
        _ => {}
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_domain::export::{DataType, ExportRange, Format};
    use ferry_domain::job::ExportSpec;

    fn running(rows: u64, total: Option<u64>, started_secs_ago: i64) -> ExportJob {
        let now = Utc::now();
        ExportJob {
            id: "exp_1".into(),
            spec: ExportSpec {
                subject: None,
                website_id: Some("web_1".into()),
                data_types: vec![DataType::Pageviews],
                format: Format::Csv,
                range: ExportRange::default(),
                zip: true,
                one_time: false,
                expires_in: 60,
                part_size: None,
                keep_formulas: false,
                person: None,
                encryption: None,
                event_columns: None,
            },
            requested_by: "key_1".into(),
            status: ExportStatus::Running,
            attempts: 1,
            rows_written: rows,
            bytes_written: rows * 100,
            error: None,
            files: Vec::new(),
            artifact: None,
            rows_total: total,
            created_at: now,
            started_at: Some(now - chrono::Duration::seconds(started_secs_ago)),
            finished_at: None,
            expires_at: None,
            consumed_at: None,
            queue_job: None,
        }
    }

    #[test]
    fn progress_estimates_percent_and_time_left_from_the_pace_so_far() {
        let p = progress(&running(250, Some(1000), 10), Utc::now());
        assert_eq!(p["percent"], 25.0);
        assert_eq!(p["eta_seconds"], 30);
        let unknown = progress(&running(250, None, 10), Utc::now());
        assert_eq!(unknown["percent"], Value::Null);
        assert_eq!(unknown["eta_seconds"], Value::Null);
        let counted_short = progress(&running(1200, Some(1000), 10), Utc::now());
        assert_eq!(counted_short["percent"], 99.9, "never 100 before the end");
    }
}
