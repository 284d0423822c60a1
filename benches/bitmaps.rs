//! BITCOUNT's counting over a 1 MiB bitmap: the word-at-a-time popcount
//! the command uses, against counting byte by byte.
//!
//! Against Redis, through the server (both started as in `compare.sh`,
//! a 1 MiB key `bm` written to each with SETRANGE bm 1048575 x):
//!
//! ```text
//! redis-benchmark -p PORT -n 2000 -c 1 BITCOUNT bm
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sedis::internals::commands::bitmaps::popcount;

const LEN: usize = 1 << 20;

fn bitmap() -> Vec<u8> {
    // An arbitrary but fixed pattern: a multiplicative hash of the index.
    (0..LEN)
        .map(|i| (i.wrapping_mul(0x9E37_79B9) >> 13) as u8)
        .collect()
}

fn bitcount(c: &mut Criterion) {
    let bytes = bitmap();
    let mut group = c.benchmark_group("bitcount");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.bench_function("popcount_1mib", |b| b.iter(|| popcount(black_box(&bytes))));
    group.bench_function("bytewise_1mib", |b| {
        b.iter(|| {
            black_box(&bytes)
                .iter()
                .map(|b| u64::from(b.count_ones()))
                .sum::<u64>()
        })
    });
    group.finish();
}

criterion_group!(benches, bitcount);
criterion_main!(benches);
