//! An account's request settings on SQLite: one row, or the defaults when there is none.

use chrono::NaiveDate;
use ferry_domain::AccountId;
use ferry_domain::Millis;
use ferry_domain::audit::AuditEvent;
use ferry_domain::request::{DueRule, RequestSettings};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub(super) fn get(conn: &Connection, account: AccountId) -> Result<RequestSettings, StoreError> {
    let found = conn
        .query_row(
            "SELECT due_rule, holidays, clock_runs_while_unverified, escalate_days, privacy_contact,
               require_approval, delivery_link_days, suppress_erased, privacy_page
             FROM request_settings WHERE account_pk = ?1",
            [account.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, u32>(6)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, bool>(8)?,
                ))
            },
        )
        .optional()?;
    let Some((
        rule,
        holidays,
        runs,
        escalate_days,
        privacy_contact,
        approval,
        link_days,
        suppress,
        page,
    )) = found
    else {
        return Ok(RequestSettings::default());
    };
    let holidays: Vec<NaiveDate> = serde_json::from_str(&holidays).map_err(bad)?;
    Ok(RequestSettings {
        due_rule: DueRule::parse(&rule).unwrap_or_default(),
        holidays,
        clock_runs_while_unverified: runs,
        escalate_days,
        privacy_contact,
        require_approval: approval,
        delivery_link_days: link_days,
        suppress_erased: suppress,
        privacy_page: page,
    })
}

pub(super) fn set(
    conn: &mut Connection,
    account: AccountId,
    s: &RequestSettings,
    audit: &AuditEvent,
    now: Millis,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let holidays = serde_json::to_string(&s.holidays).map_err(bad)?;
    tx.execute(
        "INSERT INTO request_settings (account_pk, due_rule, holidays,
           clock_runs_while_unverified, escalate_days, privacy_contact, updated_at,
           require_approval, delivery_link_days, suppress_erased, privacy_page)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (account_pk) DO UPDATE SET due_rule = excluded.due_rule,
           holidays = excluded.holidays,
           clock_runs_while_unverified = excluded.clock_runs_while_unverified,
           escalate_days = excluded.escalate_days, privacy_contact = excluded.privacy_contact,
           updated_at = excluded.updated_at, require_approval = excluded.require_approval,
           delivery_link_days = excluded.delivery_link_days,
           suppress_erased = excluded.suppress_erased,
           privacy_page = excluded.privacy_page",
        params![
            account.0,
            s.due_rule.as_str(),
            holidays,
            s.clock_runs_while_unverified,
            s.escalate_days,
            s.privacy_contact,
            now,
            s.require_approval,
            s.delivery_link_days,
            s.suppress_erased,
            s.privacy_page
        ],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    tx.commit()?;
    Ok(())
}
