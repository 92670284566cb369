//! The story's data-subject requests: a second request of the same email while one is open
//! links to it; a change from a stale copy is refused; each account sees only its own; steps,
//! audit entries and queued mails commit with the change; settings default until set.

use std::sync::Arc;

use chrono::NaiveDate;
use ferry_domain::audit::AuditEvent;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{
    DueRule, Request, RequestMail, RequestSettings, RequestStatus, RequestType, Step, Verification,
};
use ferry_domain::{AccountId, Millis};
use ferry_store::{AuditFilter, Created, RequestChange, Store, StoreError};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub(crate) fn request(id: &str, email: &str, now: Millis) -> Request {
    Request {
        id: id.into(),
        kind: RequestType::Access,
        subject_email: email.into(),
        user_id: None,
        visitor_id: None,
        subject_website_id: None,
        received_at: now,
        received_on: day("2026-03-02"),
        due_rule: DueRule::EarlierOf,
        clock_runs_while_unverified: true,
        paused_days: 0,
        extension_months: 0,
        due_on: day("2026-04-02"),
        status: RequestStatus::Received,
        assignee: None,
        notes: None,
        linked_to: None,
        external_ref: None,
        verification: Verification::default(),
        fulfilment: Default::default(),
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

fn event(action: &str, email: &str) -> AuditEvent {
    AuditEvent {
        actor: "key_1".into(),
        action: action.into(),
        subject: Some(format!("email:{email}")),
        data_types: vec![],
        status: "ok".into(),
        export_id: None,
        details: serde_json::json!({}),
        person: None,
    }
}

fn step(name: &str, at: Millis) -> Step {
    Step {
        at,
        actor: "key_1".into(),
        step: name.into(),
        details: serde_json::json!({"n": at}),
    }
}

fn received(at: Millis, email: &str) -> RequestChange {
    RequestChange {
        steps: vec![step("received", at)],
        audit: vec![event("request.received", email)],
        jobs: vec![],
    }
}

pub(crate) async fn create(
    store: &Arc<dyn Store>,
    account: AccountId,
    r: Request,
    now: Millis,
) -> Request {
    let email = r.subject_email.clone();
    match store
        .create_request(account, r, received(now, &email), now)
        .await
        .unwrap()
    {
        Created::New(r) => r,
        Created::Existing(r) => panic!("{} existed", r.id),
    }
}

pub async fn requests(store: &Arc<dyn Store>, acme: AccountId, other: AccountId, now: Millis) {
    let first = create(store, acme, request("req_1", "ann@example.com", now), now).await;
    assert_eq!(first.version, 1);
    assert_eq!(first.linked_to, None);
    let second = create(
        store,
        acme,
        request("req_2", "ann@example.com", now + 1),
        now + 1,
    )
    .await;
    assert_eq!(
        second.linked_to.as_deref(),
        Some("req_1"),
        "linked, not lost"
    );
    // The same email in another account is another person's business.
    let elsewhere = create(store, other, request("req_3", "ann@example.com", now), now).await;
    assert_eq!(elsewhere.linked_to, None);

    assert!(store.request(other, "req_1").await.unwrap().is_none());
    assert!(
        store
            .request_steps(other, "req_1")
            .await
            .unwrap()
            .is_empty()
    );
    let mine: Vec<String> = store
        .requests(acme, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(mine, ["req_1", "req_2"]);

    // A change with its step, audit entry and mail, in one transaction.
    let mut changed = first.clone();
    changed.status = RequestStatus::VerificationSent;
    changed.verification.token_hash = Some("th_1".into());
    changed.verification.code_hash = Some("ch_1".into());
    let mail = NewJob {
        unique_key: Some("request:req_1:verification:1".into()),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: "req_1".into(),
                mail: RequestMail::Verification { nonce: "n1".into() },
            },
            Lane::Default,
            now,
        )
    };
    let change = RequestChange {
        steps: vec![step("verification_sent", now + 5)],
        audit: vec![event("request.verification_sent", "ann@example.com")],
        jobs: vec![mail.clone()],
    };
    let saved = store
        .save_request(acme, changed.clone(), change, now + 5)
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.status, RequestStatus::VerificationSent);
    assert_eq!(saved.updated_at, now + 5);
    assert_eq!(
        store.enqueue(mail, now).await.unwrap(),
        None,
        "the mail was queued with the change"
    );
    let steps = store.request_steps(acme, "req_1").await.unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(names, ["received", "verification_sent"]);
    assert_eq!(steps[1].details, serde_json::json!({"n": now + 5}));
    let audited = store
        .audit_entries(
            acme,
            AuditFilter {
                action: Some("request".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audited.len(), 3, "two received, one verification_sent");

    // A stale copy (version 1) changes nothing.
    let stale = store
        .save_request(acme, changed, RequestChange::default(), now + 6)
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    // Another account's request cannot be changed.
    let theirs = store
        .save_request(other, saved.clone(), RequestChange::default(), now + 6)
        .await;
    assert!(matches!(theirs, Err(StoreError::NotFound)), "{theirs:?}");

    let (account, by_token) = store.request_by_token("th_1").await.unwrap().unwrap();
    assert_eq!((account, by_token.id.as_str()), (acme, "req_1"));
    assert!(store.request_by_token("th_x").await.unwrap().is_none());

    store
        .add_request_step(
            acme,
            "req_1",
            step("mail_sent", now + 7),
            event("request.mail_sent", "ann@example.com"),
        )
        .await
        .unwrap();
    assert_eq!(store.request_steps(acme, "req_1").await.unwrap().len(), 3);
    assert_eq!(
        store.request(acme, "req_1").await.unwrap().unwrap().version,
        2
    );

    // Once the first closes, a new request of the same email links to the next open one.
    let mut cancelled = saved;
    cancelled.status = RequestStatus::Cancelled;
    store
        .save_request(acme, cancelled, RequestChange::default(), now + 8)
        .await
        .unwrap();
    let third = create(
        store,
        acme,
        request("req_4", "ann@example.com", now + 9),
        now + 9,
    )
    .await;
    assert_eq!(third.linked_to.as_deref(), Some("req_2"));
    let awaiting: Vec<String> = store
        .requests_awaiting_answer()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.id)
        .collect();
    assert_eq!(awaiting, ["req_2", "req_3", "req_4"]);
    let cancelled_only = store
        .requests(acme, Some(RequestStatus::Cancelled))
        .await
        .unwrap();
    assert_eq!(cancelled_only.len(), 1);

    // An external reference is taken once per account.
    let mut imported = request("req_5", "bob@example.com", now);
    imported.external_ref = Some("ticket-9".into());
    create(store, acme, imported.clone(), now).await;
    imported.id = "req_6".into();
    let again = store
        .create_request(acme, imported, received(now, "bob@example.com"), now)
        .await
        .unwrap();
    assert!(
        matches!(again, Created::Existing(ref r) if r.id == "req_5"),
        "{again:?}"
    );

    // Settings: the defaults until set, then exactly what was set, per account.
    assert_eq!(
        store.request_settings(acme).await.unwrap(),
        RequestSettings::default()
    );
    let set = RequestSettings {
        due_rule: DueRule::CalendarMonth,
        holidays: vec![day("2026-12-25"), day("2026-12-26")],
        clock_runs_while_unverified: false,
        escalate_days: 3,
        privacy_contact: Some("dpo@example.com".into()),
        require_approval: true,
        delivery_link_days: 3,
        suppress_erased: true,
        privacy_page: false,
    };
    store
        .set_request_settings(
            acme,
            set.clone(),
            event("request.settings_changed", "-"),
            now,
        )
        .await
        .unwrap();
    assert_eq!(store.request_settings(acme).await.unwrap(), set);
    assert_eq!(
        store.request_settings(other).await.unwrap(),
        RequestSettings::default()
    );
}
