//! Black-box tests: the real router on a random loopback port (`helpers::spawn_app`), or the
//! real `ferry` binary (`cli`). One test binary, so the suite links once.

mod analytics;
mod audit_checkpoint;
mod audit_people;
mod bulk_exports;
mod cli;
mod cli_export_jobs;
mod delivery;
mod delivery_more;
mod destinations;
mod encrypted_parts;
mod encryption;
mod errors;
mod export_cli;
mod export_jobs;
mod exports;
mod helpers;
mod identify;
mod ingest;
mod keys_and_websites;
mod limits;
mod one_time;
mod output;
mod overload;
mod rollups;
mod schedule_delivery;
mod schedules;
mod segments;
mod sessions;
mod stored_keys;
mod stored_keys_more;
mod sweep;
mod users;
mod wide_properties;
mod worker;
