//! `sedis-server [CONFIG-FILE] [--option value ...]`: runs the server in the
//! foreground until SHUTDOWN, SIGINT or SIGTERM.

use std::process::ExitCode;

use sedis::{Config, Server};

/// Counts allocated bytes so that INFO's `used_memory` is exact. The
/// library leaves this choice to the program; the server makes it here.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

const USAGE: &str = "\
Usage: sedis-server [/path/to/sedis.conf] [options]
       sedis-server -v or --version
       sedis-server -h or --help

Options are the configuration directives, prefixed with --, e.g.:
       sedis-server --port 7777
       sedis-server /etc/sedis/6380.conf --loglevel verbose --requirepass secret

Directives: port, bind, protected-mode, requirepass, maxclients, timeout,
databases, loglevel, logfile, proto-max-bulk-len, client-query-buffer-limit,
hz, enable-debug-command.
Sizes accept Redis units: 1k, 1kb, 1m, 1mb, 1g, 1gb.";

fn main() -> ExitCode {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.contains(["-v", "--version"]) {
        println!(
            "sedis-server v={} (Redis-compatible v={})",
            sedis::SEDIS_VERSION,
            sedis::REDIS_VERSION
        );
        return ExitCode::SUCCESS;
    }
    let rest: Vec<String> = match args
        .finish()
        .into_iter()
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(rest) => rest,
        Err(bad) => return fail(&format!("argument is not valid UTF-8: {bad:?}")),
    };
    let config = match load_config(&rest) {
        Ok(config) => config,
        Err(message) => return fail(&message),
    };
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

/// The configuration from an optional file (first argument, if it does not
/// start with `--`) and then the `--option value` flags, which override it.
fn load_config(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut flags = args;
    if let Some(first) = args.first()
        && !first.starts_with("--")
    {
        let text = std::fs::read_to_string(first)
            .map_err(|err| format!("can't open config file '{first}': {err}"))?;
        config
            .apply_file_text(&text)
            .map_err(|err| format!("in config file '{first}': {err}"))?;
        // Kept absolute, as Redis keeps it, so CONFIG REWRITE finds the file
        // whatever the working directory becomes.
        let path = std::path::absolute(first)
            .map_err(|err| format!("can't resolve config file path '{first}': {err}"))?;
        config.config_file = Some(path);
        flags = &args[1..];
    }
    config
        .apply_flags(flags)
        .map_err(|err| format!("bad option {err}"))?;
    Ok(config)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("sedis-server: {message}");
    ExitCode::from(2)
}

/// SIGINT and SIGTERM ask for a normal shutdown, as they do for Redis.
/// std cannot catch signals; `signal-hook` runs a small thread that can.
fn install_signal_handlers(state: std::sync::Arc<sedis::server::State>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("sedis-signals".into())
        .spawn(move || {
            // Every signal counts: if a final save fails the server keeps
            // running, and a later signal asks again.
            for signal in signals.forever() {
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                state
                    .log
                    .warning(&format!("Received {name} scheduling shutdown..."));
                state.shutdown.request(sedis::server::ShutdownMode::Default);
            }
        })?;
    Ok(())
}
