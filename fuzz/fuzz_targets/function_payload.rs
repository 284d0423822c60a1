//! FUNCTION RESTORE's payload: whatever the bytes, reading it answers the
//! libraries' code or Redis's error and never panics or allocates what the
//! bytes only claim; and code read from a payload writes back to a payload
//! that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::persist::rdb::{function_payload, read_function_payload};

fuzz_target!(|data: &[u8]| {
    let Ok(codes) = read_function_payload(data) else {
        return;
    };
    let refs: Vec<&[u8]> = codes.iter().map(Vec::as_slice).collect();
    for compress in [false, true] {
        let payload = function_payload(&refs, compress);
        assert_eq!(read_function_payload(&payload).as_ref(), Ok(&codes));
    }
});
