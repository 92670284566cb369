//! A `local` destination: a directory on the machine that runs the worker. Each export goes
//! into a new directory of its own, `{path}/{export_id}/`, which appears only when whole (see
//! [`crate::path`]). Nothing already there is ever replaced or deleted: a delivery whose
//! directory exists fails instead.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::path::{io_failure, place_all};
use crate::{Delivery, DeliveryError, FileSource, PackageFile, Sink};

pub struct LocalSink {
    pub dir: PathBuf,
}

#[async_trait]
impl Sink for LocalSink {
    fn method(&self) -> &'static str {
        "local"
    }

    async fn deliver(
        &self,
        export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let target = self.dir.join(export_id);
        place_all(source, files, &target)
            .await
            .map_err(|e| io_failure(&target, e))?;
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(target.display().to_string()),
        })
    }

    async fn probe(&self) -> Result<(), DeliveryError> {
        let probe = self.dir.join(".ferry-test");
        tokio::fs::write(&probe, b"Ferry checks it can write here.\n")
            .await
            .map_err(|e| io_failure(&self.dir, e))?;
        tokio::fs::remove_file(&probe)
            .await
            .map_err(|e| io_failure(&self.dir, e))
    }
}
