//! The default sink: the files stay in the artifact store and the client fetches them by
//! their signed links. Delivery happens at the first complete download, which the download
//! handler records.

use async_trait::async_trait;

use crate::{Delivery, DeliveryError, FileSource, PackageFile, Sink};

pub struct DownloadSink;

#[async_trait]
impl Sink for DownloadSink {
    fn method(&self) -> &'static str {
        "download"
    }

    async fn deliver(
        &self,
        _export_id: &str,
        _files: &[PackageFile],
        _source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        Ok(Delivery {
            method: self.method(),
            delivered: false,
            location: None,
        })
    }
}
