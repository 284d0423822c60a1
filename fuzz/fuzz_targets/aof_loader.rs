//! The append-only file's readers on arbitrary bytes: the command parser
//! (an incr file, or the part after a base) and the manifest parser.
//! Errors are fine; panics and allocations beyond the input are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::persist::aof::{Manifest, parse_commands};

fuzz_target!(|data: &[u8]| {
    let _ = parse_commands(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::parse(text);
    }
});
