//! The RDB decoder on arbitrary bytes: errors are fine, panics and
//! allocations beyond the input are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::persist::rdb::Decoder;

fuzz_target!(|data: &[u8]| {
    let Ok(mut decoder) = Decoder::new(data) else {
        return;
    };
    while let Ok(Some(_)) = decoder.next_item() {}
});
