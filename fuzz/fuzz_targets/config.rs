//! Configuration text, as a file or CONFIG SET would give it: whatever the
//! bytes, loading answers a value or Redis's error and never panics; and a
//! configuration that loaded is written back by CONFIG REWRITE as a file
//! that loads to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::Config;
use sedis::config::params::PARAMS;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // `include` reads other files; the fuzzer's inputs stay in memory.
    if text.to_ascii_lowercase().contains("include") {
        return;
    }
    let mut config = Config::default();
    if config.apply_file_text(&text).is_err() {
        return;
    }
    let written = config.rewritten_text("");
    let mut again = Config::default();
    again
        .apply_file_text(&written)
        .unwrap_or_else(|e| panic!("a rewritten file does not load: {e}\n{written}"));
    for p in PARAMS {
        assert_eq!(p.get(&config), p.get(&again), "{} after a rewrite:\n{written}", p.name);
    }
});
