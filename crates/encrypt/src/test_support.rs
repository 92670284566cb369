//! GnuPG in a temporary home, for tests here and in other crates (feature `test-support`):
//! the real program makes the keys and decrypts what Ferry encrypts.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A temporary GnuPG home with one key per call of `key`.
pub struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    #[allow(clippy::new_without_default)]
    pub fn new() -> Gpg {
        Gpg {
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        let mut child = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--yes", "--no-tty", "--quiet"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg is installed (scripts/test installs it)");
        let mut stdin = child.stdin.take().unwrap();
        let input = input.map(<[u8]>::to_vec);
        let feeder = std::thread::spawn(move || {
            if let Some(input) = input {
                stdin.write_all(&input).unwrap();
            }
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Makes a key: a primary of `algo` that signs, and an encryption subkey of `subkey` when
    /// given, both expiring as `expire` says (`never`, `1d`); returns the armored public key
    /// and the fingerprint.
    pub fn key(
        &self,
        uid: &str,
        algo: &str,
        subkey: Option<&str>,
        expire: &str,
    ) -> (String, String) {
        self.run(
            &[
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                algo,
                "sign,cert",
                expire,
            ],
            None,
        );
        let listing =
            String::from_utf8(self.run(&["--with-colons", "--fingerprint", uid], None)).unwrap();
        let fingerprint = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        if let Some(subkey) = subkey {
            self.run(
                &[
                    "--passphrase",
                    "",
                    "--quick-add-key",
                    &fingerprint,
                    subkey,
                    "encr",
                    expire,
                ],
                None,
            );
        }
        let public = self.run(&["--armor", "--export", uid], None);
        (String::from_utf8(public).unwrap(), fingerprint)
    }

    /// The armored private key of `uid`: what a user might paste by mistake.
    pub fn private_key(&self, uid: &str) -> String {
        let args = [
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--armor",
            "--export-secret-keys",
            uid,
        ];
        String::from_utf8(self.run(&args, None)).unwrap()
    }

    pub fn decrypt(&self, data: &[u8]) -> Vec<u8> {
        self.run(
            &[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--decrypt",
            ],
            Some(data),
        )
    }

    pub fn packets(&self, data: &[u8]) -> String {
        String::from_utf8_lossy(&self.run(
            &[
                "--list-packets",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ],
            Some(data),
        ))
        .into_owned()
    }
}
