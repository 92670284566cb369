//! Delivery to a path on this machine (`ferry export -o`): one file is written at the path
//! itself, several into a directory there. Each appears only when whole (written beside its
//! name, then renamed). A file already on the same disk is hard-linked, not copied, so a
//! 10 GB export costs no second write.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::{Delivery, DeliveryError, FileSource, PackageFile, Sink};

pub struct PathSink {
    pub target: PathBuf,
}

#[async_trait]
impl Sink for PathSink {
    fn method(&self) -> &'static str {
        "local"
    }

    async fn deliver(
        &self,
        _export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let result = match files {
            [one] => place(source, &one.name, &self.target).await,
            many => {
                let partial = self.target.with_extension("part");
                let _ = tokio::fs::remove_dir_all(&partial).await;
                let mut placed = tokio::fs::create_dir_all(&partial).await;
                for file in many {
                    if placed.is_ok() {
                        placed = place(source, &file.name, &partial.join(&file.name)).await;
                    }
                }
                match placed {
                    Ok(()) => {
                        let _ = tokio::fs::remove_dir_all(&self.target).await;
                        tokio::fs::rename(&partial, &self.target).await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        result.map_err(|e| {
            let message = format!("cannot write to {}: {e}", self.target.display());
            match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => {
                    DeliveryError::Permanent(message)
                }
                _ => DeliveryError::Transient(message),
            }
        })?;
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(self.target.display().to_string()),
        })
    }
}

async fn place(source: &dyn FileSource, name: &str, to: &Path) -> io::Result<()> {
    let partial = to.with_extension("part");
    let _ = tokio::fs::remove_file(&partial).await;
    let linked = match source.local_path(name) {
        Some(from) => tokio::fs::hard_link(&from, &partial).await.is_ok(),
        None => false,
    };
    if !linked {
        let mut reader = source.open(name).await?;
        let mut file = tokio::fs::File::create(&partial).await?;
        tokio::io::copy(&mut reader, &mut file).await?;
        file.sync_all().await?;
    }
    tokio::fs::rename(&partial, to).await
}
