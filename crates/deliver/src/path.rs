//! Delivery to a path on this machine (`ferry export -o`): one file is written at the path
//! itself, several into a new directory there. Each appears only when whole (written beside
//! its name as `NAME.part`, then renamed). A file already on the same disk is hard-linked, not
//! copied, so a 10 GB export costs no second write. An existing file at the path is replaced;
//! an existing directory is never deleted or merged into (the delivery fails instead).

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
            many => place_all(source, many, &self.target).await,
        };
        result.map_err(|e| io_failure(&self.target, e))?;
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(self.target.display().to_string()),
        })
    }
}

/// A write that failed at `target`: missing, forbidden or taken paths cannot get better by
/// retrying; anything else (a full disk) may.
pub(crate) fn io_failure(target: &Path, e: io::Error) -> DeliveryError {
    let message = format!("cannot write to {}: {e}", target.display());
    match e.kind() {
        io::ErrorKind::NotFound
        | io::ErrorKind::PermissionDenied
        | io::ErrorKind::InvalidInput
        | io::ErrorKind::DirectoryNotEmpty
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::AlreadyExists => DeliveryError::Permanent(message),
        _ => DeliveryError::Transient(message),
    }
}

/// `NAME.part` beside `to`; a path without a name of its own (`.`, `..`, `/`) is refused.
fn partial_of(to: &Path) -> io::Result<PathBuf> {
    let name = to.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file or directory of its own",
        )
    })?;
    let mut partial = name.to_os_string();
    partial.push(".part");
    Ok(to.with_file_name(partial))
}

/// Several files into a new directory `to`, which must not exist yet (or be empty).
pub(crate) async fn place_all(
    source: &dyn FileSource,
    files: &[PackageFile],
    to: &Path,
) -> io::Result<()> {
    let partial = partial_of(to)?;
    if tokio::fs::metadata(&partial)
        .await
        .is_ok_and(|m| m.is_dir())
    {
        // Left by an earlier delivery that failed half way: only Ferry writes `*.part`.
        tokio::fs::remove_dir_all(&partial).await?;
    }
    tokio::fs::create_dir(&partial).await?;
    let mut placed = Ok(());
    for file in files {
        if placed.is_ok() {
            placed = place(source, &file.name, &partial.join(&file.name)).await;
        }
    }
    // Fails on a directory that holds anything: an existing directory is never replaced.
    let renamed = match placed {
        Ok(()) => tokio::fs::rename(&partial, to).await,
        Err(e) => Err(e),
    };
    if renamed.is_err() {
        let _ = tokio::fs::remove_dir_all(&partial).await;
    }
    renamed
}

async fn place(source: &dyn FileSource, name: &str, to: &Path) -> io::Result<()> {
    let partial = partial_of(to)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Files in a directory, as the artifact store would hand them over.
    struct Dir(PathBuf);

    #[async_trait]
    impl FileSource for Dir {
        async fn open(
            &self,
            name: &str,
        ) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
            Ok(Box::new(tokio::fs::File::open(self.0.join(name)).await?))
        }

        fn local_path(&self, name: &str) -> Option<PathBuf> {
            Some(self.0.join(name))
        }
    }

    fn file(name: &str) -> PackageFile {
        PackageFile {
            name: name.into(),
            bytes: 1,
            sha256: String::new(),
        }
    }

    #[tokio::test]
    async fn an_existing_directory_or_a_nameless_path_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("store");
        std::fs::create_dir(&source).unwrap();
        for name in ["a.csv", "b.csv"] {
            std::fs::write(source.join(name), name).unwrap();
        }
        let files = [file("a.csv"), file("b.csv")];
        let kept = dir.path().join("kept");
        std::fs::create_dir(&kept).unwrap();
        std::fs::write(kept.join("precious.txt"), "mine").unwrap();
        for target in [kept.clone(), PathBuf::from("."), PathBuf::from("/")] {
            let sink = PathSink { target };
            let refused = sink.deliver("exp_1", &files, &Dir(source.clone())).await;
            assert!(
                matches!(refused, Err(DeliveryError::Permanent(_))),
                "{refused:?}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(kept.join("precious.txt")).unwrap(),
            "mine"
        );
        assert!(source.join("a.csv").exists(), "the source is untouched");
        assert!(
            !dir.path().join("kept.part").exists(),
            "nothing is left half done"
        );

        let fresh = PathSink {
            target: dir.path().join("out"),
        };
        fresh
            .deliver("exp_1", &files, &Dir(source.clone()))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/b.csv")).unwrap(),
            "b.csv"
        );
        let single = PathSink {
            target: dir.path().join("one.csv"),
        };
        single
            .deliver("exp_1", &files[..1], &Dir(source))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("one.csv")).unwrap(),
            "a.csv"
        );
    }
}
