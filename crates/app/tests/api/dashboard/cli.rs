//! `ferry users create`, as an operator runs it: the first admin of an account.

use std::process::Stdio;

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

use super::try_login;
use crate::cli::{ferry, run, serve};

#[tokio::test]
async fn users_create_makes_an_admin_who_signs_in_with_the_password_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["accounts", "create", "acme"]).await.0);
    let create = [
        "users",
        "create",
        "--account",
        "acme",
        "--email",
        "dpo@acme.test",
    ];
    let (ok, id, err) = run(d, &create).await;
    assert!(ok && id.starts_with("usr_"), "{err}");
    let password = err
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("the generated password is printed")
        .trim()
        .to_string();
    let (ok, _, err) = run(d, &create).await;
    assert!(!ok && err.contains("exists already"), "{err}");

    // From stdin: a short one is refused, a good one is taken and never printed.
    let stdin = |password: &'static str| {
        let d = d.to_path_buf();
        async move {
            let mut child = ferry(&d)
                .args([
                    "users",
                    "create",
                    "--account",
                    "acme",
                    "--email",
                    "ann@acme.test",
                ])
                .args(["--role", "member", "--password-stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut input = child.stdin.take().unwrap();
            input.write_all(password.as_bytes()).await.unwrap();
            drop(input);
            child.wait_with_output().await.unwrap()
        }
    };
    let short = stdin("too short\n").await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let good = stdin("a long enough passphrase\n").await;
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(!String::from_utf8_lossy(&good.stderr).contains("passphrase"));

    let (_server, base) = serve(d).await;
    let signed_in = try_login(&base, "dpo@acme.test", &password, &[]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let member = try_login(&base, "ann@acme.test", "a long enough passphrase", &[]).await;
    assert_eq!(member.status(), StatusCode::SEE_OTHER);
}
