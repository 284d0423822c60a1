//! DEBUG PROTOCOL: one fixed reply of each RESP3 type, for client test
//! suites. On a RESP2 connection each type falls back as every other reply
//! of that type does (maps become flat arrays, doubles and big numbers bulk
//! strings, booleans integers), except push, which RESP2 cannot carry.

use crate::error::{CommandError, CommandResult};

use super::super::Ctx;
use super::args;

/// `DEBUG PROTOCOL type`
pub fn debug_protocol(ctx: &mut Ctx, name: &[u8]) -> CommandResult {
    let out = &mut *ctx.out;
    let is = |type_name: &str| args::is(name, type_name);
    if is("string") {
        out.bulk(b"Hello World");
    } else if is("integer") {
        out.int(12345);
    } else if is("double") {
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if is("bignum") {
        let digits = b"1234567999999999999999999999999999999";
        if out.is_resp3() {
            out.raw(b"(");
            out.raw(digits);
            out.raw(b"\r\n");
        } else {
            out.bulk(digits);
        }
    } else if is("null") {
        out.null();
    } else if is("array") {
        out.array(3);
        (0..3).for_each(|n| out.int(n));
    } else if is("set") {
        out.set(3);
        (0..3).for_each(|n| out.int(n));
    } else if is("map") {
        out.map(3);
        for n in 0..3 {
            out.int(n);
            out.boolean(n == 1);
        }
    } else if is("attrib") {
        // An attribute annotates the reply after it, which RESP2 has no
        // way to say: there only the reply itself is sent.
        if out.is_resp3() {
            out.raw(b"|1\r\n");
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is("push") {
        if !out.is_resp3() {
            return Err(CommandError::canned(
                "ERR RESP2 is not supported by this command",
            ));
        }
        out.pushing(|out| {
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
        });
        // A client that skips pushes still gets a reply to read.
        out.bulk(b"Some real reply following the push reply");
    } else if is("true") {
        out.boolean(true);
    } else if is("false") {
        out.boolean(false);
    } else if is("verbatim") {
        out.verbatim(b"This is a verbatim\nstring");
    } else {
        return Err(CommandError::canned(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ));
    }
    Ok(())
}
