//! The reply encoder. Handlers write replies straight into the connection's
//! output buffer through a [`ReplyWriter`]; it chooses RESP2 or RESP3 framing
//! for each reply type the way Redis's `addReply*` functions do, so handlers
//! never think about the protocol version.
//!
//! It is also where CLIENT REPLY OFF and SKIP take effect, as in Redis's
//! `prepareClientToWrite`: while the writer is silenced, replies are
//! dropped as they are written, except pushes (pub/sub messages and
//! (un)subscribe confirmations), which Redis writes with its
//! `CLIENT_PUSHING` flag so that a subscriber that silenced its replies
//! still learns that it subscribed and still gets its messages.

use crate::error::CommandError;
use crate::num;

/// The protocol version a client speaks, chosen with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// Encodes replies into a byte buffer.
#[derive(Debug, Default)]
pub struct ReplyWriter {
    buf: Vec<u8>,
    protocol: Protocol,
    /// CLIENT REPLY OFF, or SKIP for the command running now: replies are
    /// dropped (Redis's `CLIENT_REPLY_OFF` / `CLIENT_REPLY_SKIP`).
    silenced: bool,
    /// A push is being written: it goes out even while silenced (Redis's
    /// `CLIENT_PUSHING`).
    pushing: bool,
}

/// A place in the buffer where an aggregate's length will go once known
/// (Redis's `addReplyDeferredLen`).
#[derive(Debug)]
#[must_use = "a deferred length must be filled in with set_deferred_len"]
pub struct Deferred {
    at: usize,
    kind: u8,
    /// The writer dropped replies when the length was reserved: the header
    /// is dropped too, as the elements after it were.
    dropped: bool,
}

impl ReplyWriter {
    pub fn new(protocol: Protocol) -> Self {
        ReplyWriter {
            buf: Vec::new(),
            protocol,
            silenced: false,
            pushing: false,
        }
    }

    /// Silences replies (CLIENT REPLY OFF, or SKIP for one command) or
    /// lets them out again. Pushes are never silenced.
    pub fn set_silenced(&mut self, silenced: bool) {
        self.silenced = silenced;
    }

    /// True if what is written now is dropped.
    fn dropping(&self) -> bool {
        self.silenced && !self.pushing
    }

    /// Writes a push through `write`: it reaches the client even while its
    /// replies are silenced.
    pub fn pushing<R>(&mut self, write: impl FnOnce(&mut Self) -> R) -> R {
        let outer = std::mem::replace(&mut self.pushing, true);
        let result = write(self);
        self.pushing = outer;
        result
    }

    /// Appends encoded bytes, unless replies are silenced.
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if !self.dropping() {
            self.buf.extend_from_slice(bytes);
        }
    }

    #[inline]
    fn put_byte(&mut self, byte: u8) {
        if !self.dropping() {
            self.buf.push(byte);
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    pub fn is_resp3(&self) -> bool {
        self.protocol == Protocol::Resp3
    }

    /// The encoded bytes so far.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything after `len` (to retract a reply, e.g. `CLIENT REPLY OFF`).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Empties the buffer, keeping its allocation unless it grew large (so a
    /// single huge reply does not pin memory for the connection's lifetime).
    pub fn clear(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::new();
        }
    }

    /// Takes the encoded bytes, leaving the writer empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Appends already-encoded protocol bytes (a reply, so silenced with
    /// the others).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }

    fn header(&mut self, kind: u8, n: i64) {
        let mut digits = [0u8; 20];
        self.put_byte(kind);
        self.put(num::format_i64(n, &mut digits));
        self.put(b"\r\n");
    }

    /// `+OK`
    pub fn ok(&mut self) {
        self.put(b"+OK\r\n");
    }

    /// A simple string (`+text`). The text must not contain CR or LF.
    pub fn simple(&mut self, text: &str) {
        self.simple_bytes(text.as_bytes());
    }

    pub fn simple_bytes(&mut self, text: &[u8]) {
        self.put_byte(b'+');
        self.put(text);
        self.put(b"\r\n");
    }

    /// An error reply (`-CODE message`).
    pub fn error(&mut self, err: &CommandError) {
        self.put_byte(b'-');
        self.put(err.bytes());
        self.put(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, bytes: &[u8]) {
        self.header(b'$', bytes.len() as i64);
        self.put(bytes);
        self.put(b"\r\n");
    }

    /// An integer sent as a bulk string (Redis's `addReplyBulkLongLong`).
    pub fn bulk_int(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        self.bulk(num::format_i64(n, &mut digits));
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.put(b"$-1\r\n"),
            Protocol::Resp3 => self.put(b"_\r\n"),
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.put(b"*-1\r\n"),
            Protocol::Resp3 => self.put(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%` in RESP3, a flat array of `2*len` in RESP2.
    pub fn map(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', 2 * len as i64),
            Protocol::Resp3 => self.header(b'%', len as i64),
        }
    }

    /// A set: `~` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'~', len as i64),
        }
    }

    /// A push message: `>` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'>', len as i64),
        }
    }

    /// An already-encoded push message whose first byte is a placeholder
    /// for its aggregate type (a pub/sub frame encoded once for all
    /// receivers): written as `*` in RESP2, `>` in RESP3. A push: it is
    /// written even while replies are silenced. A MONITOR line (`+...`)
    /// is a plain reply: written as it is, and dropped while silenced.
    pub fn push_frame(&mut self, frame: &[u8]) {
        let Some((&first, rest)) = frame.split_first() else {
            return;
        };
        if first == b'+' {
            self.put(frame);
            return;
        }
        let kind = match self.protocol {
            Protocol::Resp2 => b'*',
            Protocol::Resp3 => b'>',
        };
        self.pushing(|w| {
            w.put_byte(kind);
            w.put(rest);
        });
    }

    /// A double: `,<%.17g>` in RESP3, a bulk string in RESP2.
    pub fn double(&mut self, value: f64) {
        self.double_text(num::format_g17(value).as_bytes());
    }

    /// A double already formatted (GEOPOS's `%.17Lf` coordinates): a bulk
    /// string in RESP2, a RESP3 double.
    pub fn double_text(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.put_byte(b',');
                self.put(text);
                self.put(b"\r\n");
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, value: bool) {
        match (self.protocol, value) {
            (Protocol::Resp2, true) => self.put(b":1\r\n"),
            (Protocol::Resp2, false) => self.put(b":0\r\n"),
            (Protocol::Resp3, true) => self.put(b"#t\r\n"),
            (Protocol::Resp3, false) => self.put(b"#f\r\n"),
        }
    }

    /// Verbatim text (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2), as
    /// Redis sends INFO and CLIENT LIST.
    pub fn verbatim(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.put(b"txt:");
                self.put(text);
                self.put(b"\r\n");
            }
        }
    }

    /// An array of bulk strings.
    pub fn bulk_array<I, B>(&mut self, items: I)
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: ExactSizeIterator,
        B: AsRef<[u8]>,
    {
        let items = items.into_iter();
        self.array(items.len());
        for item in items {
            self.bulk(item.as_ref());
        }
    }

    /// Reserves the header of an array whose length is not known yet.
    pub fn deferred_array(&mut self) -> Deferred {
        Deferred {
            at: self.buf.len(),
            kind: b'*',
            dropped: self.dropping(),
        }
    }

    /// Reserves the header of a map whose length is not known yet.
    pub fn deferred_map(&mut self) -> Deferred {
        Deferred {
            at: self.buf.len(),
            kind: b'%',
            dropped: self.dropping(),
        }
    }

    /// Writes the header reserved by `deferred_*` now that `len` is known.
    /// For a map, `len` counts pairs.
    pub fn set_deferred_len(&mut self, deferred: Deferred, len: usize) {
        if deferred.dropped {
            return;
        }
        let (kind, n) = match (deferred.kind, self.protocol) {
            (b'%', Protocol::Resp2) => (b'*', 2 * len),
            (kind, _) => (kind, len),
        };
        let mut header = Vec::with_capacity(24);
        let mut digits = [0u8; 20];
        header.push(kind);
        header.extend_from_slice(num::format_i64(n as i64, &mut digits));
        header.extend_from_slice(b"\r\n");
        self.buf.splice(deferred.at..deferred.at, header);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(protocol: Protocol, f: impl FnOnce(&mut ReplyWriter)) -> Vec<u8> {
        let mut w = ReplyWriter::new(protocol);
        f(&mut w);
        w.take()
    }

    #[test]
    fn types_follow_the_protocol_version() {
        use Protocol::*;
        assert_eq!(encode(Resp2, |w| w.null()), b"$-1\r\n");
        assert_eq!(encode(Resp3, |w| w.null()), b"_\r\n");
        assert_eq!(encode(Resp2, |w| w.null_array()), b"*-1\r\n");
        assert_eq!(encode(Resp2, |w| w.map(2)), b"*4\r\n");
        assert_eq!(encode(Resp3, |w| w.map(2)), b"%2\r\n");
        assert_eq!(encode(Resp2, |w| w.double(1.5)), b"$3\r\n1.5\r\n");
        assert_eq!(encode(Resp3, |w| w.double(1.5)), b",1.5\r\n");
        assert_eq!(encode(Resp3, |w| w.double(f64::INFINITY)), b",inf\r\n");
        assert_eq!(encode(Resp2, |w| w.boolean(true)), b":1\r\n");
        assert_eq!(encode(Resp3, |w| w.verbatim(b"hi")), b"=6\r\ntxt:hi\r\n");
        assert_eq!(encode(Resp2, |w| w.bulk_int(-7)), b"$2\r\n-7\r\n");
    }

    #[test]
    fn deferred_lengths_are_spliced_in() {
        let out = encode(Protocol::Resp2, |w| {
            w.int(1);
            let d = w.deferred_map();
            w.bulk(b"a");
            w.int(2);
            w.set_deferred_len(d, 1);
        });
        assert_eq!(out, b":1\r\n*2\r\n$1\r\na\r\n:2\r\n");
    }

    #[test]
    fn silenced_replies_are_dropped_but_pushes_are_not() {
        let out = encode(Protocol::Resp3, |w| {
            w.int(1);
            w.set_silenced(true);
            let d = w.deferred_array();
            w.bulk(b"dropped");
            w.pushing(|w| {
                w.push(2);
                w.bulk(b"kept");
                w.int(2);
            });
            w.push_frame(b"?1\r\n$4\r\nalso\r\n");
            w.set_deferred_len(d, 1);
            w.ok();
            w.set_silenced(false);
            w.int(3);
        });
        assert_eq!(
            String::from_utf8_lossy(&out),
            ":1\r\n>2\r\n$4\r\nkept\r\n:2\r\n>1\r\n$4\r\nalso\r\n:3\r\n"
        );
    }
}
