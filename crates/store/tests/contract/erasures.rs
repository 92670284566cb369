//! The story's erasure: a person on `web_a` is deleted once (a second run returns the same
//! record and deletes nothing), another account cannot reach the request, nothing of them
//! remains, the account's suppression drops their later lines, and the scrub replaces them in
//! the audit trail by digests while the chain still verifies.

use std::sync::Arc;

use ferry_domain::audit::AuditEvent;
use ferry_domain::erasure::ErasurePhase;
use ferry_domain::request::{RequestSettings, RequestType};
use ferry_domain::{AccountId, Identify, IngestLine, Millis};
use ferry_store::{AuditFilter, Store, StoreError};

use super::requests::{create, request};
use super::{at_ten, pageview};

pub async fn erasures(store: &Arc<dyn Store>, acme: AccountId, other: AccountId, now: Millis) {
    let email = "erin@example.com";
    let identify = IngestLine::Identify(Identify {
        website_id: "web_a".into(),
        visitor_id: "v-erin".into(),
        user_id: "u-erin".into(),
        email: Some(email.into()),
        name: None,
        properties: Default::default(),
        created_at: None,
        trust: ferry_domain::LinkTrust::Keyed,
    });
    let lines = vec![
        identify,
        pageview("web_a", "v-erin", at_ten(1), "/a"),
        pageview("web_a", "v-erin", at_ten(2), "/b"),
    ];
    store.ingest(Some(acme), lines, now).await.unwrap();
    let settings = RequestSettings {
        suppress_erased: true,
        ..store.request_settings(acme).await.unwrap()
    };
    let change = AuditEvent {
        actor: "key_story".into(),
        action: "request.settings_changed".into(),
        subject: None,
        data_types: Vec::new(),
        status: "ok".into(),
        export_id: None,
        details: serde_json::json!({}),
        person: None,
    };
    store
        .set_request_settings(acme, settings, change, now)
        .await
        .unwrap();
    let mut r = request("req_erin", email, now);
    r.kind = RequestType::Erasure;
    let r = create(store, acme, r, now).await;

    let other_try = store.erase_rows(other, &r.id, email, Vec::new(), now).await;
    assert!(
        matches!(other_try, Err(StoreError::NotFound)),
        "{other_try:?}"
    );
    let first = store
        .erase_rows(acme, &r.id, email, Vec::new(), now)
        .await
        .unwrap();
    assert_eq!(first.phase, Some(ErasurePhase::RowsDeleted));
    assert_eq!(
        (
            first.counts.pageviews,
            first.counts.sessions,
            first.counts.visitors,
            first.counts.profiles
        ),
        (2, 1, 1, 1)
    );
    let person = first.person.clone().unwrap();
    assert_eq!(
        (person.user_ids.as_slice(), person.visitor_ids.as_slice()),
        (&["u-erin".to_string()][..], &["v-erin".to_string()][..])
    );
    let again = store
        .erase_rows(acme, &r.id, email, Vec::new(), now)
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "a second run deletes nothing and reports the same"
    );
    let left = store.erasure_remaining(acme, &r.id).await.unwrap();
    assert!(left.is_nothing(), "{left:?}");

    // Suppressed: their visitor's next page view is taken and dropped.
    let outcome = store
        .ingest(
            Some(acme),
            vec![pageview("web_a", "v-erin", at_ten(9), "/c")],
            now,
        )
        .await
        .unwrap();
    assert!(outcome.iter().all(Result::is_ok));
    assert!(
        store
            .erasure_remaining(acme, &r.id)
            .await
            .unwrap()
            .is_nothing()
    );

    let files = store.erase_exports(acme, &r.id, 0, 0, now).await.unwrap();
    assert_eq!(files.phase, Some(ErasurePhase::ArtifactsDeleted));
    let audited = store
        .audit(
            acme,
            AuditEvent {
                subject: Some(format!("email:{email}")),
                person: Some("user_id:u-erin".into()),
                ..super::event("data_export.requested", None)
            },
        )
        .await
        .unwrap();
    let scrubbed = store
        .scrub_erasure(acme, &r.id, "erased:digest", now)
        .await
        .unwrap();
    assert!(scrubbed >= 1, "{scrubbed}");
    let entries = store
        .audit_entries(
            acme,
            AuditFilter {
                after: Some(audited.seq - 1),
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let entry = entries.iter().find(|e| e.seq == audited.seq).unwrap();
    assert!(entry.pseudonymised);
    assert_eq!(
        entry.event.subject.as_deref(),
        Some(ferry_domain::audit::subject_digest(&format!("email:{email}")).as_str())
    );
    assert_eq!(entry.expected_hash().as_deref(), Some(entry.hash.as_str()));
    assert!(store.audit_verify(None).await.unwrap().broken.is_none());
    let scrubbed_request = store.request(acme, &r.id).await.unwrap().unwrap();
    assert_eq!(scrubbed_request.subject_email, "erased:digest");
    assert_eq!(
        store.erasure(acme, &r.id).await.unwrap().unwrap().person,
        None,
        "the identifiers are gone once scrubbed"
    );
}
