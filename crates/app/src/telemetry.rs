//! Logs go to stderr, human-readable by default, JSON with `FERRY_LOG_FORMAT=json`; the level
//! comes from `FERRY_LOG` (e.g. `debug`, `ferry=debug,tower_http=warn`). Spans carry ids and
//! route templates, never raw URLs, addresses or request bodies: those can hold personal data.

use tracing_subscriber::EnvFilter;

/// `default_level` applies when `FERRY_LOG` is not set: servers say what they do (`info`),
/// one-shot commands only what went wrong (`warn`), so their own output stays readable.
pub fn init(default_level: &str) {
    let filter =
        EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour only for a person at a terminal: never escape codes in a pipe or a log file.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let json = std::env::var("FERRY_LOG_FORMAT").is_ok_and(|v| v == "json");
    // A second init (tests call it per app) is harmless; ignore the error it returns.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
