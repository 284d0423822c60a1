//! `sedis-server [CONFIG-FILE] [-] [--option value ...]`: runs the server
//! until SHUTDOWN, SIGINT or SIGTERM, in the foreground or, with
//! `daemonize yes`, in the background.

use std::process::ExitCode;

use sedis::config::params::{SHUTDOWN_FORCE, SHUTDOWN_NOSAVE, SHUTDOWN_SAVE};
use sedis::internals::process;
use sedis::internals::state::shutdown::ShutdownMode;
use sedis::{Config, Server};

/// Counts allocated bytes so that INFO's `used_memory` is exact. The
/// library leaves this choice to the program; the server makes it here.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

const USAGE: &str = "\
Usage: sedis-server [/path/to/sedis.conf] [options] [-]
       sedis-server -v or --version
       sedis-server -h or --help

Options are Redis 7.0's configuration directives, prefixed with --, and
override the file; '-' reads more configuration from standard input:
       sedis-server --port 7777
       sedis-server /etc/redis/redis.conf --daemonize no --port 6380
       sedis-server /etc/sedis/6380.conf --loglevel verbose --requirepass secret

Sizes accept Redis units: 1k, 1kb, 1m, 1mb, 1g, 1gb.";

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(args) => args,
        Err(bad) => {
            eprintln!("sedis-server: argument is not valid UTF-8: {bad:?}");
            return ExitCode::FAILURE;
        }
    };
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-v" | "--version") => {
            println!(
                "sedis-server v={} (Redis-compatible v={})",
                sedis::SEDIS_VERSION,
                sedis::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::from_command_line(&args) {
        Ok(config) => config,
        Err(err) => {
            // Redis's fatal configuration error, on standard error, status 1.
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    if process::should_daemonize(&config) {
        // SAFETY: no thread has been started yet: the configuration was
        // read on this one and nothing else runs.
        if let Err(err) = unsafe { process::daemonize() } {
            eprintln!("sedis-server: could not daemonize: {err}");
            return ExitCode::FAILURE;
        }
    }
    let server = match Server::bind(config) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("sedis-server: could not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = install_signal_handlers(server.state().clone()) {
        eprintln!("sedis-server: could not install signal handlers: {err}");
        return ExitCode::FAILURE;
    }
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sedis-server: {err}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT and SIGTERM ask for a shutdown, shaped by `shutdown-on-sigint` /
/// `shutdown-on-sigterm` (SHUTDOWN's own options), as they do for Redis.
/// std cannot catch signals; `signal-hook` runs a small thread that can.
fn install_signal_handlers(
    state: std::sync::Arc<sedis::internals::state::State>,
) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("sedis-signals".into())
        .spawn(move || {
            // Every signal counts: if a final save fails the server keeps
            // running, and a later signal asks again.
            for signal in signals.forever() {
                let (name, flags) = if signal == SIGINT {
                    ("SIGINT", state.config().shutdown_on_sigint)
                } else {
                    ("SIGTERM", state.config().shutdown_on_sigterm)
                };
                state
                    .log
                    .warning(&format!("Received {name} scheduling shutdown..."));
                let mode = if flags & SHUTDOWN_SAVE != 0 {
                    ShutdownMode::Save
                } else if flags & SHUTDOWN_NOSAVE != 0 {
                    ShutdownMode::NoSave
                } else {
                    ShutdownMode::Default
                };
                state
                    .shutdown
                    .request_with(mode, flags & SHUTDOWN_FORCE != 0);
            }
        })?;
    Ok(())
}
