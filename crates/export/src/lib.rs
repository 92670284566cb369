//! The export stages between the store and a sink, each over `std::io::Write`:
//! writers (JSON, CSV, NDJSON, Parquet), the ZIP packager and the OpenPGP encryptor.
//!
//! Empty until the per-person export issue lands; the crate exists now so that the dependency
//! direction (`domain` <- `export` <- `app`, never `store` or `deliver`) is fixed from the start.
