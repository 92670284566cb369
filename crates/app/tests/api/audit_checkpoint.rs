//! Checkpoints anchor the audit chain outside the database: the real `ferry` binary signs the
//! head of a real data directory, then the database is tampered with as someone with write
//! access to it could, and `ferry audit verify --checkpoint` must say which entry broke and how.

use std::path::{Path, PathBuf};

use ferry_domain::audit::{AuditEvent, GENESIS, pseudonymous_entry_hash};
use reqwest::StatusCode;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::cli::run;
use crate::helpers::{TestApp, spawn_app};

/// Entries 1–3 and 5 are acme's, 4 is globex's: five `api_key.created` entries. Returns
/// globex's admin key.
async fn five_entries(app: &TestApp) -> String {
    let (globex, _) = app.other_account().await;
    for key in [
        &app.admin_key,
        &app.admin_key,
        &app.admin_key,
        &globex,
        &app.admin_key,
    ] {
        let response = app
            .client
            .post(app.api("/keys"))
            .header("X-API-Key", key)
            .json(&json!({"name": "k", "scopes": ["analytics:read"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    globex
}

/// `ferry audit checkpoint -o FILE` in the app's data directory.
async fn checkpoint(data_dir: &Path) -> (PathBuf, Value) {
    let file = data_dir.join(format!("checkpoint-{}.json", rand_suffix()));
    let (ok, out, err) = run(
        data_dir,
        &["audit", "checkpoint", "-o", file.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{out}{err}");
    let body: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    (file, body)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `ferry audit verify --checkpoint FILE [more]`: (success, stdout + stderr).
async fn verify_with(data_dir: &Path, file: &Path, more: &[&str]) -> (bool, String) {
    let mut args = vec!["audit", "verify", "--checkpoint", file.to_str().unwrap()];
    args.extend_from_slice(more);
    let (ok, out, err) = run(data_dir, &args).await;
    (ok, format!("{out}{err}"))
}

async fn verify_plain(data_dir: &Path) -> (bool, String) {
    let (ok, out, err) = run(data_dir, &["audit", "verify"]).await;
    (ok, format!("{out}{err}"))
}

fn db(app: &TestApp) -> Connection {
    Connection::open(app.data_dir().join("ferry.db")).unwrap()
}

/// What an attacker with the database does after an edit: recomputes every hash from the
/// first entry on, as Ferry would have written them, so the chain alone checks out again.
fn recompute_chain(db: &Connection) {
    let mut stmt = db
        .prepare(
            "SELECT seq, at, actor, action, subject, data_types, status, export_id, details, person,
                    coalesce((SELECT name FROM accounts WHERE pk = account_pk), '')
             FROM audit_log ORDER BY seq",
        )
        .unwrap();
    let rows: Vec<(i64, i64, AuditEvent, String)> = stmt
        .query_map([], |r| {
            let data_types: String = r.get(5)?;
            let details: String = r.get(8)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                AuditEvent {
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    data_types: data_types
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    status: r.get(6)?,
                    export_id: r.get(7)?,
                    details: serde_json::from_str(&details).unwrap(),
                    person: r.get(9)?,
                },
                r.get(10)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = GENESIS.to_string();
    for (seq, at, event, account) in rows {
        let hash = pseudonymous_entry_hash(&prev, seq, at, &account, &event, false);
        db.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            params![seq, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}

#[tokio::test]
async fn an_untouched_trail_verifies_against_a_checkpoint_signed_by_the_published_key() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, signed) = checkpoint(app.data_dir()).await;
    assert_eq!(signed["format"], "ferry-audit-checkpoint/1");
    assert_eq!(signed["seq"], 5);

    // The published key, fetched without any API key, is the one that signed.
    let published = app
        .client
        .get(app.url("/.well-known/ferry-audit-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), StatusCode::OK);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["algorithm"], "Ed25519");
    assert_eq!(published["public_key"], signed["public_key"]);
    let key_file = app.data_dir().join("published-key.json");
    std::fs::write(&key_file, published.to_string()).unwrap();

    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(
        ok && out.contains("entries 1 to 5 are those the checkpoint"),
        "{out}"
    );
    let outside = ["--public-key", key_file.to_str().unwrap()];
    let (ok, out) = verify_with(app.data_dir(), &file, &outside).await;
    assert!(ok, "with the key fetched from the server: {out}");
    let hex = published["public_key"].as_str().unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &["--public-key", hex]).await;
    assert!(ok, "with the key as hex: {out}");

    // Entries after the checkpoint are fine; the next checkpoint covers them, with the same key.
    app.key_with("ingest").await;
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(ok, "{out}");
    let (later, next) = checkpoint(app.data_dir()).await;
    assert_eq!(next["seq"], 6);
    assert_eq!(next["public_key"], signed["public_key"]);
    assert!(verify_with(app.data_dir(), &later, &[]).await.0);

    // Without -o the checkpoint goes to stdout.
    let (ok, out, err) = run(app.data_dir(), &["audit", "checkpoint"]).await;
    assert!(ok, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["seq"], 6);
}

#[tokio::test]
async fn an_edited_entry_is_named_and_recomputing_the_chain_does_not_hide_it() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, _) = checkpoint(app.data_dir()).await;
    let db = db(&app);
    db.execute(
        "UPDATE audit_log SET details = '{\"key_id\":\"key_forged\"}' WHERE seq = 2",
        [],
    )
    .unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(!ok && out.contains("entry 2: entry 2 was edited"), "{out}");

    recompute_chain(&db);
    let (ok, out) = verify_plain(app.data_dir()).await;
    assert!(ok, "the chain alone cannot tell: {out}");
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(
        !ok && out.contains("entry 5 has hash") && out.contains("entries 1 to 5 were rewritten"),
        "{out}"
    );
    let (ok, out, _) = run(app.data_dir(), &["audit", "checkpoint"]).await;
    assert!(
        ok,
        "a new checkpoint of a rewritten trail cannot be told apart: {out}"
    );
}

#[tokio::test]
async fn a_removed_entry_is_named() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, _) = checkpoint(app.data_dir()).await;
    db(&app)
        .execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(!ok && out.contains("entry 3: entry 3 was removed"), "{out}");
    // Signing now would vouch for the removal.
    let (ok, out, err) = run(app.data_dir(), &["audit", "checkpoint"]).await;
    assert!(
        !ok && out.is_empty() && err.contains("refusing to sign: audit trail broken at entry 3"),
        "{out}{err}"
    );
}

#[tokio::test]
async fn newest_entries_cut_with_the_counter_lowered_are_caught_by_the_checkpoint() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, _) = checkpoint(app.data_dir()).await;
    let db = db(&app);
    db.execute("DELETE FROM audit_log WHERE seq > 3", [])
        .unwrap();
    db.execute(
        "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit_log'",
        [],
    )
    .unwrap();
    let (ok, out) = verify_plain(app.data_dir()).await;
    assert!(ok, "the chain alone cannot tell: {out}");
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(
        !ok && out.contains("entry 5 is missing")
            && out.contains("the trail ends at entry 3")
            && out.contains("entries 4 to 5 were cut"),
        "{out}"
    );
}

#[tokio::test]
async fn an_entry_moved_to_another_account_breaks_the_chain() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, _) = checkpoint(app.data_dir()).await;
    // Entry 4 is globex's; filed under acme, acme's trail would show globex's key.
    db(&app)
        .execute(
            "UPDATE audit_log SET account_pk = (SELECT pk FROM accounts WHERE name = 'acme') WHERE seq = 4",
            [],
        )
        .unwrap();
    let (ok, out) = verify_plain(app.data_dir()).await;
    assert!(
        !ok && out.contains("entry 4 was edited or moved to another account"),
        "{out}"
    );
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(
        !ok && out.contains("entry 4: entry 4 was edited or moved"),
        "{out}"
    );
}

#[tokio::test]
async fn a_forged_checkpoint_is_refused() {
    let app = spawn_app().await;
    five_entries(&app).await;
    let (file, signed) = checkpoint(app.data_dir()).await;

    // The seq lowered in the file, to hide a cut: the signature no longer matches.
    let mut altered = signed.clone();
    altered["seq"] = json!(3);
    std::fs::write(&file, altered.to_string()).unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(!ok && out.contains("altered after it was signed"), "{out}");

    // Signed by another Ferry's key: refused, whether it names that key or ours.
    let elsewhere = tempfile::tempdir().unwrap();
    assert!(run(elsewhere.path(), &["accounts", "create", "x"]).await.0);
    let (_, foreign) = checkpoint(elsewhere.path()).await;
    std::fs::write(&file, foreign.to_string()).unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(!ok && out.contains("not by the trusted key"), "{out}");
    let mut claims_ours = foreign.clone();
    claims_ours["public_key"] = signed["public_key"].clone();
    std::fs::write(&file, claims_ours.to_string()).unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(!ok && out.contains("altered after it was signed"), "{out}");

    // A data directory without a key of its own needs the key named.
    let keyless = tempfile::tempdir().unwrap();
    assert!(run(keyless.path(), &["accounts", "create", "y"]).await.0);
    let (ok, out) = verify_with(keyless.path(), &file, &[]).await;
    assert!(
        !ok && out.contains("holds no audit signing key: pass"),
        "{out}"
    );

    // A file that is no checkpoint at all says what it wants.
    std::fs::write(&file, "{}").unwrap();
    let (ok, out) = verify_with(app.data_dir(), &file, &[]).await;
    assert!(
        !ok && out.contains("is not a Ferry audit checkpoint"),
        "{out}"
    );
}

/// Each entry the API lists carries everything needed to recompute its hash, the account's
/// name included, for each account.
#[tokio::test]
async fn every_entry_of_the_api_view_recomputes_to_its_hash_in_each_account() {
    let app = spawn_app().await;
    let globex = five_entries(&app).await;
    for (key, account, count) in [(&app.admin_key, "acme", 4), (&globex, "globex", 1)] {
        let trail = app.get_with(key, &app.api("/audit")).await;
        let trail: Value = trail.json().await.unwrap();
        let entries = trail["data"].as_array().unwrap();
        assert_eq!(entries.len(), count, "{trail}");
        for e in entries {
            assert_eq!(e["account"], account);
            assert_eq!(e["hash_version"], 3);
            let at: chrono::DateTime<chrono::Utc> = e["at"].as_str().unwrap().parse().unwrap();
            let text = |f: &str| e[f].as_str().map(str::to_string);
            let event = AuditEvent {
                actor: text("actor").unwrap(),
                action: text("action").unwrap(),
                subject: text("subject"),
                data_types: serde_json::from_value(e["data_types"].clone()).unwrap(),
                status: text("status").unwrap(),
                export_id: text("export_id"),
                details: e["details"].clone(),
                person: text("person"),
            };
            let seq = e["seq"].as_i64().unwrap();
            let prev = e["prev_hash"].as_str().unwrap();
            let pseudonymised = e["pseudonymised"].as_bool().unwrap_or(false);
            let hash = pseudonymous_entry_hash(
                prev,
                seq,
                at.timestamp_millis(),
                account,
                &event,
                pseudonymised,
            );
            assert_eq!(e["hash"], hash.as_str(), "{e}");
        }
    }
    let (ok, out) = verify_plain(app.data_dir()).await;
    assert!(ok, "{out}");
}
