//! The interactive prompt's line editor: the terminal in raw mode (through
//! `libc`'s termios, no readline), a one-line view that scrolls sideways when
//! the line is wider than the terminal, emacs-style keys, and history.
//!
//! The editing itself ([`Line`]) is separate from the terminal so that it can
//! be tested without one.

use std::io::{self, Write};

use crate::history::History;

/// One key press, decoded from the bytes a terminal sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    /// Ctrl plus a letter, as the lower-case letter (`Ctrl('a')` is 0x01).
    Ctrl(char),
    Enter,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// Anything we do not act on (function keys, Tab, stray escapes).
    Ignored,
}

/// What a key press asks of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Keep editing; redraw the line.
    Edit,
    /// The line is finished.
    Done(String),
    /// Ctrl-D on an empty line: no more input.
    EndOfInput,
    /// Ctrl-C: the line was dropped; start a fresh one.
    Cancelled,
    /// Ctrl-L: clear the screen, then redraw.
    ClearScreen,
}

/// The line being edited and the cursor, plus the walk through history.
#[derive(Debug, Default)]
pub struct Line {
    chars: Vec<char>,
    /// Cursor position, in chars (0..=len).
    pos: usize,
    /// How far back in history we are: 0 is the line being typed.
    history_back: usize,
    /// The line being typed, kept while we show older ones.
    draft: Vec<char>,
}

impl Line {
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    #[cfg(test)]
    pub fn cursor(&self) -> usize {
        self.pos
    }

    /// Applies one key press; `history` is consulted for Up and Down.
    pub fn apply(&mut self, key: Key, history: &[String]) -> Outcome {
        match key {
            Key::Char(c) => {
                self.chars.insert(self.pos, c);
                self.pos += 1;
            }
            Key::Enter => return Outcome::Done(self.text()),
            Key::Ctrl('c') => {
                *self = Line::default();
                return Outcome::Cancelled;
            }
            Key::Ctrl('d') if self.chars.is_empty() => return Outcome::EndOfInput,
            Key::Ctrl('d') | Key::Delete => {
                if self.pos < self.chars.len() {
                    self.chars.remove(self.pos);
                }
            }
            Key::Backspace | Key::Ctrl('h') => {
                if self.pos > 0 {
                    self.pos -= 1;
                    self.chars.remove(self.pos);
                }
            }
            Key::Left | Key::Ctrl('b') => self.pos = self.pos.saturating_sub(1),
            Key::Right | Key::Ctrl('f') => self.pos = (self.pos + 1).min(self.chars.len()),
            Key::Home | Key::Ctrl('a') => self.pos = 0,
            Key::End | Key::Ctrl('e') => self.pos = self.chars.len(),
            Key::Ctrl('u') => {
                self.chars.drain(..self.pos);
                self.pos = 0;
            }
            Key::Ctrl('k') => self.chars.truncate(self.pos),
            Key::Ctrl('w') => {
                // The word before the cursor and the spaces after it.
                let mut start = self.pos;
                while start > 0 && self.chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && self.chars[start - 1] != ' ' {
                    start -= 1;
                }
                self.chars.drain(start..self.pos);
                self.pos = start;
            }
            Key::Ctrl('t') => {
                // Swap the two characters before the cursor (or around it).
                if self.pos > 0 && self.chars.len() > 1 {
                    let at = if self.pos == self.chars.len() {
                        self.pos - 1
                    } else {
                        self.pos
                    };
                    self.chars.swap(at - 1, at);
                    self.pos = (at + 1).min(self.chars.len());
                }
            }
            Key::Up | Key::Ctrl('p') => self.walk_history(history, 1),
            Key::Down | Key::Ctrl('n') => self.walk_history(history, -1),
            Key::Ctrl('l') => return Outcome::ClearScreen,
            Key::Ctrl(_) | Key::Ignored => {}
        }
        Outcome::Edit
    }

    fn walk_history(&mut self, history: &[String], step: isize) {
        let target = self.history_back as isize + step;
        if target < 0 || target as usize > history.len() {
            return;
        }
        if self.history_back == 0 {
            self.draft = std::mem::take(&mut self.chars);
        }
        self.history_back = target as usize;
        self.chars = match self.history_back {
            0 => std::mem::take(&mut self.draft),
            back => history[history.len() - back].chars().collect(),
        };
        self.pos = self.chars.len();
    }
}

/// The terminal in raw mode for as long as this lives: no echo, no line
/// buffering, no signals from Ctrl-C (we read it as a key), no CR→NL.
struct RawMode {
    original: libc::termios,
}

impl RawMode {
    fn enable() -> io::Result<RawMode> {
        // SAFETY: tcgetattr fills the termios struct we pass; a zeroed
        // termios is a valid value to be overwritten.
        let mut original: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut original) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut raw = original;
        raw.c_iflag &= !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
        raw.c_oflag &= !libc::OPOST;
        raw.c_cflag |= libc::CS8;
        raw.c_lflag &= !(libc::ECHO | libc::ICANON | libc::IEXTEN | libc::ISIG);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // TCSADRAIN, not linenoise's TCSAFLUSH: what was typed while the
        // previous command ran is kept, not thrown away.
        // SAFETY: raw is a valid termios derived from the current settings.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &raw) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawMode { original })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in enable().
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &self.original);
        }
    }
}

/// Reads one byte from the terminal; `None` at end of input.
fn read_byte() -> io::Result<Option<u8>> {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads at most one byte into a valid one-byte buffer.
        let n = unsafe { libc::read(libc::STDIN_FILENO, (&mut byte as *mut u8).cast(), 1) };
        match n {
            1 => return Ok(Some(byte)),
            0 => return Ok(None),
            _ => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
}

/// Decodes one key press from `next`, which yields the terminal's bytes.
pub fn read_key(next: &mut impl FnMut() -> io::Result<Option<u8>>) -> io::Result<Option<Key>> {
    let Some(first) = next()? else {
        return Ok(None);
    };
    let key = match first {
        b'\r' | b'\n' => Key::Enter,
        127 => Key::Backspace,
        0x1b => escape(next)?,
        1..=26 => Key::Ctrl(char::from(b'a' + first - 1)),
        0..=31 => Key::Ignored,
        _ => {
            // A UTF-8 sequence: its first byte says how many follow.
            let extra = match first {
                0xc0..=0xdf => 1,
                0xe0..=0xef => 2,
                0xf0..=0xf7 => 3,
                _ => 0,
            };
            let mut bytes = vec![first];
            for _ in 0..extra {
                match next()? {
                    Some(b) => bytes.push(b),
                    None => break,
                }
            }
            match std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(c) => Key::Char(c),
                None => Key::Ignored,
            }
        }
    };
    Ok(Some(key))
}

/// The rest of an escape sequence: `ESC [ A`, `ESC [ 3 ~`, `ESC O H`...
fn escape(next: &mut impl FnMut() -> io::Result<Option<u8>>) -> io::Result<Key> {
    let Some(kind) = next()? else {
        return Ok(Key::Ignored);
    };
    let Some(code) = next()? else {
        return Ok(Key::Ignored);
    };
    Ok(match (kind, code) {
        (b'[', b'A') => Key::Up,
        (b'[', b'B') => Key::Down,
        (b'[', b'C') => Key::Right,
        (b'[', b'D') => Key::Left,
        (b'[' | b'O', b'H') => Key::Home,
        (b'[' | b'O', b'F') => Key::End,
        (b'[', b'0'..=b'9') => {
            // `ESC [ n ~` (and longer parameter lists, which we skip).
            let mut last = code;
            let mut digits = vec![code];
            while !(0x40..=0x7e).contains(&last) {
                match next()? {
                    Some(b) => {
                        last = b;
                        digits.push(b);
                    }
                    None => break,
                }
            }
            match digits.as_slice() {
                [b'1' | b'7', b'~'] => Key::Home,
                [b'4' | b'8', b'~'] => Key::End,
                [b'3', b'~'] => Key::Delete,
                _ => Key::Ignored,
            }
        }
        _ => Key::Ignored,
    })
}

/// The terminal's width in columns (80 if it cannot tell).
fn columns() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// What to write to show `prompt` and `line` on one terminal row of
/// `cols` columns, the cursor placed: the line scrolls left so that the
/// cursor always stays visible.
pub fn render(prompt: &str, line: &Line, cols: usize) -> String {
    let prompt_len = prompt.chars().count();
    let chars = &line.chars;
    let mut start = 0;
    if prompt_len + line.pos >= cols {
        start = prompt_len + line.pos + 1 - cols;
    }
    let room = cols.saturating_sub(prompt_len);
    let visible: String = chars[start..].iter().take(room).collect();
    let mut out = format!("\r{prompt}{visible}\x1b[0K\r");
    let cursor_col = prompt_len + line.pos - start;
    if cursor_col > 0 {
        out.push_str(&format!("\x1b[{cursor_col}C"));
    }
    out
}

/// Terminals too simple for escape sequences get a plain prompt, as
/// linenoise does for them.
fn unsupported_terminal() -> bool {
    matches!(
        std::env::var("TERM")
            .map(|t| t.to_ascii_lowercase())
            .as_deref(),
        Ok("dumb" | "cons25" | "emacs")
    )
}

/// Reads one line at `prompt` from the terminal, with editing and history.
/// `Ok(None)` when input ends (Ctrl-D on an empty line, or the terminal
/// closed).
pub fn read_line(prompt: &str, history: &History) -> io::Result<Option<String>> {
    let mut stdout = io::stdout();
    if unsupported_terminal() {
        write!(stdout, "{prompt}")?;
        stdout.flush()?;
        let mut line = String::new();
        if io::stdin().read_line(&mut line)? == 0 {
            return Ok(None);
        }
        return Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()));
    }
    let result = {
        let _raw = RawMode::enable()?;
        edit(prompt, history, &mut stdout)
    };
    // Leave the finished line on screen and start output below it.
    writeln!(stdout)?;
    stdout.flush()?;
    result
}

fn edit(prompt: &str, history: &History, stdout: &mut io::Stdout) -> io::Result<Option<String>> {
    let mut line = Line::default();
    let cols = columns();
    stdout.write_all(render(prompt, &line, cols).as_bytes())?;
    stdout.flush()?;
    loop {
        let Some(key) = read_key(&mut read_byte)? else {
            return Ok(None);
        };
        match line.apply(key, history.entries()) {
            Outcome::Edit => {}
            Outcome::Done(text) => return Ok(Some(text)),
            Outcome::EndOfInput => return Ok(None),
            Outcome::Cancelled => stdout.write_all(b"^C\r\n")?,
            Outcome::ClearScreen => stdout.write_all(b"\x1b[H\x1b[2J")?,
        }
        stdout.write_all(render(prompt, &line, cols).as_bytes())?;
        stdout.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(line: &mut Line, input: &[u8], history: &[String]) -> Vec<Outcome> {
        let mut bytes = input.iter().copied();
        let mut next = || Ok(bytes.next());
        let mut outcomes = Vec::new();
        while let Some(key) = read_key(&mut next).unwrap() {
            outcomes.push(line.apply(key, history));
        }
        outcomes
    }

    #[test]
    fn editing_keys_move_and_delete() {
        let mut line = Line::default();
        // Type, go home, insert, go to the end, delete a word, kill to the end.
        keys(&mut line, b"get key\x01x\x05", &[]);
        assert_eq!(line.text(), "xget key");
        keys(&mut line, b"\x17", &[]);
        assert_eq!(line.text(), "xget ");
        keys(&mut line, b"\x1b[D\x1b[D\x0b", &[]);
        assert_eq!((line.text().as_str(), line.cursor()), ("xge", 3));
        keys(&mut line, b"\x7f\x1b[H\x1b[3~", &[]);
        assert_eq!(line.text(), "g");
        keys(&mut line, "é\x15".as_bytes(), &[]);
        assert_eq!(line.text(), "g");
    }

    #[test]
    fn history_walks_back_and_returns_to_the_draft() {
        let history = vec!["first".to_string(), "second".to_string()];
        let mut line = Line::default();
        keys(&mut line, b"dra\x1b[A", &history);
        assert_eq!(line.text(), "second");
        keys(&mut line, b"\x1b[A\x1b[A", &history);
        assert_eq!(line.text(), "first");
        keys(&mut line, b"\x1b[B\x1b[B", &history);
        assert_eq!(line.text(), "dra");
        let outcomes = keys(&mut line, b"ft\r", &history);
        assert_eq!(outcomes.last(), Some(&Outcome::Done("draft".to_string())));
    }

    #[test]
    fn ctrl_c_drops_the_line_and_ctrl_d_ends_input_only_when_empty() {
        let mut line = Line::default();
        let outcomes = keys(&mut line, b"abc\x03", &[]);
        assert_eq!(outcomes.last(), Some(&Outcome::Cancelled));
        assert_eq!(line.text(), "");
        let outcomes = keys(&mut line, b"ab\x01\x04", &[]);
        assert_eq!(outcomes.last(), Some(&Outcome::Edit));
        assert_eq!(line.text(), "b");
        let outcomes = keys(&mut line, b"\x01\x0b\x04", &[]);
        assert_eq!(outcomes.last(), Some(&Outcome::EndOfInput));
    }

    #[test]
    fn long_lines_scroll_to_keep_the_cursor_visible() {
        let mut line = Line::default();
        keys(&mut line, b"0123456789", &[]);
        assert_eq!(render("> ", &line, 80), "\r> 0123456789\x1b[0K\r\x1b[12C");
        // 8 columns: the prompt takes 2, the cursor needs one; 5 chars show.
        assert_eq!(render("> ", &line, 8), "\r> 56789\x1b[0K\r\x1b[7C");
        keys(&mut line, b"\x01", &[]);
        assert_eq!(render("> ", &line, 8), "\r> 012345\x1b[0K\r\x1b[2C");
    }
}
