//! When the server writes its dump: SAVE (now, in the caller's thread),
//! BGSAVE and save points (on the saver thread), and the final save at
//! shutdown. The format and the atomic file write are [`crate::persist`]'s.
//!
//! Snapshots never overlap: `RdbStatus::saving` serializes them. The saver
//! thread wakes on a BGSAVE request or every 100 ms to check the save points
//! (Redis's `serverCron` at `hz 10`), and ends with the server.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::clock::unix_ms;
use crate::persist::rdb::Encodings;
use crate::persist::snapshot::{self, SaveOptions};

use super::State;

/// Seconds to wait before retrying a failed background save from a save
/// point (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: i64 = 5;

/// Persistence status, for INFO persistence, LASTSAVE and the save points.
#[derive(Debug)]
pub struct RdbStatus {
    /// Held for the whole of any save.
    saving: Mutex<()>,
    pub bgsave_in_progress: AtomicBool,
    /// Outcome of the last background save (`rdb_last_bgsave_status`).
    pub last_bgsave_ok: AtomicBool,
    /// Duration of the last background save, or -1 (`rdb_last_bgsave_time_sec`).
    pub last_bgsave_secs: AtomicI64,
    /// When the running background save started (unix ms), or -1.
    pub bgsave_started_ms: AtomicI64,
    /// When a background save was last attempted (unix s).
    last_bgsave_try: AtomicI64,
    /// Successful saves of any kind (`rdb_saves`).
    pub saves: AtomicU64,
    /// Keys loaded and expired keys skipped by the last load
    /// (`rdb_last_load_keys_loaded`, `rdb_last_load_keys_expired`).
    pub last_load_keys: AtomicU64,
    pub last_load_expired: AtomicU64,
    /// A BGSAVE is waiting for the saver thread.
    requested: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Default for RdbStatus {
    fn default() -> Self {
        RdbStatus {
            saving: Mutex::new(()),
            bgsave_in_progress: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            bgsave_started_ms: AtomicI64::new(-1),
            last_bgsave_try: AtomicI64::new(0),
            saves: AtomicU64::new(0),
            last_load_keys: AtomicU64::new(0),
            last_load_expired: AtomicU64::new(0),
            requested: Mutex::new(false),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }
}

/// Why a save could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveRefused {
    /// Another save is running.
    InProgress,
}

/// The dump file's path and options, from the configuration.
pub fn save_options(state: &State) -> SaveOptions {
    let config = state.config();
    SaveOptions {
        path: PathBuf::from(&config.dir).join(&config.dbfilename),
        compress: config.rdbcompression,
        checksum: config.rdbchecksum,
        used_memory: resident_bytes(),
        functions: function_codes(state),
        stream_db: None,
    }
}

/// The FUNCTION libraries' code, as a dump saves it.
pub fn function_codes(state: &State) -> Vec<Vec<u8>> {
    let engine = state.scripts.lock();
    engine.libraries().map(|l| l.code.clone()).collect()
}

/// Loads the libraries a dump held (at start-up: no time limit on their
/// code, as Redis loads them).
pub fn restore_functions(state: &State, codes: &[Vec<u8>]) -> io::Result<()> {
    let mut engine = state.scripts.lock();
    for code in codes {
        engine
            .restore_library(code, false, &state.log)
            .map_err(|e| io::Error::other(format!("failed loading a library: {}", e.text())))?;
    }
    Ok(())
}

/// The process's resident memory, for the dump's `used-mem` field.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

impl RdbStatus {
    /// Holds off every other save (RDB or AOF rewrite) while held.
    pub fn saving_lock(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.saving.lock()
    }
}

/// Saves now, in the calling thread (SAVE, and the final save at shutdown).
/// Waits for a running background save to finish first when `wait` is set;
/// otherwise refuses, as Redis's SAVE does.
pub fn save_now(state: &State, wait: bool) -> Result<io::Result<()>, SaveRefused> {
    let rdb = &state.rdb;
    let _saving = if wait {
        rdb.saving.lock()
    } else {
        rdb.saving.try_lock().ok_or(SaveRefused::InProgress)?
    };
    Ok(save_locked(state).map(|_| ()))
}

/// One save, with the saving lock held: writes the dump and, on success,
/// resets the change counter by the changes the snapshot includes.
fn save_locked(state: &State) -> io::Result<snapshot::SaveReport> {
    let opts = save_options(state);
    let dirty_before = state.dirty();
    let (result, secs) = snapshot::timed(|| match state.faults.disk_error() {
        Some(full) => Err(full),
        None => snapshot::save(state.keyspace(), &opts),
    });
    match &result {
        Ok(report) => {
            state.subtract_dirty(dirty_before);
            state.lastsave.store(unix_ms() / 1000, Ordering::Relaxed);
            state.rdb.saves.fetch_add(1, Ordering::Relaxed);
            // Any successful save clears a failed background save's
            // MISCONF, as Redis's `rdbSave` sets `lastbgsave_status`.
            state.rdb.last_bgsave_ok.store(true, Ordering::Relaxed);
            state.log.notice(&format!(
                "DB saved on disk ({} keys, {} bytes, {secs:.3} seconds)",
                report.keys, report.bytes
            ));
        }
        Err(err) => state.log.warning(&format!("Failed saving the DB: {err}")),
    }
    result
}

/// Asks the saver thread for a background save (BGSAVE).
pub fn request_bgsave(state: &State) -> Result<(), SaveRefused> {
    let rdb = &state.rdb;
    if rdb.bgsave_in_progress.load(Ordering::Acquire) || rdb.saving.is_locked() {
        return Err(SaveRefused::InProgress);
    }
    let mut requested = rdb.requested.lock();
    if *requested {
        return Err(SaveRefused::InProgress);
    }
    *requested = true;
    rdb.wake.notify_one();
    Ok(())
}

/// The saver thread: background saves on request and at save points, until
/// [`stop_saver`].
pub fn run_saver(state: &State) {
    let rdb = &state.rdb;
    loop {
        let requested = {
            let mut requested = rdb.requested.lock();
            if !*requested && !rdb.stop.load(Ordering::Acquire) {
                rdb.wake
                    .wait_for(&mut requested, Duration::from_millis(100));
            }
            std::mem::take(&mut *requested)
        };
        if rdb.stop.load(Ordering::Acquire) {
            return;
        }
        if requested || save_point_reached(state) {
            background_save(state);
        }
        if state.aof.rewrite_requested.load(Ordering::Acquire)
            || super::appendonly::rewrite_due(state)
        {
            let _ = super::appendonly::rewrite(state);
        }
        super::appendonly::tick(state);
    }
}

/// Ends the saver thread (after any save it is running).
pub fn stop_saver(state: &State) {
    state.rdb.stop.store(true, Ordering::Release);
    let _guard = state.rdb.requested.lock();
    state.rdb.wake.notify_all();
}

/// Redis's rule: some save point's change count is reached and its time
/// has passed since the last save, and the last attempt succeeded or was
/// long enough ago.
fn save_point_reached(state: &State) -> bool {
    let now = unix_ms() / 1000;
    let dirty = state.dirty();
    let lastsave = state.lastsave.load(Ordering::Relaxed);
    let rdb = &state.rdb;
    let may_retry = rdb.last_bgsave_ok.load(Ordering::Relaxed)
        || now - rdb.last_bgsave_try.load(Ordering::Relaxed) > RETRY_DELAY_SECS;
    let config = state.config();
    config.save.iter().any(|&(seconds, changes)| {
        if dirty as i64 >= changes && now - lastsave > seconds && may_retry {
            state.log.notice(&format!(
                "{changes} changes in {seconds} seconds. Saving..."
            ));
            true
        } else {
            false
        }
    })
}

fn background_save(state: &State) {
    let rdb = &state.rdb;
    let Some(_saving) = rdb.saving.try_lock() else {
        return; // a SAVE is running; the point will be checked again
    };
    let started = unix_ms();
    rdb.bgsave_in_progress.store(true, Ordering::Release);
    rdb.bgsave_started_ms.store(started, Ordering::Relaxed);
    rdb.last_bgsave_try.store(started / 1000, Ordering::Relaxed);
    state.log.notice("Background saving started");
    let ok = save_locked(state).is_ok();
    if ok {
        state
            .log
            .notice("Background saving terminated with success");
    } else {
        state.log.warning("Background saving error");
    }
    rdb.last_bgsave_ok.store(ok, Ordering::Relaxed);
    rdb.last_bgsave_secs
        .store((unix_ms() - started) / 1000, Ordering::Relaxed);
    rdb.bgsave_started_ms.store(-1, Ordering::Relaxed);
    rdb.bgsave_in_progress.store(false, Ordering::Release);
}

/// Why writes are refused, if they are: the last background save failed
/// (`stop-writes-on-bgsave-error`) or the last AOF write did (Redis's
/// MISCONF errors).
pub fn writes_refused(state: &State) -> Option<crate::error::CommandError> {
    if state.aof.log.write_failed.load(Ordering::Relaxed) {
        return Some(crate::error::CommandError::with_code(
            "MISCONF",
            format_args!(
                "Errors writing to the AOF file: {}",
                state.aof.log.last_write_error()
            ),
        ));
    }
    let rdb_failed = !state.rdb.last_bgsave_ok.load(Ordering::Relaxed) && {
        let config = state.config();
        config.stop_writes_on_bgsave_error && !config.save.is_empty()
    };
    rdb_failed.then_some(crate::error::MISCONF)
}

/// Asks the saver thread for an AOF rewrite (BGREWRITEAOF).
pub fn request_rewrite(state: &State) -> Result<(), SaveRefused> {
    if state.aof.rewrite_in_progress.load(Ordering::Acquire)
        || state.aof.rewrite_requested.swap(true, Ordering::AcqRel)
    {
        return Err(SaveRefused::InProgress);
    }
    let _guard = state.rdb.requested.lock();
    state.rdb.wake.notify_one();
    Ok(())
}

/// The encodings loaded values take: the configured limits.
pub fn load_encodings(state: &State) -> Encodings {
    state.config().encodings()
}

/// Loads the dump at start-up, if there is one.
pub fn load_at_startup(state: &State) -> io::Result<()> {
    let opts = save_options(state);
    let (result, secs) =
        snapshot::timed(|| snapshot::load(state.keyspace(), &opts.path, load_encodings(state)));
    match result {
        Ok(Some(report)) => {
            restore_functions(state, &report.functions)?;
            let rdb = &state.rdb;
            rdb.last_load_keys
                .store(report.keys as u64, Ordering::Relaxed);
            rdb.last_load_expired
                .store(report.expired as u64, Ordering::Relaxed);
            state.log.notice(&format!(
                "DB loaded from disk: {secs:.3} seconds ({} keys, {} expired keys skipped)",
                report.keys, report.expired
            ));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(err) => Err(io::Error::other(format!(
            "can't load '{}': {err}. Refusing to start with an empty dataset over it.",
            opts.path.display()
        ))),
    }
}
