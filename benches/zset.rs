//! Sorted sets at 1,000,000 members: ZADD of new members and ZRANK, on the
//! skiplist with spans that makes rank operations O(log n).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sedis::internals::store::types::zset::{AddFlags, ZSet, ZSetLimits};

const MEMBERS: usize = 1_000_000;
const OPS: usize = 10_000;

fn member(i: usize) -> Vec<u8> {
    format!("member:{i:010}").into_bytes()
}

/// A pseudo-random permutation step, so inserts and lookups land all over
/// the set (multiplication by an odd constant modulo a power of two).
fn scatter(i: usize) -> usize {
    i.wrapping_mul(0x9E37_79B9) % (1 << 20)
}

fn filled() -> ZSet {
    let mut z = ZSet::new_skiplist();
    for i in 0..MEMBERS {
        let s = scatter(i);
        z.add(
            &member(s),
            s as f64,
            AddFlags::default(),
            ZSetLimits::default(),
        );
    }
    z
}

fn zset(c: &mut Criterion) {
    let base = filled();
    let mut group = c.benchmark_group("zset-1m");
    group.throughput(Throughput::Elements(OPS as u64));
    group.sample_size(10);

    let new_members: Vec<Vec<u8>> = (0..OPS).map(|i| member(2_000_000 + scatter(i))).collect();
    group.bench_function("zadd-new", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |z| {
                for (i, m) in new_members.iter().enumerate() {
                    z.add(
                        m,
                        i as f64 + 0.5,
                        AddFlags::default(),
                        ZSetLimits::default(),
                    );
                }
            },
            BatchSize::LargeInput,
        )
    });

    let present: Vec<Vec<u8>> = (0..OPS).map(|i| member(scatter(i * 97))).collect();
    group.bench_function("zrank", |b| {
        b.iter(|| {
            for m in &present {
                black_box(base.rank(m));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, zset);
criterion_main!(benches);
