//! Helpers the test files share.

use std::process::Command;

/// Checks the ZIP at `path` with `unzip -t`, then runs `script` (with the path as `argv[1]`) in
/// Python; returns what the script printed.
pub fn opens_in_unzip_and_python(path: &std::path::Path, script: &str) -> String {
    let unzip = Command::new("unzip")
        .arg("-tq")
        .arg(path)
        .output()
        .expect("Info-ZIP unzip is installed (scripts/test installs it)");
    assert!(
        unzip.status.success(),
        "unzip -t: {}",
        String::from_utf8_lossy(&unzip.stdout)
    );
    let python = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 is installed");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    String::from_utf8_lossy(&python.stdout).trim().to_string()
}
