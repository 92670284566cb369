//! Plan limits and per-account overrides. In the tables NULL means "no limit" for a plan and
//! "follow the plan" for an account, where -1 is "no limit".

use ferry_domain::{AccountId, LimitSetting, Limits, Plan};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use crate::StoreError;

/// An account's limits: its overrides where set, else its plan's.
pub(crate) fn effective(conn: &Connection, account: AccountId) -> Result<Limits, StoreError> {
    let row = conn
        .query_row(
            "SELECT a.exports_per_day, a.max_export_bytes, p.exports_per_day, p.max_export_bytes
             FROM accounts a LEFT JOIN plan_limits p ON p.plan = a.plan WHERE a.pk = ?1",
            [account.0],
            |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let pick = |own: Option<i64>, plan: Option<i64>| match own {
        Some(-1) => None,
        Some(v) => Some(v),
        None => plan,
    };
    Ok(Limits {
        exports_per_day: pick(row.0, row.2).map(|v| v.clamp(0, u32::MAX as i64) as u32),
        max_export_bytes: pick(row.1, row.3).map(|v| v.max(0) as u64),
        bytes_set_for_account: row.1.is_some(),
    })
}

fn stored<T: Into<i64>>(setting: LimitSetting<T>) -> Option<i64> {
    match setting {
        LimitSetting::Plan => None,
        LimitSetting::Unlimited => Some(-1),
        LimitSetting::Limited(v) => Some(v.into()),
    }
}

/// Sets the overrides given (`None`: leave as is).
pub(crate) fn set_account(
    conn: &Connection,
    account: AccountId,
    exports_per_day: Option<LimitSetting<u32>>,
    max_export_bytes: Option<LimitSetting<u64>>,
) -> Result<(), StoreError> {
    let bytes = max_export_bytes.map(|s| match s {
        LimitSetting::Limited(v) => LimitSetting::Limited(v.min(i64::MAX as u64) as i64),
        LimitSetting::Plan => LimitSetting::Plan,
        LimitSetting::Unlimited => LimitSetting::Unlimited,
    });
    if let Some(setting) = exports_per_day {
        conn.execute(
            "UPDATE accounts SET exports_per_day = ?2 WHERE pk = ?1",
            params![account.0, stored(setting)],
        )?;
    }
    if let Some(setting) = bytes {
        conn.execute(
            "UPDATE accounts SET max_export_bytes = ?2 WHERE pk = ?1",
            params![account.0, stored(setting)],
        )?;
    }
    Ok(())
}

pub(crate) fn set_plan(conn: &Connection, plan: Plan, limits: Limits) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO plan_limits (plan, exports_per_day, max_export_bytes) VALUES (?1, ?2, ?3)
         ON CONFLICT (plan) DO UPDATE SET exports_per_day = ?2, max_export_bytes = ?3",
        params![
            plan.as_str(),
            limits.exports_per_day,
            limits
                .max_export_bytes
                .map(|v| v.min(i64::MAX as u64) as i64)
        ],
    )?;
    Ok(())
}

pub(crate) fn plans(conn: &Connection) -> Result<Vec<(Plan, Limits)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT plan, exports_per_day, max_export_bytes FROM plan_limits ORDER BY
         CASE plan WHEN 'pro' THEN 0 WHEN 'scale' THEN 1 ELSE 2 END",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Limits {
                exports_per_day: r.get(1)?,
                max_export_bytes: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                bytes_set_for_account: false,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (plan, limits) = row?;
        if let Ok(plan) = plan.parse() {
            out.push((plan, limits));
        }
    }
    Ok(out)
}

#[async_trait::async_trait]
impl crate::Limits for SqliteStore {
    async fn limits(&self, account: AccountId) -> Result<Limits, StoreError> {
        self.pool.read(move |c| effective(c, account)).await
    }

    async fn set_account_limits(
        &self,
        account: AccountId,
        exports_per_day: Option<LimitSetting<u32>>,
        max_export_bytes: Option<LimitSetting<u64>>,
    ) -> Result<(), StoreError> {
        self.pool
            .write(move |c| set_account(c, account, exports_per_day, max_export_bytes))
            .await
    }

    async fn set_plan_limits(&self, plan: Plan, new: Limits) -> Result<(), StoreError> {
        self.pool.write(move |c| set_plan(c, plan, new)).await
    }

    async fn plan_limits(&self) -> Result<Vec<(Plan, Limits)>, StoreError> {
        self.pool.read(plans).await
    }
}
