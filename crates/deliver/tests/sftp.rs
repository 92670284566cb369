//! The SFTP sink against OpenSSH's sshd on 127.0.0.1:2222 (`scripts/services/sftp.sh`:
//! internal-sftp, chrooted to /srv/ferry-sftp, user `ferrytest`).

mod common;

use std::path::Path;

use common::{Dir, closed_port, noise, package_file, require_server, sha256, unique};
use ferry_deliver::sftp::{SftpConfig, SftpSink};
use ferry_deliver::{DeliveryError, Secret, Sink};

const PORT: u16 = 2222;
const SERVICE: &str = "/var/tmp/ferry-services/sftp";
const CHROOT: &str = "/srv/ferry-sftp";
const PASSWORD: &str = "ferry-test-password";

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn config(dir: &str) -> SftpConfig {
    require_server(PORT, "sftp.sh");
    SftpConfig {
        host: "127.0.0.1".into(),
        port: PORT,
        username: "ferrytest".into(),
        password: Some(Secret::new(PASSWORD)),
        private_key: None,
        path: format!("/upload/{dir}"),
        host_key: read(format!("{SERVICE}/ssh_host_ed25519_key.pub")),
    }
}

#[tokio::test]
async fn files_arrive_by_password_and_by_key_with_the_manifest_bytes_and_a_rerun_replaces_them() {
    let store = tempfile::tempdir().unwrap();
    let dir = unique("sftp");
    let files = [
        package_file(store.path(), "export.zip", &noise(3 * 1024 * 1024 + 17, 1)),
        package_file(store.path(), "manifest.json", b"{\"files\":2}"),
    ];
    let sink = SftpSink {
        config: config(&dir),
    };
    let delivery = sink
        .deliver("exp_1", &files, &Dir(store.path().into()))
        .await
        .unwrap();
    assert_eq!(delivery.method, "sftp");
    assert!(delivery.delivered);
    let arrived = Path::new(CHROOT).join("upload").join(&dir).join("exp_1");
    for file in &files {
        let bytes = std::fs::read(arrived.join(&file.name)).unwrap();
        assert_eq!(sha256(&bytes), file.sha256, "{}", file.name);
    }

    // Again by key, the host pinned by a known_hosts line, with new bytes under the same
    // names: the earlier copy is replaced and no temporary file is left.
    let files = [package_file(store.path(), "export.zip", &noise(1000, 2))];
    let mut by_key = config(&dir);
    by_key.password = None;
    by_key.private_key = Some(Secret::new(read(format!("{SERVICE}/client_ed25519"))));
    by_key.host_key = format!("[127.0.0.1]:{PORT} {}", by_key.host_key);
    SftpSink { config: by_key }
        .deliver("exp_1", &files, &Dir(store.path().into()))
        .await
        .unwrap();
    let bytes = std::fs::read(arrived.join("export.zip")).unwrap();
    assert_eq!(sha256(&bytes), files[0].sha256);
    let mut names: Vec<_> = std::fs::read_dir(&arrived)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["export.zip", "manifest.json"]);
}

#[tokio::test]
async fn a_changed_host_key_is_refused_permanently_and_nothing_is_written() {
    let store = tempfile::tempdir().unwrap();
    let dir = unique("sftp-impostor");
    let files = [package_file(store.path(), "export.zip", b"secret rows")];
    let mut pinned_elsewhere = config(&dir);
    // A real ed25519 key, but not the server's: what a man in the middle would present.
    pinned_elsewhere.host_key = read(format!("{SERVICE}/client_ed25519.pub"));
    let refused = SftpSink {
        config: pinned_elsewhere,
    }
    .deliver("exp_1", &files, &Dir(store.path().into()))
    .await;
    let Err(DeliveryError::Permanent(message)) = refused else {
        panic!("a changed host key must be refused for good: {refused:?}");
    };
    assert!(message.contains("host_key"), "{message}");
    assert!(
        message.contains("SHA256:"),
        "names the key presented: {message}"
    );
    assert!(!message.contains(PASSWORD));
    assert!(!Path::new(CHROOT).join("upload").join(&dir).exists());
}

#[tokio::test]
async fn a_wrong_password_is_permanent_and_a_server_down_is_transient() {
    let store = tempfile::tempdir().unwrap();
    let files = [package_file(store.path(), "export.zip", b"rows")];
    let mut wrong = config(&unique("sftp-wrong"));
    wrong.password = Some(Secret::new("not-the-password-0xC0FFEE"));
    let refused = SftpSink { config: wrong }
        .deliver("exp_1", &files, &Dir(store.path().into()))
        .await;
    let Err(DeliveryError::Permanent(message)) = refused else {
        panic!("refused credentials are permanent: {refused:?}");
    };
    assert!(message.contains("credentials"), "{message}");
    assert!(!message.contains("0xC0FFEE"), "never echoes the password");

    let mut down = config(&unique("sftp-down"));
    down.port = closed_port();
    let refused = SftpSink { config: down }
        .deliver("exp_1", &files, &Dir(store.path().into()))
        .await;
    assert!(
        matches!(refused, Err(DeliveryError::Transient(_))),
        "{refused:?}"
    );
}

#[test]
fn the_config_reads_the_destination_json_and_debug_hides_the_credentials() {
    let config: SftpConfig = serde_json::from_value(serde_json::json!({
        "type": "sftp", "host": "sftp.example.com", "username": "u",
        "password": "hunter2-secret", "path": "/in", "host_key": "ssh-ed25519 AAAA"
    }))
    .unwrap();
    assert_eq!(config.port, 22);
    assert!(!format!("{config:?}").contains("hunter2-secret"));
}

#[tokio::test]
async fn a_file_that_is_not_the_one_the_manifest_lists_is_not_left_at_the_destination() {
    let store = tempfile::tempdir().unwrap();
    let dir = unique("sftp-corrupt");
    let mut file = package_file(store.path(), "export.zip", b"rows as packaged");
    std::fs::write(store.path().join("export.zip"), b"rows changed later").unwrap();
    file.bytes = 18;
    let refused = SftpSink {
        config: config(&dir),
    }
    .deliver("exp_1", &[file], &Dir(store.path().into()))
    .await;
    assert!(
        matches!(&refused, Err(DeliveryError::Permanent(m)) if m.contains("manifest")),
        "{refused:?}"
    );
    let arrived = Path::new(CHROOT).join("upload").join(&dir).join("exp_1");
    assert_eq!(std::fs::read_dir(&arrived).unwrap().count(), 0);
}
