//! Store GET and SET through the same path commands take (plan, lock, view),
//! on 1 and 2 threads, over 100,000 keys.

use std::hint::black_box;
use std::sync::Barrier;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sedis::internals::store::{Keyspace, LockPlan, Mode, StrValue, Value};

const KEYS: usize = 100_000;
const OPS: usize = 10_000;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect()
}

fn filled(keys: &[Vec<u8>]) -> Keyspace {
    let ks = Keyspace::new(16);
    for key in keys {
        set(&ks, key);
    }
    ks
}

fn set(ks: &Keyspace, key: &[u8]) {
    let mut plan = LockPlan::new();
    plan.add_key(ks, 0, key, Mode::Write);
    let mut locks = ks.lock(&plan);
    let mut db = locks.db(0, 1);
    db.set(key, Value::Str(StrValue::from_slice(b"xxx")));
}

fn get(ks: &Keyspace, key: &[u8]) -> bool {
    let mut plan = LockPlan::new();
    plan.add_key(ks, 0, key, Mode::Write);
    let mut locks = ks.lock(&plan);
    let mut db = locks.db(0, 1);
    db.lookup_read(key).is_some()
}

/// Runs `op` over `OPS` keys on each of `threads` threads at once.
fn run(threads: usize, ks: &Keyspace, keys: &[Vec<u8>], op: fn(&Keyspace, &[u8])) {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                // Each thread strides through the keys from its own offset.
                for i in 0..OPS {
                    op(ks, &keys[(i * 7 + t * 3331) % KEYS]);
                }
            });
        }
    });
}

fn store(c: &mut Criterion) {
    let keys = keys();
    let ks = filled(&keys);
    let mut group = c.benchmark_group("store");
    for threads in [1, 2] {
        group.throughput(Throughput::Elements((OPS * threads) as u64));
        group.bench_function(format!("get_{threads}_threads"), |b| {
            b.iter(|| {
                run(threads, &ks, &keys, |ks, k| {
                    black_box(get(ks, k));
                })
            })
        });
        group.bench_function(format!("set_{threads}_threads"), |b| {
            b.iter(|| run(threads, &ks, &keys, set))
        });
    }
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
