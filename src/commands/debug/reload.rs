//! DEBUG RELOAD: save the dump, empty the dataset and load the dump back,
//! which test suites use to check that everything they built survives
//! persistence.

use crate::error::{CommandError, CommandResult};
use crate::persist::snapshot;
use crate::state::saving;
use crate::store::{LockPlan, Mode};

use super::super::Ctx;
use super::args;

/// `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]`: NOSAVE loads the dump already
/// on disk; NOFLUSH keeps the dataset (and the FUNCTION libraries) and
/// adds the dump's contents to it; MERGE lets the dump's keys and libraries
/// replace those of the same names.
///
/// Redis stops its one thread for all of this. Here the save runs first,
/// holding nothing (a save takes its own snapshot of every shard); then
/// every shard is locked for the flush and the load, so no client sees a
/// half-loaded dataset.
pub fn debug_reload(ctx: &mut Ctx, options: &[Vec<u8>]) -> CommandResult {
    let (mut flush, mut save, mut merge) = (true, true, false);
    for option in options {
        if args::is(option, "merge") {
            merge = true;
        } else if args::is(option, "noflush") {
            flush = false;
        } else if args::is(option, "nosave") {
            save = false;
        } else {
            return Err(CommandError::canned(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    // Inside EXEC the transaction's shards are held already, and a save
    // must lock every shard: refuse rather than wait on ourselves.
    if !ctx.locks.is_empty() {
        return Err(CommandError::canned(
            "ERR DEBUG RELOAD cannot run while keys are locked (inside MULTI)",
        ));
    }
    if save && !matches!(saving::save_now(ctx.state, true), Ok(Ok(()))) {
        return Err(CommandError::canned("ERR"));
    }
    let mut everything = LockPlan::new();
    everything.add_all(ctx.keyspace(), Mode::Write);
    ctx.locks.lock_more(&everything);
    if flush {
        for db in 0..ctx.keyspace().databases() {
            ctx.db_at(db).flush();
        }
        ctx.state.scripts.lock().flush_functions();
        // Clients caching keys drop everything, as on FLUSHALL.
        ctx.state.tracking.flushed(&ctx.state.sessions);
    }
    let path = saving::save_options(ctx.state).path;
    let encodings = saving::load_encodings(ctx.state);
    let loaded = snapshot::load_locked(&mut ctx.locks, &path, encodings);
    let loaded_ok = match loaded {
        Ok(Some(report)) => {
            let mut engine = ctx.state.scripts.lock();
            report
                .functions
                .iter()
                .all(|code| engine.restore_library(code, merge, &ctx.state.log).is_ok())
        }
        // No dump to load (NOSAVE) fails as in Redis.
        Ok(None) | Err(_) => false,
    };
    if !loaded_ok {
        return Err(CommandError::canned("ERR Error trying to load the RDB dump"));
    }
    ctx.state.log.warning("DB reloaded by DEBUG RELOAD");
    ctx.out.ok();
    Ok(())
}
