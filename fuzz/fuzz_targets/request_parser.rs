//! The request parser on arbitrary bytes, fed whole and then split at every
//! point: it must never panic, must parse the same requests however the
//! input is split, and must never hold more argument bytes than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::resp::{Limits, RequestParser};

type Outcome = (Vec<Vec<Vec<u8>>>, Option<String>);

fn parse(chunks: &[&[u8]], limits: &Limits) -> Outcome {
    let mut parser = RequestParser::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            match parser.advance(rest, limits) {
                Ok((used, Some(argv))) => {
                    rest = &rest[used..];
                    requests.push(argv);
                }
                Ok((used, None)) => {
                    assert_eq!(used, rest.len(), "a partial request consumes everything");
                    break;
                }
                Err(e) => return (requests, Some(e.to_string())),
            }
        }
    }
    (requests, None)
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bulk_len: 1 << 20,
        max_query_len: 1 << 22,
        unauthenticated: data.first().is_some_and(|b| b & 1 == 1),
    };
    let whole = parse(&[data], &limits);
    let held: usize = whole.0.iter().flatten().map(Vec::len).sum();
    assert!(held <= data.len(), "arguments hold more bytes than arrived");
    // A few split points (every one for short inputs) must agree.
    let step = (data.len() / 64).max(1);
    for cut in (0..=data.len()).step_by(step) {
        let (a, b) = data.split_at(cut);
        assert_eq!(parse(&[a, b], &limits), whole, "split at {cut}");
    }
});
