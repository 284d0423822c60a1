//! HyperLogLog strings as a client could craft them (SET, RESTORE, a dump
//! file): whatever the bytes, counting, merging, converting, decoding and
//! adding never panic, and the functions agree with each other as Redis's
//! do. The first byte picks whether a valid sparse header is put in front
//! of the rest (so most inputs reach the opcode walkers) and how small
//! `hll-sparse-max-bytes` is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::commands::hyperloglog::{
    self as hll, Corrupt, REGISTERS, count, decode, is_hll, merge_into, to_dense,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 16);
    if mode & 1 == 1 {
        bytes.extend_from_slice(b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80");
    }
    bytes.extend_from_slice(rest);
    if !is_hll(&bytes) {
        return;
    }
    let max_bytes = u64::from(mode >> 1) * 32;

    let counted = count(&bytes);
    let mut max = [0u8; REGISTERS];
    let merged = merge_into(&mut max, &bytes);
    let mut dense = bytes.clone();
    let converted = to_dense(&mut dense);
    // Merging and converting walk the opcodes alike.
    assert_eq!(merged.is_ok(), converted.is_ok());
    let _ = decode(&bytes);
    if let Ok(card) = counted {
        // Runs covering exactly every register convert, and the dense form
        // counts the same.
        assert_eq!(converted, Ok(()));
        assert_eq!(count(&dense), Ok(card));
        assert_eq!(dense.len(), hll::DENSE_SIZE);
    }

    // Adding elements: a valid HLL stays valid, and no register goes down.
    let mut grown = bytes.clone();
    for element in rest.chunks(7).take(64) {
        match hll::add(&mut grown, element, max_bytes) {
            Ok(_) => assert!(is_hll(&grown), "{grown:?}"),
            Err(Corrupt) => return,
        }
    }
    // An XZERO cut after its first byte reads its second from past the
    // end: Redis finds there whatever it last wrote (a split writes one
    // byte past the new end), which a string cannot keep, so such an HLL
    // is not required to stay valid.
    if counted.is_ok() && !ends_in_cut_xzero(&bytes) {
        assert!(count(&grown).is_ok());
        let mut after = [0u8; REGISTERS];
        merge_into(&mut after, &grown).expect("still valid");
        assert!(max.iter().zip(after.iter()).all(|(b, a)| a >= b));
    }
});

/// Whether the sparse opcodes end with an XZERO missing its second byte.
fn ends_in_cut_xzero(hll: &[u8]) -> bool {
    let mut p = 16;
    while p < hll.len() {
        let xzero = hll[p] & 0xc0 == 0x40;
        if xzero && p + 1 == hll.len() {
            return true;
        }
        p += if xzero { 2 } else { 1 };
    }
    false
}
