//! `ferry export` as a job like any other: queued through the export service, run in the
//! command's own process, leaving a job, a receipt and an audit trail that names the CLI.

use crate::cli::{one_person, run};

#[tokio::test]
async fn a_cli_export_leaves_a_job_a_receipt_and_a_trail_naming_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    one_person(d).await;
    for (format, file) in [("json", "u1.json"), ("csv", "u1.zip")] {
        let out = d.join(file);
        let args = [
            "export",
            "--user",
            "u1",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ];
        let (ok, _, err) = run(d, &args).await;
        assert!(ok && out.exists(), "{err}");
    }
    let nowhere = d.join("x.json");
    let refused = [
        "export",
        "--user",
        "nobody",
        "-o",
        nowhere.to_str().unwrap(),
    ];
    let (ok, _, err) = run(d, &refused).await;
    assert!(!ok && err.contains("subject_not_found"), "{err}");

    // Each export went through the job queue: a job, a receipt, and a trail whose
    // request entry names the CLI.
    let store = ferry_store::open("", d).await.unwrap();
    let acme = store.account_by_name("acme").await.unwrap().unwrap().id;
    let filter = ferry_store::ExportFilter {
        limit: 10,
        ..Default::default()
    };
    let jobs = store.export_jobs(acme, filter).await.unwrap().data;
    assert_eq!(jobs.len(), 2, "a refused request leaves no job");
    let stored = std::fs::read_dir(d.join("artifacts")).unwrap().count();
    assert_eq!(stored, 0, "no stored copies left behind");
    for job in &jobs {
        assert_eq!(
            (
                job.status,
                job.requested_by.as_str(),
                job.artifact.as_deref()
            ),
            (ferry_domain::job::ExportStatus::Expired, "cli", None),
            "delivered to -o, the stored copy is not kept"
        );
        let receipt = store.receipt(&job.id).await.unwrap().expect("a receipt");
        assert_eq!(receipt.delivery_method, "local");
        assert!(receipt.delivered_at.is_some(), "delivered to -o at once");
        assert_eq!(receipt.subject_email.as_deref(), Some("Ann@Example.com"));
        let trail = store
            .audit_entries(
                acme,
                ferry_store::AuditFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let steps: Vec<(&str, &str)> = trail
            .iter()
            .filter(|e| e.event.export_id.as_deref() == Some(job.id.as_str()))
            .map(|e| (e.event.actor.as_str(), e.event.action.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                ("cli", "data_export.requested"),
                ("worker", "data_export.started"),
                ("worker", "data_export.completed"),
                ("worker", "data_export.delivered"),
                ("cli", "data_export.deleted"),
            ]
        );
    }
}
