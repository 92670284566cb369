//! The story's schedules: one of `acme`'s, unseen by `other`; windows queued twice are queued
//! once; the cursor only moves forward; a job records its run once; deleting takes it out of
//! the scheduler's view.

use std::sync::Arc;

use ferry_domain::export::{DataType, Format};
use ferry_domain::queue::{JobId, JobKind, Lane, NewJob};
use ferry_domain::schedule::{
    Frequency, NewSchedule, RunTrigger, RunWindow, ScheduleChange, ScheduleRun,
};
use ferry_domain::{AccountId, Millis};
use ferry_store::Store;

use super::{date, event};

fn window_job(window: RunWindow, now: Millis) -> NewJob {
    NewJob {
        unique_key: Some(format!("schedule:sch_1:{}", window.label())),
        ..NewJob::now(
            JobKind::ScheduleRun {
                schedule_id: "sch_1".into(),
                window,
                trigger: RunTrigger::Scheduled,
            },
            Lane::Default,
            now,
        )
    }
}

pub async fn schedules(store: &Arc<dyn Store>, acme: AccountId, other: AccountId, now: Millis) {
    let new = NewSchedule {
        id: "sch_1".into(),
        website_id: "web_a".into(),
        frequency: Frequency::Daily,
        data_types: vec![DataType::Pageviews, DataType::Events],
        format: Format::Csv,
        destination_id: None,
        encryption: None,
        enabled: true,
        starts_on: date(1),
    };
    let created = store
        .create_schedule(acme, new, event("schedule.created", None), now)
        .await
        .unwrap();
    assert_eq!(
        created.next_from,
        date(1),
        "the cursor starts at the first day"
    );
    assert_eq!(created.data_types, [DataType::Pageviews, DataType::Events]);
    assert!(
        store.schedule(other, "sch_1").await.unwrap().is_none(),
        "another account's"
    );
    // An edit changes the settings, never the website, the first day or the cursor; another
    // account's edit finds nothing.
    let change = ScheduleChange {
        frequency: Frequency::Weekly,
        data_types: vec![DataType::Sessions],
        format: Format::Ndjson,
        destination_id: Some("dst_1".into()),
        encryption: None,
        enabled: false,
    };
    let theirs = store
        .update_schedule(
            other,
            "sch_1",
            change.clone(),
            event("schedule.updated", None),
        )
        .await
        .unwrap();
    assert!(theirs.is_none(), "another account's schedule is not found");
    let edited = store
        .update_schedule(acme, "sch_1", change, event("schedule.updated", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            edited.frequency.clone(),
            edited.data_types.clone(),
            edited.format
        ),
        (Frequency::Weekly, vec![DataType::Sessions], Format::Ndjson)
    );
    assert_eq!(edited.destination_id.as_deref(), Some("dst_1"));
    assert!(!edited.enabled);
    assert_eq!(
        (
            edited.website_id.as_str(),
            edited.starts_on,
            edited.next_from
        ),
        ("web_a", date(1), date(1))
    );
    let back = ScheduleChange {
        frequency: Frequency::Daily,
        data_types: vec![DataType::Pageviews, DataType::Events],
        format: Format::Csv,
        destination_id: None,
        encryption: None,
        enabled: true,
    };
    store
        .update_schedule(acme, "sch_1", back, event("schedule.updated", None))
        .await
        .unwrap()
        .unwrap();
    let windows: Vec<RunWindow> = (1..3)
        .map(|d| RunWindow {
            from: date(d),
            to: date(d + 1),
        })
        .collect();
    let jobs = || windows.iter().map(|w| window_job(*w, now)).collect();
    let first = store
        .queue_windows("sch_1", date(3), jobs(), now)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let again = store
        .queue_windows("sch_1", date(3), jobs(), now)
        .await
        .unwrap();
    assert!(again.is_empty(), "a window's key is queued once");
    store
        .queue_windows("sch_1", date(2), Vec::new(), now)
        .await
        .unwrap();
    let (_, cursor) = store.schedule_any("sch_1").await.unwrap().unwrap();
    assert_eq!(cursor.next_from, date(3), "the cursor never moves back");
    let run = ScheduleRun {
        window: windows[0],
        trigger: RunTrigger::Scheduled,
        export_id: None,
        error: Some(("unsupported".into(), "no".into())),
        created_at: now,
    };
    let columns = Some(vec!["plan".to_string(), "amount".to_string()]);
    assert!(
        store
            .record_run("sch_1", first[0], run.clone(), columns)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_run("sch_1", first[0], run.clone(), None)
            .await
            .unwrap(),
        "once per job"
    );
    assert_eq!(store.run_of_job(first[0]).await.unwrap(), Some(run.clone()));
    assert_eq!(
        store.run_of_job(JobId(first[1].0 + 100)).await.unwrap(),
        None
    );
    let listed = store.schedule_runs("sch_1", 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].run, run);
    let (_, after) = store.schedule_any("sch_1").await.unwrap().unwrap();
    assert_eq!(
        after.event_columns,
        ["plan", "amount"],
        "kept in the order given"
    );
    assert!(
        !store
            .delete_schedule(other, "sch_1", event("schedule.deleted", None))
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_schedule(acme, "sch_1", event("schedule.deleted", None))
            .await
            .unwrap()
    );
    assert!(store.active_schedules().await.unwrap().is_empty());
    assert!(store.schedules(acme).await.unwrap().is_empty());
}
