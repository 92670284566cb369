//! The install's key for opaque session ids, kept in the `secrets` table.

use ferry_domain::session::SessionIds;
use rusqlite::Connection;

use crate::StoreError;

pub(crate) fn load(conn: &Connection) -> Result<SessionIds, StoreError> {
    let key: Vec<u8> = conn
        .prepare_cached("SELECT value FROM secrets WHERE name = 'session_ids'")?
        .query_row([], |r| r.get(0))?;
    Ok(SessionIds::new(&key))
}
