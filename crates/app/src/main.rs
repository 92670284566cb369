//! The `ferry` binary: read the command line, set up logging, run the command.

use clap::Parser;

use ferry::cli::Cli;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    ferry::telemetry::init(cli.command.log_level());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(ferry::commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
