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

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use super::*;

    struct Dir(PathBuf);

    #[async_trait]
    impl FileSource for Dir {
        async fn open(
            &self,
            name: &str,
        ) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
            Ok(Box::new(tokio::fs::File::open(self.0.join(name)).await?))
        }

        fn local_path(&self, _name: &str) -> Option<PathBuf> {
            None
        }
    }

    #[tokio::test]
    async fn a_second_delivery_of_one_export_fails_and_leaves_the_first_untouched() {
        let source = tempfile::tempdir().unwrap();
        std::fs::write(source.path().join("a.json"), "first").unwrap();
        let files = [PackageFile {
            name: "a.json".into(),
            bytes: 5,
            sha256: String::new(),
        }];
        let out = tempfile::tempdir().unwrap();
        let sink = LocalSink {
            dir: out.path().to_path_buf(),
        };
        let from = Dir(source.path().to_path_buf());
        let done = sink.deliver("exp_1", &files, &from).await.unwrap();
        assert!(done.delivered);
        std::fs::write(source.path().join("a.json"), "other").unwrap();
        let again = sink.deliver("exp_1", &files, &from).await;
        assert!(
            matches!(again, Err(DeliveryError::Permanent(_))),
            "{again:?}"
        );
        assert_eq!(
            std::fs::read_to_string(out.path().join("exp_1/a.json")).unwrap(),
            "first"
        );
        sink.probe().await.unwrap();
        assert!(!out.path().join(".ferry-test").exists());
    }
}
