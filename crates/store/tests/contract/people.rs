//! The story's audit trail asked "every entry about this person": entries record the
//! identifier each request used (`subject`) and whom it resolved to (`person`); a filter by
//! any identifier of the person finds them all, in the caller's account only.

use std::sync::Arc;

use ferry_domain::audit::AuditEvent;
use ferry_domain::{AccountId, Identify, IngestLine};
use ferry_store::{AuditFilter, Store};

use super::{DAY, day, event};

fn about(subject: &str, person: Option<&str>) -> AuditEvent {
    AuditEvent {
        subject: Some(subject.into()),
        person: person.map(str::to_string),
        ..event("data_export.requested", Some("exp_people"))
    }
}

/// In `acme`, u1 (ann@example.com, visitor v1) and the anonymous v2 exist since `ingest`. In
/// `other`, u9 carries the same email, linked to v9 after an entry named v9 alone.
pub async fn audit_people(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) {
    let append = |account, subject: &str, person: Option<&str>| {
        let entry = about(subject, person);
        async move { store.audit(account, entry).await.unwrap().seq }
    };
    let by_id = append(acme, "user_id:u1", Some("user_id:u1")).await;
    let by_email = append(acme, "email:ANN@Example.com", Some("user_id:u1")).await;
    let anonymous = append(acme, "visitor_id:v2", Some("visitor_id:v2")).await;
    // Written before persons were recorded: found by its subject alone, in any case.
    let legacy = append(acme, "email:ANN@example.COM", None).await;
    // Asked by an address u1 no longer has: found through the person it resolved to.
    let former = append(acme, "email:old@example.com", Some("user_id:u1")).await;
    let bulk = append(acme, "website:web_a", None).await;
    // u9 is another account's user: nothing of acme's is about them.
    let stray = append(acme, "user_id:u9", None).await;
    let theirs_anonymous = append(other, "visitor_id:v9", Some("visitor_id:v9")).await;
    let theirs = append(other, "user_id:u9", Some("user_id:u9")).await;
    let identify = IngestLine::Identify(Identify {
        website_id: "web_o".into(),
        visitor_id: "v9".into(),
        user_id: "u9".into(),
        email: Some("Ann@Example.com".into()),
        name: None,
        properties: Default::default(),
        created_at: None,
        trust: ferry_domain::LinkTrust::Keyed,
    });
    let outcome = store.ingest(Some(other), vec![identify], day() + 2 * DAY);
    assert!(outcome.await.unwrap()[0].is_ok());

    let seqs = |account, subject: &str| {
        let filter = AuditFilter {
            subject: Some(subject.into()),
            after: Some(by_id - 1),
            limit: 100,
            ..Default::default()
        };
        async move {
            let entries = store.audit_entries(account, filter).await.unwrap();
            entries.iter().map(|e| e.seq).collect::<Vec<_>>()
        }
    };
    let u1 = [by_id, by_email, legacy, former];
    for name in [
        "u1",
        "user_id:u1",
        "ann@example.com",
        "ANN@EXAMPLE.COM",
        "email:Ann@example.com",
        "v1",
        "visitor_id:v1",
    ] {
        assert_eq!(seqs(acme, name).await, u1, "{name}");
    }
    assert_eq!(
        seqs(acme, "OLD@example.com").await,
        u1,
        "an address u1 no longer has finds them through the person it named"
    );
    assert_eq!(seqs(acme, "v2").await, [anonymous]);
    assert_eq!(seqs(acme, "visitor_id:v2").await, [anonymous]);
    assert_eq!(seqs(acme, "website:web_a").await, [bulk]);
    assert_eq!(
        seqs(acme, "u9").await,
        [stray],
        "its own entry, nothing of other's"
    );
    for wildcard in ["%", "_", "u_", "%@example.com", "user_id:%", "*", "'"] {
        assert!(seqs(acme, wildcard).await.is_empty(), "{wildcard}");
    }
    assert!(seqs(acme, "nobody").await.is_empty());
    assert!(seqs(acme, "").await.is_empty());

    let linked_later = [theirs_anonymous, theirs];
    for name in ["u9", "ann@example.com", "v9"] {
        assert_eq!(seqs(other, name).await, linked_later, "{name}");
    }
    assert!(seqs(other, "u1").await.is_empty(), "acme's person");

    let listed = store
        .audit_entries(
            acme,
            AuditFilter {
                subject: Some("u1".into()),
                after: Some(by_email - 1),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].event,
        about("email:ANN@Example.com", Some("user_id:u1"))
    );

    let chain = store.audit_verify(None).await.unwrap();
    assert_eq!(
        (chain.count, chain.broken),
        (13, None),
        "entries with and without a person"
    );
    let wildcard_action = AuditFilter {
        action: Some("data%".into()),
        limit: 100,
        ..Default::default()
    };
    let matched = store.audit_entries(acme, wildcard_action).await.unwrap();
    assert!(matched.is_empty(), "an action filter has no wildcards");
}
