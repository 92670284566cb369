//! Sinks that carry finished bytes to where they are wanted: the local artifact store, S3, GCS,
//! SFTP and email. Sinks know nothing of formats or rows.
//!
//! Empty until the delivery issue lands; the crate exists now so that the dependency direction
//! (`domain` <- `deliver` <- `app`) is fixed from the start.
