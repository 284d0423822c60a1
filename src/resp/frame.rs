//! Replies as values: the client side of RESP. `sedis-cli`, `sedis-benchmark`
//! and the tests read the server's replies through this, in RESP2 or RESP3.

use std::io::{self, BufRead};

/// One complete reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Vec<u8>),
    /// `-CODE message` (or RESP3's `!` blob error)
    Error(Vec<u8>),
    /// `:n`
    Integer(i64),
    /// `$len` data
    Bulk(Vec<u8>),
    /// `$-1` in RESP2
    NullBulk,
    /// `*-1` in RESP2
    NullArray,
    /// `_` in RESP3
    Null,
    /// `*n`
    Array(Vec<Frame>),
    /// `,` in RESP3, kept as the text the server sent so nothing is lost
    Double(Vec<u8>),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(` in RESP3
    BigNumber(Vec<u8>),
    /// `=len\r\nfmt:text` in RESP3
    Verbatim { format: Vec<u8>, text: Vec<u8> },
    /// `%n` in RESP3
    Map(Vec<(Frame, Frame)>),
    /// `~n` in RESP3
    Set(Vec<Frame>),
    /// `>n` in RESP3
    Push(Vec<Frame>),
    /// `|n` in RESP3: attributes, then the reply they describe
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

/// Replies deeper than this are refused (a hostile server cannot blow our stack).
const MAX_DEPTH: usize = 512;

/// Bytes that do not form a valid reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid reply: {}", self.0)
    }
}

impl std::error::Error for FrameError {}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

impl Frame {
    /// Parses one reply from the start of `buf`. `Ok(None)` means the reply is
    /// not complete yet; otherwise returns it and how many bytes it used.
    pub fn parse(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let mut pos = 0;
        match parse_at(buf, &mut pos, 0)? {
            Some(frame) => Ok(Some((frame, pos))),
            None => Ok(None),
        }
    }

    /// Reads one reply, blocking until it is complete.
    pub fn read<R: BufRead>(reader: &mut R) -> io::Result<Frame> {
        read_frame(reader, 0)
    }

    /// Encodes a request as a RESP multibulk array of bulk strings.
    pub fn encode_request<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            let arg = arg.as_ref();
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// True for error replies.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// The bytes of a string-like reply (simple, bulk, verbatim text, error).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) | Frame::Double(b) => Some(b),
            Frame::BigNumber(b) => Some(b),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Encodes the frame back to RESP, byte for byte as it was received.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let line = |out: &mut Vec<u8>, kind: u8, body: &[u8]| {
            out.push(kind);
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        };
        match self {
            Frame::Simple(s) => line(out, b'+', s),
            Frame::Error(s) => line(out, b'-', s),
            Frame::Integer(n) => line(out, b':', n.to_string().as_bytes()),
            Frame::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Double(d) => line(out, b',', d),
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(n) => line(out, b'(', n),
            Frame::Verbatim { format, text } => {
                line(
                    out,
                    b'=',
                    (format.len() + 1 + text.len()).to_string().as_bytes(),
                );
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let kind = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                line(out, kind, items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Frame::Map(pairs) => {
                line(out, b'%', pairs.len().to_string().as_bytes());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Frame::Attribute(pairs, inner) => {
                line(out, b'|', pairs.len().to_string().as_bytes());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
                inner.encode(out);
            }
        }
    }
}

fn parse_len(line: &[u8]) -> Result<i64, FrameError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| FrameError(format!("bad length {:?}", String::from_utf8_lossy(line))))
}

/// Finds the line starting at `*pos`, returning it without CRLF and moving
/// `*pos` past it, or `None` if the CRLF has not arrived.
fn take_line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = &buf[*pos..];
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    *pos += end + 2;
    Some(&rest[..end])
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, FrameError> {
    if depth > MAX_DEPTH {
        return Err(FrameError("nested too deeply".into()));
    }
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    let start = *pos;
    *pos += 1;
    let Some(line) = take_line(buf, pos) else {
        *pos = start;
        return Ok(None);
    };
    if let Some(frame) = line_frame(kind, line)? {
        return Ok(Some(frame));
    }
    let len = parse_len(line)?;
    let frame = match kind {
        _ if len < 0 => null_of(kind),
        b'$' | b'=' | b'!' => {
            let len = len as usize;
            if buf.len() < *pos + len + 2 {
                *pos = start;
                return Ok(None);
            }
            let data = buf[*pos..*pos + len].to_vec();
            *pos += len + 2;
            blob_frame(kind, data)
        }
        _ => {
            let wanted = item_count(kind, len);
            let mut items = Vec::with_capacity(wanted.min(1024));
            for _ in 0..wanted {
                match parse_at(buf, pos, depth + 1)? {
                    Some(item) => items.push(item),
                    None => {
                        *pos = start;
                        return Ok(None);
                    }
                }
            }
            aggregate_frame(kind, items)
        }
    };
    Ok(Some(frame))
}

/// The frame of a type that is all in its first line (`+ - : , ( _ #`);
/// None for the blob and aggregate types, whose line holds a length; an
/// error for a type byte RESP does not have.
fn line_frame(kind: u8, line: &[u8]) -> Result<Option<Frame>, FrameError> {
    Ok(Some(match kind {
        b'+' => Frame::Simple(line.to_vec()),
        b'-' => Frame::Error(line.to_vec()),
        b':' => Frame::Integer(parse_len(line)?),
        b',' => Frame::Double(line.to_vec()),
        b'(' => Frame::BigNumber(line.to_vec()),
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(line == b"t"),
        b'$' | b'=' | b'!' | b'*' | b'~' | b'>' | b'%' | b'|' => return Ok(None),
        other => {
            return Err(FrameError(format!(
                "unknown reply type {:?}",
                char::from(other)
            )));
        }
    }))
}

/// A negative length: RESP2's null bulk string or null array.
fn null_of(kind: u8) -> Frame {
    match kind {
        b'$' | b'=' | b'!' => Frame::NullBulk,
        _ => Frame::NullArray,
    }
}

/// How many frames follow an aggregate's header: maps and attributes
/// count pairs, and an attribute's pairs are followed by the frame they
/// describe.
fn item_count(kind: u8, len: i64) -> usize {
    let len = len as usize;
    match kind {
        b'%' => len.saturating_mul(2),
        b'|' => len.saturating_mul(2).saturating_add(1),
        _ => len,
    }
}

/// A blob's frame: `$` bulk string, `!` blob error, `=` verbatim string.
fn blob_frame(kind: u8, data: Vec<u8>) -> Frame {
    match kind {
        b'$' => Frame::Bulk(data),
        b'!' => Frame::Error(data),
        _ => verbatim(data),
    }
}

/// An aggregate's frame from its items; an attribute's last item is the
/// frame it describes.
fn aggregate_frame(kind: u8, mut items: Vec<Frame>) -> Frame {
    match kind {
        b'*' => Frame::Array(items),
        b'~' => Frame::Set(items),
        b'>' => Frame::Push(items),
        b'%' => Frame::Map(pair_up(items)),
        _ => {
            let inner = items.pop().unwrap_or(Frame::Null);
            Frame::Attribute(pair_up(items), Box::new(inner))
        }
    }
}

fn verbatim(data: Vec<u8>) -> Frame {
    match data.iter().position(|&b| b == b':') {
        Some(i) if i == 3 => Frame::Verbatim {
            format: data[..i].to_vec(),
            text: data[i + 1..].to_vec(),
        },
        _ => Frame::Bulk(data),
    }
}

fn pair_up(items: Vec<Frame>) -> Vec<(Frame, Frame)> {
    let mut pairs = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    pairs
}

fn read_line<R: BufRead>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-reply",
        ));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn read_frame<R: BufRead>(reader: &mut R, depth: usize) -> io::Result<Frame> {
    if depth > MAX_DEPTH {
        return Err(FrameError("nested too deeply".into()).into());
    }
    let line = read_line(reader)?;
    let (&kind, body) = line
        .split_first()
        .ok_or_else(|| FrameError("empty line".into()))?;
    if let Some(frame) = line_frame(kind, body)? {
        return Ok(frame);
    }
    let len = parse_len(body)?;
    Ok(match kind {
        _ if len < 0 => null_of(kind),
        b'$' | b'=' | b'!' => {
            let mut data = Vec::new();
            reader
                .by_ref()
                .take(len as u64 + 2)
                .read_to_end(&mut data)?;
            if data.len() != len as usize + 2 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed mid-reply",
                ));
            }
            data.truncate(len as usize);
            blob_frame(kind, data)
        }
        _ => {
            let wanted = item_count(kind, len);
            let mut items = Vec::with_capacity(wanted.min(1024));
            for _ in 0..wanted {
                items.push(read_frame(reader, depth + 1)?);
            }
            aggregate_frame(kind, items)
        }
    })
}

use std::io::Read as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_and_waits_for_completion() {
        let wire: &[u8] =
            b"*3\r\n$3\r\nfoo\r\n:7\r\n%1\r\n+a\r\n,1.5\r\n_\r\n=8\r\ntxt:info\r\n#t\r\n";
        for cut in 0..wire.len() {
            let partial = Frame::parse(&wire[..cut]).unwrap();
            if let Some((_, used)) = partial {
                assert!(used <= cut);
            }
        }
        let mut pos = 0;
        let mut frames = Vec::new();
        while let Some((frame, used)) = Frame::parse(&wire[pos..]).unwrap() {
            pos += used;
            frames.push(frame);
        }
        assert_eq!(frames.len(), 4);
        let mut out = Vec::new();
        for f in &frames {
            f.encode(&mut out);
        }
        assert_eq!(out, wire);
        let mut reader = std::io::Cursor::new(wire);
        assert_eq!(Frame::read(&mut reader).unwrap(), frames[0]);
    }
}
