//! Error replies: one canned text for each error Redis shares between commands,
//! so every handler says it byte for byte the same way (Redis's `shared.*err`).
//!
//! A [`CommandError`] is a reply: the connection stays open. A protocol error is
//! different (the stream can no longer be trusted) and lives in the protocol
//! reader.

use std::borrow::Cow;
use std::fmt;

/// An error reply to one command. The text is the whole line after `-`,
/// including the code (`ERR`, `WRONGTYPE`, ...), exactly as Redis sends it.
/// It is bytes, not `str`: Redis echoes a client's arguments into some errors
/// unchanged, and those need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError(Cow<'static, [u8]>);

impl CommandError {
    /// A canned error whose text is known at compile time (no allocation).
    pub const fn canned(text: &'static str) -> Self {
        CommandError(Cow::Borrowed(text.as_bytes()))
    }

    /// An error from raw bytes (code included), CR and LF mapped to spaces.
    pub fn from_bytes(mut text: Vec<u8>) -> Self {
        for b in &mut text {
            if matches!(*b, b'\r' | b'\n') {
                *b = b' ';
            }
        }
        CommandError(Cow::Owned(text))
    }

    /// An `ERR`-coded error built at run time. Redis replaces CR and LF with
    /// spaces in error text so a client-supplied argument cannot break the
    /// protocol; we do the same here, once, for every formatted error.
    pub fn err(message: impl fmt::Display) -> Self {
        Self::with_code("ERR", message)
    }

    /// An error with an explicit code, e.g. `with_code("NOPROTO", "...")`.
    pub fn with_code(code: &str, message: impl fmt::Display) -> Self {
        Self::from_bytes(format!("{code} {message}").into_bytes())
    }

    /// The error line without the leading `-` and trailing CRLF.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The error line as text (lossy for non-UTF-8 bytes), for logs and tests.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The error code: the first word (`ERR`, `WRONGTYPE`...), as INFO's
    /// errorstats counts them.
    pub fn code(&self) -> Cow<'_, str> {
        let end = self
            .0
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(self.0.len());
        String::from_utf8_lossy(&self.0[..end])
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for CommandError {}

/// Shorthand for handlers: `Result<T, CommandError>`.
pub type CommandResult<T = ()> = Result<T, CommandError>;

// The shared error texts. Names follow Redis's `shared.*` objects where one exists.

pub const WRONGTYPE: CommandError =
    CommandError::canned("WRONGTYPE Operation against a key holding the wrong kind of value");
pub const SYNTAX: CommandError = CommandError::canned("ERR syntax error");
pub const NOT_INTEGER: CommandError =
    CommandError::canned("ERR value is not an integer or out of range");
pub const NOT_FLOAT: CommandError = CommandError::canned("ERR value is not a valid float");
pub const OVERFLOW: CommandError =
    CommandError::canned("ERR increment or decrement would overflow");
pub const NO_SUCH_KEY: CommandError = CommandError::canned("ERR no such key");
pub const OUT_OF_RANGE: CommandError = CommandError::canned("ERR index out of range");
pub const DB_INDEX_OUT_OF_RANGE: CommandError =
    CommandError::canned("ERR DB index is out of range");
pub const SAME_OBJECT: CommandError =
    CommandError::canned("ERR source and destination objects are the same");
pub const NOAUTH: CommandError = CommandError::canned("NOAUTH Authentication required.");
pub const WRONGPASS: CommandError =
    CommandError::canned("WRONGPASS invalid username-password pair or user is disabled.");
pub const NO_PASSWORD_SET: CommandError = CommandError::canned(
    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
);
pub const MISCONF: CommandError = CommandError::canned(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
);
pub const OOM: CommandError =
    CommandError::canned("OOM command not allowed when used memory > 'maxmemory'.");
pub const STRING_TOO_LONG: CommandError =
    CommandError::canned("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
pub const NEGATIVE_TIMEOUT: CommandError = CommandError::canned("ERR timeout is negative");
pub const INVALID_CURSOR: CommandError = CommandError::canned("ERR invalid cursor");
pub const NOT_ALLOWED_IN_MULTI: CommandError =
    CommandError::canned("ERR Command not allowed inside a transaction");
pub const BUSYKEY: CommandError = CommandError::canned("BUSYKEY Target key name already exists.");
pub const MUST_BE_POSITIVE: CommandError =
    CommandError::canned("ERR value is out of range, must be positive");
pub const INCR_NAN_OR_INF: CommandError =
    CommandError::canned("ERR increment would produce NaN or Infinity");

/// The whole reply (code, text and CRLF) Redis sends a non-loopback client
/// in protected mode before closing the connection.
pub const DENIED_PROTECTED_MODE: &str = "-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. \
In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you \
may adopt one of the following solutions: \
1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is \
running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this \
change permanent. \
2) Alternatively you can just disable the protected mode by \
editing the Redis configuration file, and setting the protected \
mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart \
it with the '--protected-mode no' option. \
4) Setup a an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for \
the server to start accepting connections from the outside.\r\n";

/// The reply to an EXEC refused before it ran, quoting the refusal (Redis's
/// `execCommandAbort`). Redis words the refusals it formats without a code
/// (arity, RESP2 subscribed mode...) and `addReplyError` adds `ERR` on the
/// way out, while EXECABORT quotes the text from before that: so an `ERR`
/// code is left out of the quote and any other (`OOM`, `MISCONF`, `NOAUTH`)
/// kept.
pub fn exec_abort(refusal: &CommandError) -> CommandError {
    let text = refusal.bytes();
    let quoted = text.strip_prefix(b"ERR ").unwrap_or(text);
    let mut reply = b"EXECABORT Transaction discarded because of: ".to_vec();
    reply.extend_from_slice(quoted);
    CommandError::from_bytes(reply)
}

/// `ERR wrong number of arguments for '<name>' command` (Redis's arity error).
pub fn wrong_arity(name: &str) -> CommandError {
    CommandError::err(format_args!(
        "wrong number of arguments for '{name}' command"
    ))
}

/// `ERR invalid expire time in '<name>' command`.
pub fn invalid_expire(name: &str) -> CommandError {
    CommandError::err(format_args!("invalid expire time in '{name}' command"))
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(command: &str, sub: &[u8]) -> CommandError {
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(c_str_prefix(sub, 128));
    text.extend_from_slice(b"'. Try ");
    text.extend_from_slice(command.to_ascii_uppercase().as_bytes());
    text.extend_from_slice(b" HELP.");
    CommandError::from_bytes(text)
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try
/// <CMD> HELP.` (Redis's `addReplySubcommandSyntaxError`): `command` and
/// `sub` as the client typed them.
pub fn subcommand_syntax(command: &[u8], sub: &[u8]) -> CommandError {
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    text.extend_from_slice(c_str_prefix(sub, 128));
    text.extend_from_slice(b"'. Try ");
    text.extend_from_slice(&command.to_ascii_uppercase());
    text.extend_from_slice(b" HELP.");
    CommandError::from_bytes(text)
}

/// What C's `printf("%.<max>s", arg)` prints of a client's argument: at most
/// `max` bytes, and nothing from the first NUL on.
pub fn c_str_prefix(arg: &[u8], max: usize) -> &[u8] {
    let end = arg
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(arg.len())
        .min(max);
    &arg[..end]
}

/// An I/O error as C's `strerror` words it (`No such file or directory`):
/// std appends " (os error N)", which Redis's texts do not have.
pub fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_errors_never_carry_line_breaks() {
        let e = CommandError::err("bad\r\nthing");
        assert_eq!(e.text(), "ERR bad  thing");
        let e = unknown_subcommand("object", b"x\r\ny\0z");
        assert_eq!(
            e.bytes(),
            b"ERR unknown subcommand 'x  y'. Try OBJECT HELP."
        );
    }

    #[test]
    fn code_is_the_first_word() {
        assert_eq!(WRONGTYPE.code(), "WRONGTYPE");
        assert_eq!(SYNTAX.code(), "ERR");
    }

    #[test]
    fn exec_abort_quotes_the_refusal_as_redis_formats_it() {
        assert_eq!(
            exec_abort(&OOM).text(),
            "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."
        );
        assert_eq!(
            exec_abort(&wrong_arity("exec")).text(),
            "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
        );
        assert_eq!(exec_abort(&OOM).code(), "EXECABORT");
    }
}
