//! RESTORE's payload: whatever the bytes, reading one answers a value or
//! Redis's error, never panics and never allocates what the bytes only
//! claim; a value read from a payload dumps to a payload that restores a
//! value of the same type and size. Inputs are tried as they are and, so
//! that the fuzzer reaches the decoder, with a valid footer appended.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::persist::crc64::crc64;
use sedis::internals::persist::rdb::{Encodings, dump_payload, read_dump_payload};

fuzz_target!(|data: &[u8]| {
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(0, &sealed);
    sealed.extend_from_slice(&crc.to_le_bytes());
    for payload in [data, &sealed] {
        let Ok(value) = read_dump_payload(payload, Encodings::default()) else {
            continue;
        };
        for compress in [false, true] {
            let again = read_dump_payload(&dump_payload(&value, compress), Encodings::default())
                .expect("a dumped value restores");
            assert_eq!(again.type_name(), value.type_name());
            assert_eq!(
                dump_payload(&again, false).len(),
                dump_payload(&value, false).len()
            );
        }
    }
});
