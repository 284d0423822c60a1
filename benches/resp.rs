//! RESP throughput: parsing pipelined requests and encoding replies.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sedis::internals::resp::{Limits, Protocol, ReplyWriter, RequestParser};

/// 16 pipelined `SET key:NNNNNN value` requests, as redis-benchmark -P 16 sends.
fn pipeline() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..16 {
        out.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$10\r\nkey:{i:06}\r\n$3\r\nxxx\r\n").as_bytes(),
        );
    }
    out
}

fn parse(c: &mut Criterion) {
    let input = pipeline();
    let limits = Limits::default();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(16));
    group.bench_function("multibulk_pipeline_16", |b| {
        let mut parser = RequestParser::new();
        b.iter(|| {
            let mut rest = &input[..];
            while !rest.is_empty() {
                let (used, request) = parser.advance(rest, &limits).expect("valid");
                rest = &rest[used..];
                black_box(request);
            }
        })
    });
    let inline = b"SET key:000001 xxx\r\n".repeat(16);
    group.bench_function("inline_pipeline_16", |b| {
        let mut parser = RequestParser::new();
        b.iter(|| {
            let mut rest = &inline[..];
            while !rest.is_empty() {
                let (used, request) = parser.advance(rest, &limits).expect("valid");
                rest = &rest[used..];
                black_box(request);
            }
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(100));
    let value = vec![b'x'; 32];
    for (name, protocol) in [("resp2", Protocol::Resp2), ("resp3", Protocol::Resp3)] {
        group.bench_function(format!("mixed_100_{name}"), |b| {
            let mut w = ReplyWriter::new(protocol);
            b.iter(|| {
                for i in 0..25 {
                    w.ok();
                    w.int(i);
                    w.bulk(&value);
                    w.double(i as f64 * 1.5);
                }
                black_box(w.len());
                w.clear();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
