//! Files and directories only their owner may read: the data directory (0700) and the secrets
//! in it (0600). A secret is written whole or not at all (temporary file, fsync, rename,
//! directory fsync), so a crash cannot leave an empty or half-written one behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Creates `dir` (and its parents) readable by the owner only; an existing directory that
/// others can read is reported, not changed (it may be shared on purpose).
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                mode = format!("{:o}", mode & 0o777),
                "the data directory can be read by other users: chmod 700 it"
            );
        }
    }
    Ok(())
}

/// Writes `contents` to `path` with mode 0600, atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let partial = write_partial(path, ".partial", contents)?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))?;
    sync_parent(path)
}

/// As [`write_private`], but never replaces a file that exists: `false` when `path` was there
/// already (another process made it first), so that a key two processes make at once is one key.
pub fn create_private(path: &Path, contents: &[u8]) -> anyhow::Result<bool> {
    let partial = write_partial(path, &format!(".partial-{}", std::process::id()), contents)?;
    // A hard link is made whole or not at all, and fails when the name is taken.
    let linked = std::fs::hard_link(&partial, path);
    std::fs::remove_file(&partial)?;
    match linked {
        Ok(()) => sync_parent(path).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
}

/// `contents` in an owner-only file beside `path`, synced; returns its path.
fn write_partial(path: &Path, suffix: &str, contents: &[u8]) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let mut partial_name = name.to_os_string();
    partial_name.push(suffix);
    let partial = path.with_file_name(partial_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(partial)
}

fn sync_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_owner_only_whole_files_in_an_owner_only_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        ensure_private_dir(&dir).unwrap();
        let secret = dir.join("secret");
        write_private(&secret, b"0123").unwrap();
        write_private(&secret, b"abcdef").unwrap();
        assert_eq!(std::fs::read(&secret).unwrap(), b"abcdef");
        assert!(!dir.join("secret.partial").exists());
        assert!(
            !create_private(&secret, b"other").unwrap(),
            "never replaced"
        );
        assert!(create_private(&dir.join("key"), b"k").unwrap());
        assert_eq!(std::fs::read(&secret).unwrap(), b"abcdef");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&secret), 0o600);
            assert_eq!(mode(&dir.join("key")), 0o600);
        }
    }
}
