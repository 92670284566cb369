//! URLs and visitor ids of bulk rows, looked up once per key and kept in bounded maps: visits
//! cluster in time, so nearly every lookup is a hit. Session ids are computed (a keyed
//! permutation) and kept the same way.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ferry_domain::session::SessionIds;
use rusqlite::{Connection, Statement};

use crate::StoreError;

/// Entries kept per lookup map before it is cleared.
const CACHE_ENTRIES: usize = 200_000;

/// Hashes an integer key with one multiplication (Fibonacci hashing): row keys are dense and
/// need no protection from chosen collisions here.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Text by key, looked up once per key while the map stays under [`CACHE_ENTRIES`].
struct Lookup<'c> {
    stmt: Statement<'c>,
    known: HashMap<i64, Box<str>, BuildHasherDefault<KeyHasher>>,
}

impl<'c> Lookup<'c> {
    fn new(conn: &'c Connection, sql: &str) -> Result<Self, StoreError> {
        Ok(Lookup {
            stmt: conn.prepare(sql)?,
            known: HashMap::default(),
        })
    }

    fn get(&mut self, key: i64) -> Result<&str, StoreError> {
        if self.known.len() >= CACHE_ENTRIES && !self.known.contains_key(&key) {
            self.known.clear();
        }
        match self.known.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                let text: String = self.stmt.query_row([key], |r| r.get(0))?;
                Ok(e.insert(text.into_boxed_str()))
            }
        }
    }
}

/// The lookups one reader keeps across the chunks it reads.
pub(crate) struct Lookups<'c> {
    urls: Lookup<'c>,
    visitors: Lookup<'c>,
    session_ids: SessionIds,
    sessions: HashMap<i64, i64, BuildHasherDefault<KeyHasher>>,
}

impl<'c> Lookups<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Lookups {
            urls: Lookup::new(conn, "SELECT url FROM urls WHERE pk = ?1")?,
            visitors: Lookup::new(conn, "SELECT visitor_id FROM visitors WHERE pk = ?1")?,
            session_ids: super::session_ids::load(conn)?,
            sessions: HashMap::default(),
        })
    }

    /// The opaque id of the session stored under `key`.
    pub(crate) fn session(&mut self, key: i64) -> i64 {
        if self.sessions.len() >= CACHE_ENTRIES {
            self.sessions.clear();
        }
        let ids = self.session_ids;
        *self.sessions.entry(key).or_insert_with(|| ids.public(key))
    }

    pub(crate) fn url(&mut self, key: i64) -> Result<&str, StoreError> {
        self.urls.get(key)
    }

    pub(crate) fn visitor_id(&mut self, key: i64) -> Result<&str, StoreError> {
        self.visitors.get(key)
    }
}
