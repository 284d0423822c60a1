//! The request parser. It is a state machine fed with whatever bytes have
//! arrived, so a request split across any number of reads parses the same as
//! one that arrived whole, and no work is repeated when more bytes come.
//!
//! It follows Redis's `processMultibulkBuffer` and `processInlineBuffer`
//! closely, quirks included, because clients and tests depend on them:
//! a header line ends at `\r` and the byte after it is skipped unchecked; the
//! two bytes after a bulk are skipped unchecked; `*0` and `*-1` are no request
//! at all. Redis finds line ends with C's `strchr`, which stops at a NUL
//! byte: a NUL before the line end means the end has not arrived (the
//! connection then waits until the line outgrows the limit). And the 64 KiB
//! limit on header lines and inline requests applies only while no line end
//! has arrived: a longer line that arrives whole is accepted (and then
//! rejected by what it says).
//!
//! Memory follows the bytes that arrived, never a length the client claims:
//! an argument grows as its data comes in.

use std::fmt;

/// Longest inline request, or multibulk/bulk header line (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Before authentication, Redis accepts at most this many arguments...
const UNAUTH_MAX_ARGS: i64 = 10;
/// ...and arguments of at most this many bytes.
const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Argument vectors start at most this large and grow as arguments arrive.
const INITIAL_ARGV_CAPACITY: usize = 1024;

/// The limits a request is parsed under. They can change between two
/// requests on one connection (after `AUTH`, or `CONFIG SET`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest single argument.
    pub max_bulk_len: i64,
    /// `client-query-buffer-limit`: the most a request may hold in memory.
    pub max_query_len: u64,
    /// True while the connection still has to authenticate; tighter limits apply.
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_query_len: 1024 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A request that breaks the protocol. Redis replies with the error (if it has
/// one) and closes the connection, because the stream can no longer be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    /// The request outgrew `client-query-buffer-limit`: Redis closes the
    /// connection without a reply.
    QueryBufferLimit,
}

impl ProtocolError {
    /// The error line Redis sends before closing, or `None` when it just closes.
    pub fn reply_text(&self) -> Option<String> {
        let text = match self {
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::TooBigMultibulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::ExpectedDollar(got) => {
                // Redis maps CR and LF in error text to spaces.
                let shown = match *got {
                    b'\r' | b'\n' => ' ',
                    other => char::from(other),
                };
                return Some(format!("ERR Protocol error: expected '$', got '{shown}'"));
            }
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
            ProtocolError::QueryBufferLimit => return None,
        };
        Some(format!("ERR Protocol error: {text}"))
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reply_text() {
            Some(text) => f.write_str(&text),
            None => f.write_str("query buffer limit reached"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// One complete request: the command name and its arguments, binary-safe.
pub type Argv = Vec<Vec<u8>>;

#[derive(Debug)]
enum State {
    /// Between requests: the next byte decides inline or multibulk.
    Idle,
    /// Collecting an inline request line up to `\n`.
    Inline,
    /// Collecting the `*<count>` line; `saw_cr` once its `\r` has arrived.
    MultibulkCount { saw_cr: bool },
    /// Collecting a `$<len>` line.
    BulkHeader { saw_cr: bool },
    /// Copying `remaining` bytes of an argument, then skipping `trailer` bytes.
    BulkData { remaining: usize },
    /// Skipping the (unchecked) two bytes that follow an argument.
    BulkTrailer { remaining: usize },
}

/// A resumable request parser. Feed it bytes with [`RequestParser::advance`].
#[derive(Debug)]
pub struct RequestParser {
    state: State,
    /// A header or inline line that has not ended yet.
    line: Vec<u8>,
    /// Arguments parsed so far for the request in progress.
    argv: Argv,
    /// Arguments still to come for the request in progress.
    args_left: usize,
    /// Bytes held by the request in progress (for the query buffer limit).
    request_bytes: u64,
    /// Argument buffers from earlier requests, cleared, kept for reuse: a
    /// steady stream of small requests then parses without allocating.
    spare_args: Vec<Vec<u8>>,
    /// An emptied argument vector from an earlier request.
    spare_argv: Option<Argv>,
}

/// Recycled argument buffers larger than this are freed instead of kept, so
/// one huge request does not pin its memory to the connection.
const MAX_SPARE_ARG: usize = 4 * 1024;
/// At most this many argument buffers are kept for reuse.
const MAX_SPARE_ARGS: usize = 32;

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    pub fn new() -> Self {
        RequestParser {
            state: State::Idle,
            line: Vec::new(),
            argv: Vec::new(),
            args_left: 0,
            request_bytes: 0,
            spare_args: Vec::new(),
            spare_argv: None,
        }
    }

    /// Hands a finished request's buffers back for reuse by later requests.
    pub fn recycle(&mut self, mut argv: Argv) {
        for mut arg in argv.drain(..) {
            if self.spare_args.len() >= MAX_SPARE_ARGS {
                break;
            }
            if arg.capacity() <= MAX_SPARE_ARG {
                arg.clear();
                self.spare_args.push(arg);
            }
        }
        if argv.capacity() <= INITIAL_ARGV_CAPACITY {
            self.spare_argv = Some(argv);
        }
    }

    /// True when no request is partly parsed: the last byte fed ended one.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.line.is_empty()
    }

    /// Bytes of argument data still expected, when the parser is in the middle
    /// of a large argument. The caller may then read them straight into
    /// [`RequestParser::bulk_buffer`] instead of through its small read buffer.
    pub fn pending_bulk(&self) -> Option<usize> {
        match self.state {
            State::BulkData { remaining } => Some(remaining),
            _ => None,
        }
    }

    /// The argument being filled, with room reserved for up to `want` more bytes
    /// (never more than are still expected). Pair with [`Self::bulk_filled`].
    pub fn bulk_buffer(&mut self, want: usize) -> &mut Vec<u8> {
        let remaining = self.pending_bulk().unwrap_or(0);
        let arg = self
            .argv
            .last_mut()
            .expect("bulk in progress has an argument");
        reserve_for(arg, want.min(remaining), arg.len() + remaining);
        arg
    }

    /// Records that `n` bytes were appended to [`Self::bulk_buffer`] directly.
    pub fn bulk_filled(&mut self, n: usize) {
        if let State::BulkData { remaining } = &mut self.state {
            *remaining -= n;
            self.request_bytes += n as u64;
            if *remaining == 0 {
                self.state = State::BulkTrailer { remaining: 2 };
            }
        }
    }

    /// Parses as much of `input` as it can. Returns how many bytes were used
    /// and, if a request completed, its argument vector. Call again with the
    /// rest of the input while it returns a request; when it returns `None`,
    /// all of `input` was used and more bytes are needed.
    ///
    /// Requests with no arguments (`*0`, `*-1`, an empty line) complete with an
    /// empty vector: Redis ignores them, and so should the caller.
    pub fn advance(
        &mut self,
        input: &[u8],
        limits: &Limits,
    ) -> Result<(usize, Option<Argv>), ProtocolError> {
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                State::Idle => {
                    self.state = if input[pos] == b'*' {
                        State::MultibulkCount { saw_cr: false }
                    } else {
                        State::Inline
                    };
                }
                State::Inline => {
                    let rest = &input[pos..];
                    match self.line_end(b'\n', rest) {
                        None => {
                            self.push_partial_line(rest, ProtocolError::TooBigInline)?;
                            pos = input.len();
                        }
                        Some(i) => {
                            self.line.extend_from_slice(&rest[..i]);
                            pos += i + 1;
                            let argv = self.finish_inline()?;
                            return Ok((pos, Some(argv)));
                        }
                    }
                }
                State::MultibulkCount { saw_cr } | State::BulkHeader { saw_cr } => {
                    let is_count = matches!(self.state, State::MultibulkCount { .. });
                    let rest = &input[pos..];
                    // Fast path: the whole header line is here and nothing of
                    // it was buffered before, so parse it in place.
                    if !saw_cr
                        && self.line.is_empty()
                        && let Some(i) = self.line_end(b'\r', rest).filter(|&i| i + 1 < rest.len())
                    {
                        pos += i + 2; // the byte after '\r' is skipped unchecked
                        let done = if is_count {
                            self.finish_count(&rest[..i], limits)?
                        } else {
                            self.finish_bulk_header(&rest[..i], limits)?
                        };
                        if let Some(argv) = done {
                            return Ok((pos, Some(argv)));
                        }
                        continue;
                    }
                    if saw_cr {
                        // Redis skips the byte after '\r' without looking at it.
                        pos += 1;
                        let line = std::mem::take(&mut self.line);
                        let done = if is_count {
                            self.finish_count(&line, limits)
                        } else {
                            self.finish_bulk_header(&line, limits)
                        };
                        self.line = line;
                        self.line.clear();
                        if let Some(argv) = done? {
                            return Ok((pos, Some(argv)));
                        }
                        continue;
                    }
                    match self.line_end(b'\r', rest) {
                        None => {
                            self.push_partial_line(rest, too_big_header(is_count))?;
                            pos = input.len();
                        }
                        Some(i) => {
                            self.line.extend_from_slice(&rest[..i]);
                            pos += i + 1;
                            self.state = if is_count {
                                State::MultibulkCount { saw_cr: true }
                            } else {
                                State::BulkHeader { saw_cr: true }
                            };
                        }
                    }
                }
                State::BulkData { remaining } => {
                    let take = remaining.min(input.len() - pos);
                    let arg = self
                        .argv
                        .last_mut()
                        .expect("bulk in progress has an argument");
                    let full_len = arg.len() + remaining;
                    reserve_for(arg, take, full_len);
                    arg.extend_from_slice(&input[pos..pos + take]);
                    pos += take;
                    self.request_bytes += take as u64;
                    if self.request_bytes > limits.max_query_len {
                        return Err(ProtocolError::QueryBufferLimit);
                    }
                    self.state = if take == remaining {
                        State::BulkTrailer { remaining: 2 }
                    } else {
                        State::BulkData {
                            remaining: remaining - take,
                        }
                    };
                }
                State::BulkTrailer { remaining } => {
                    let skip = remaining.min(input.len() - pos);
                    pos += skip;
                    if skip < remaining {
                        self.state = State::BulkTrailer {
                            remaining: remaining - skip,
                        };
                        continue;
                    }
                    self.args_left -= 1;
                    if self.args_left == 0 {
                        return Ok((pos, Some(self.take_request())));
                    }
                    self.state = State::BulkHeader { saw_cr: false };
                }
            }
        }
        Ok((pos, None))
    }

    /// Where the line in progress ends in `rest` (the index of `end`), as
    /// Redis's `strchr` would find it: never past a NUL byte, whether that
    /// NUL is in `rest` or already in the line.
    fn line_end(&self, end: u8, rest: &[u8]) -> Option<usize> {
        if self.line.contains(&0) {
            return None;
        }
        let i = rest.iter().position(|&b| b == end || b == 0)?;
        (rest[i] == end).then_some(i)
    }

    /// Appends input that holds no line end to the line in progress; past
    /// 64 KiB without a line end the request is refused.
    fn push_partial_line(
        &mut self,
        bytes: &[u8],
        too_big: ProtocolError,
    ) -> Result<(), ProtocolError> {
        if self.line.len() + bytes.len() > INLINE_MAX_SIZE {
            return Err(too_big);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn finish_inline(&mut self) -> Result<Argv, ProtocolError> {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.state = State::Idle;
        split_args(&line).ok_or(ProtocolError::UnbalancedQuotes)
    }

    /// Handles a complete `*<count>` line. Returns an (empty) request for
    /// counts of zero or less, which Redis silently skips.
    fn finish_count(
        &mut self,
        line: &[u8],
        limits: &Limits,
    ) -> Result<Option<Argv>, ProtocolError> {
        let count = crate::num::parse_i64(&line[1..])
            .filter(|&n| n <= i64::from(i32::MAX))
            .ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > UNAUTH_MAX_ARGS && limits.unauthenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        if count <= 0 {
            self.state = State::Idle;
            return Ok(Some(Vec::new()));
        }
        self.args_left = count as usize;
        self.argv = match self.spare_argv.take() {
            Some(argv) => argv,
            None => Vec::with_capacity(self.args_left.min(INITIAL_ARGV_CAPACITY)),
        };
        self.request_bytes = 0;
        self.state = State::BulkHeader { saw_cr: false };
        Ok(None)
    }

    fn finish_bulk_header(
        &mut self,
        line: &[u8],
        limits: &Limits,
    ) -> Result<Option<Argv>, ProtocolError> {
        let first = line.first().copied().unwrap_or(b'\r');
        if first != b'$' {
            return Err(ProtocolError::ExpectedDollar(first));
        }
        let len = crate::num::parse_i64(&line[1..])
            .filter(|&n| n >= 0 && n <= limits.max_bulk_len)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if len > UNAUTH_MAX_BULK && limits.unauthenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let arg = self.spare_args.pop().unwrap_or_default();
        self.argv.push(arg);
        self.state = if len == 0 {
            State::BulkTrailer { remaining: 2 }
        } else {
            State::BulkData {
                remaining: len as usize,
            }
        };
        Ok(None)
    }

    fn take_request(&mut self) -> Argv {
        self.state = State::Idle;
        self.request_bytes = 0;
        std::mem::take(&mut self.argv)
    }
}

/// Makes room for `extra` more bytes in an argument whose final length is
/// `full_len`, doubling (so a large argument is copied O(1) times on average)
/// but never past what the client said it will send *and* never ahead of the
/// bytes actually received by more than a factor of two.
fn reserve_for(arg: &mut Vec<u8>, extra: usize, full_len: usize) {
    let needed = arg.len() + extra;
    if needed > arg.capacity() {
        let target = needed.max(arg.capacity() * 2).min(full_len);
        arg.reserve_exact(target - arg.len());
    }
}

fn too_big_header(is_count: bool) -> ProtocolError {
    if is_count {
        ProtocolError::TooBigMultibulkCount
    } else {
        ProtocolError::TooBigBulkCount
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Splits an inline request into arguments with redis-cli's quoting rules
/// (Redis's `sdssplitargs`): `"..."` with `\n \r \t \b \a \xHH` escapes,
/// `'...'` with `\'`, and a closing quote that must be followed by a space.
/// Returns `None` for unbalanced quotes. A NUL byte ends the line, as it does
/// for Redis's C string functions (requests never contain one: the parser
/// treats a NUL as "no line end yet"; configuration files may).
pub fn split_args(line: &[u8]) -> Option<Argv> {
    let line = match memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = line.get(p).copied();
            if in_double {
                match c {
                    None => return None,
                    Some(b'\\')
                        if line.get(p + 1) == Some(&b'x')
                            && line.get(p + 2).is_some_and(u8::is_ascii_hexdigit)
                            && line.get(p + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        current.push(hex_value(line[p + 2]) * 16 + hex_value(line[p + 3]));
                        p += 3;
                    }
                    Some(b'\\') if p + 1 < line.len() => {
                        p += 1;
                        current.push(match line[p] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if line.get(p + 1).is_some_and(|&n| !is_space(n)) {
                            return None;
                        }
                        p += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else if in_single {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(p + 1) == Some(&b'\'') => {
                        p += 1;
                        current.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(p + 1).is_some_and(|&n| !is_space(n)) {
                            return None;
                        }
                        p += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => current.push(other),
                }
            }
            p += 1;
        }
        args.push(current);
    }
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes and collects the requests.
    fn parse_in_steps(input: &[u8], step: usize) -> Result<Vec<Argv>, ProtocolError> {
        let mut parser = RequestParser::new();
        let limits = Limits::default();
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            let mut rest = chunk;
            loop {
                let (used, request) = parser.advance(rest, &limits)?;
                rest = &rest[used..];
                match request {
                    Some(argv) => out.push(argv),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    fn args(items: &[&str]) -> Argv {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_parses_identically_at_every_split() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n*1\r\n$4\r\nPING\r\n";
        for step in 1..=input.len() {
            let got = parse_in_steps(input, step).unwrap();
            assert_eq!(
                got,
                vec![
                    vec![b"SET".to_vec(), b"k".to_vec(), b"he\r\no".to_vec()],
                    args(&["PING"])
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn inline_parses_quotes_and_escapes() {
        let got = parse_in_steps(b"SET a \"b c\\x41\\n\" 'it\\'s'\r\nPING\n", 3).unwrap();
        assert_eq!(
            got,
            vec![
                vec![
                    b"SET".to_vec(),
                    b"a".to_vec(),
                    b"b cA\n".to_vec(),
                    b"it's".to_vec()
                ],
                args(&["PING"])
            ]
        );
    }

    #[test]
    fn a_long_line_that_arrives_whole_is_not_too_big() {
        let mut line = vec![b'a'; INLINE_MAX_SIZE + 100];
        line.extend_from_slice(b"\r\n");
        let got = parse_in_steps(&line, line.len()).unwrap();
        assert_eq!(got[0][0].len(), INLINE_MAX_SIZE + 100);
        let mut count = b"*".to_vec();
        count.extend(vec![b'1'; INLINE_MAX_SIZE + 100]);
        count.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_in_steps(&count, count.len()).unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
    }

    #[test]
    fn empty_requests_are_empty_vectors() {
        let got = parse_in_steps(b"*0\r\n*-1\r\n\r\n", 1).unwrap();
        assert_eq!(got, vec![Vec::<Vec<u8>>::new(); 3]);
    }

    #[test]
    fn protocol_errors_match_redis() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"*x\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*3000000000\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*1\r\n+x\r\n", ProtocolError::ExpectedDollar(b'+')),
            (b"*1\r\n$-1\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$600000000\r\n", ProtocolError::InvalidBulkLength),
            (b"SET a \"b\r\n", ProtocolError::UnbalancedQuotes),
            (b"SET a \"b\"c\r\n", ProtocolError::UnbalancedQuotes),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_in_steps(input, 1).unwrap_err(), *expected);
        }
        let long = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(
            parse_in_steps(&long, 4096).unwrap_err(),
            ProtocolError::TooBigInline
        );
        let mut long_count = b"*".to_vec();
        long_count.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
        assert_eq!(
            parse_in_steps(&long_count, 4096).unwrap_err(),
            ProtocolError::TooBigMultibulkCount
        );
    }

    #[test]
    fn unauthenticated_limits_apply_only_before_auth() {
        let mut parser = RequestParser::new();
        let limits = Limits {
            unauthenticated: true,
            ..Limits::default()
        };
        assert_eq!(
            parser.advance(b"*11\r\n", &limits).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        let mut parser = RequestParser::new();
        assert_eq!(
            parser.advance(b"*1\r\n$16385\r\n", &limits).unwrap_err(),
            ProtocolError::UnauthenticatedBulkLength
        );
    }

    #[test]
    fn claimed_length_does_not_reserve_memory() {
        let mut parser = RequestParser::new();
        let (_, req) = parser
            .advance(b"*1\r\n$500000000\r\nabc", &Limits::default())
            .unwrap();
        assert!(req.is_none());
        assert!(parser.argv[0].capacity() < 1024);
        assert_eq!(parser.pending_bulk(), Some(500_000_000 - 3));
    }

    #[test]
    fn recycled_buffers_are_reused_and_cleared() {
        let mut parser = RequestParser::new();
        let limits = Limits::default();
        let (_, first) = parser
            .advance(b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n", &limits)
            .unwrap();
        let first = first.unwrap();
        let ptr = first[1].as_ptr();
        parser.recycle(first);
        let (_, second) = parser
            .advance(b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", &limits)
            .unwrap();
        let second = second.unwrap();
        assert_eq!(second, vec![b"GET".to_vec(), b"x".to_vec()]);
        // The last buffer returned is the first reused (a stack).
        assert_eq!(second[0].as_ptr(), ptr);
    }

    #[test]
    fn query_buffer_limit_closes() {
        let mut parser = RequestParser::new();
        let limits = Limits {
            max_query_len: 4,
            ..Limits::default()
        };
        assert_eq!(
            parser
                .advance(b"*1\r\n$10\r\n0123456789\r\n", &limits)
                .unwrap_err(),
            ProtocolError::QueryBufferLimit
        );
    }
}
