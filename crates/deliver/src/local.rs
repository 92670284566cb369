//! A `local` destination: a directory on the machine that runs the worker. An export's files
//! go into `{path}/{export_id}/`, or, for a schedule's run, into its fixed folder
//! (`{path}/sch_…/2026-03-29_2026-03-30/`), under the same names every run.
//!
//! Each file is written beside its final name under a temporary name of its own
//! (`.NAME.PID-N.part`, created exclusively), fsynced, then renamed over the final name, and
//! the directory is fsynced. So a re-run of a window (a backfill) replaces its files the way
//! S3, GCS and SFTP replace objects, and a reader only ever sees a whole file: the old one or
//! the new one. Nothing else in the directory is touched.
//!
//! What stays out of reach: the folder and file names are plain relative names (no `..`, no
//! `/` in a file name), and every directory Ferry walks through under `path` must be a real
//! directory, not a symbolic link, so a link planted in the destination cannot send the files
//! elsewhere. A link at a file's final name is replaced by the file; its target is untouched.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use crate::checked::{Hashing, matches_manifest};
use crate::path::io_failure;
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
        folder: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let target = real_dirs(&self.dir, folder).await?;
        for file in files {
            replace(source, file, &target).await?;
        }
        sync_dir(&target)
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

fn refused(message: String) -> DeliveryError {
    DeliveryError::Permanent(message)
}

/// `base/folder`, each directory under `base` made when missing and checked to be a real
/// directory (not a symbolic link).
async fn real_dirs(base: &Path, folder: &str) -> Result<PathBuf, DeliveryError> {
    let relative = Path::new(folder);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if folder.is_empty() || !plain {
        return Err(refused(format!(
            "`{folder}` is not a plain relative folder: Ferry writes only under the \
             destination's path"
        )));
    }
    let mut at = base.to_path_buf();
    for part in relative.components() {
        at.push(part);
        match tokio::fs::create_dir(&at).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_failure(&at, e)),
        }
        let meta = tokio::fs::symlink_metadata(&at)
            .await
            .map_err(|e| io_failure(&at, e))?;
        if !meta.is_dir() {
            return Err(refused(format!(
                "{} is a symbolic link or a file, not a directory: Ferry writes only into real \
                 directories under the destination's path; remove it",
                at.display()
            )));
        }
    }
    Ok(at)
}

/// Told apart from every other temporary file of this process; the process id tells it apart
/// from another worker's.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Writes `file` into `dir` under a temporary name, then renames it over its final name.
async fn replace(
    source: &dyn FileSource,
    file: &PackageFile,
    dir: &Path,
) -> Result<(), DeliveryError> {
    let plain = Path::new(&file.name)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        && !file.name.contains('/');
    if file.name.is_empty() || !plain {
        return Err(refused(format!("`{}` is not a plain file name", file.name)));
    }
    let to = dir.join(&file.name);
    let temp = dir.join(format!(
        ".{}.{}-{}.part",
        file.name,
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    ));
    let written = match write_whole(source, file, &temp).await {
        Ok(()) => tokio::fs::rename(&temp, &to)
            .await
            .map_err(|e| io_failure(&to, e)),
        Err(e) => Err(e),
    };
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    written
}

/// The file, read from the store and checked against the manifest, at the new path `temp`
/// (created exclusively: never through a link or over another file), on disk.
async fn write_whole(
    source: &dyn FileSource,
    file: &PackageFile,
    temp: &Path,
) -> Result<(), DeliveryError> {
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .await
        .map_err(|e| io_failure(temp, e))?;
    let reader = source
        .open(&file.name)
        .await
        .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
    let (mut reader, digests) = Hashing::new(reader);
    tokio::io::copy(&mut reader, &mut out)
        .await
        .map_err(|e| io_failure(temp, e))?;
    matches_manifest(file, &digests)?;
    out.flush().await.map_err(|e| io_failure(temp, e))?;
    out.sync_all().await.map_err(|e| io_failure(temp, e))
}

/// Makes the renames in `dir` survive a power cut.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use sha2::Digest;

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

    /// Writes `content` as `name` in `dir`, and returns it as a package file.
    fn stored(dir: &Path, name: &str, content: &str) -> PackageFile {
        std::fs::write(dir.join(name), content).unwrap();
        PackageFile {
            name: name.into(),
            bytes: content.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(content)),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_second_delivery_to_one_folder_replaces_its_files_whole_and_leaves_the_rest() {
        let source = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join("precious.txt"), "mine").unwrap();
        let sink = LocalSink {
            dir: out.path().to_path_buf(),
        };
        let from = Dir(source.path().to_path_buf());
        let first = stored(source.path(), "export.zip", "first");
        let done = sink
            .deliver("sch_1/2026-01-01_2026-01-02", &[first], &from)
            .await
            .unwrap();
        assert!(done.delivered);
        let second = stored(source.path(), "export.zip", "the second, longer");
        sink.deliver("sch_1/2026-01-01_2026-01-02", &[second], &from)
            .await
            .unwrap();
        let folder = out.path().join("sch_1/2026-01-01_2026-01-02");
        assert_eq!(
            std::fs::read_to_string(folder.join("export.zip")).unwrap(),
            "the second, longer"
        );
        assert_eq!(names(&folder), ["export.zip"], "no temporary file is left");
        assert_eq!(
            std::fs::read_to_string(out.path().join("precious.txt")).unwrap(),
            "mine"
        );
        sink.probe().await.unwrap();
        assert!(!out.path().join(".ferry-test").exists());
    }

    #[tokio::test]
    async fn a_file_that_is_not_the_manifests_is_refused_and_the_old_one_stays() {
        let source = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let sink = LocalSink {
            dir: out.path().to_path_buf(),
        };
        let from = Dir(source.path().to_path_buf());
        let good = stored(source.path(), "a.csv", "good");
        sink.deliver("exp_1", std::slice::from_ref(&good), &from)
            .await
            .unwrap();
        std::fs::write(source.path().join("a.csv"), "evil").unwrap();
        let refused = sink.deliver("exp_1", &[good], &from).await;
        assert!(
            matches!(refused, Err(DeliveryError::Permanent(_))),
            "{refused:?}"
        );
        let folder = out.path().join("exp_1");
        assert_eq!(
            std::fs::read_to_string(folder.join("a.csv")).unwrap(),
            "good"
        );
        assert_eq!(names(&folder), ["a.csv"], "the half-written file is gone");
    }

    #[tokio::test]
    async fn links_and_names_that_leave_the_directory_are_refused() {
        let source = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let sink = LocalSink {
            dir: out.path().to_path_buf(),
        };
        let from = Dir(source.path().to_path_buf());
        let file = stored(source.path(), "export.zip", "data");
        // A link planted where a schedule's folder goes.
        std::os::unix::fs::symlink(elsewhere.path(), out.path().join("sch_1")).unwrap();
        for folder in [
            "sch_1/2026-01-01_2026-01-02",
            "../x",
            "/tmp/x",
            "a/../../x",
            "",
        ] {
            let refused = sink
                .deliver(folder, std::slice::from_ref(&file), &from)
                .await;
            assert!(
                matches!(refused, Err(DeliveryError::Permanent(_))),
                "{folder}: {refused:?}"
            );
        }
        let mut hostile = file.clone();
        hostile.name = "../escaped.zip".into();
        let refused = sink.deliver("exp_1", &[hostile], &from).await;
        assert!(matches!(refused, Err(DeliveryError::Permanent(_))));
        assert!(
            names(elsewhere.path()).is_empty(),
            "nothing went through the link"
        );
        assert!(!out.path().join("escaped.zip").exists());

        // A link at a file's final name is replaced; what it pointed at stays as it was.
        let target = elsewhere.path().join("victim.txt");
        std::fs::write(&target, "untouched").unwrap();
        std::fs::create_dir(out.path().join("exp_2")).unwrap();
        std::os::unix::fs::symlink(&target, out.path().join("exp_2/export.zip")).unwrap();
        sink.deliver("exp_2", &[file], &from).await.unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert_eq!(
            std::fs::read_to_string(out.path().join("exp_2/export.zip")).unwrap(),
            "data"
        );
    }
}
