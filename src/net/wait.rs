//! Waiting for "the client's socket or a wake-up", whichever comes first.
//!
//! A worker normally blocks in `read` on its client's socket. Some states
//! need it to wait for something else as well: a client blocked in BLPOP
//! waits for another thread to serve it, and must still notice at once
//! when its peer disconnects (Redis frees such a client, and an element
//! must never be handed to a client that is gone); a pub/sub subscriber
//! waits for messages while still reading its commands. [`Waker`] gives a
//! connection a wake-up descriptor (a non-blocking pipe) that other threads
//! write to, and [`Waker::wait`] sleeps in `poll(2)` on that descriptor and
//! the socket together, with an optional deadline. No thread ever polls in
//! a loop: each sleeps until the kernel says something happened.
//!
//! One `Waker` belongs to one connection for its whole life and is created
//! the first time the connection needs it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

/// What to watch the socket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Only the peer hanging up (a blocked client: bytes it pipelines
    /// meanwhile stay unread until it is unblocked, as in Redis).
    Hangup,
    /// Incoming bytes as well (a subscriber reading commands).
    Readable,
}

/// Why [`Waker::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Another thread called [`Waker::wake`].
    Woken,
    /// The socket has bytes to read (only with [`Interest::Readable`]).
    Readable,
    /// The peer closed the connection, or the socket was shut down (CLIENT
    /// KILL, server shutdown).
    Hangup,
    /// The deadline passed.
    TimedOut,
}

/// A wake-up descriptor: a non-blocking pipe other threads write a byte
/// to, so that a thread sleeping in `poll(2)` on its read end wakes up.
#[derive(Debug)]
pub struct WakePipe {
    read_end: OwnedFd,
    write_end: OwnedFd,
}

/// A connection's wake-up descriptor, paired with its socket.
#[derive(Debug)]
pub struct Waker {
    pipe: WakePipe,
    /// The connection's socket. Borrowed: the connection outlives every use
    /// (a waiter is finished before its connection closes).
    socket: RawFd,
}

/// The hang-up events poll reports for a socket.
#[cfg(target_os = "linux")]
const HANGUP: libc::c_short = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR;
#[cfg(not(target_os = "linux"))]
const HANGUP: libc::c_short = libc::POLLHUP | libc::POLLERR;

impl WakePipe {
    pub fn new() -> io::Result<Self> {
        let mut fds = [0; 2];
        // SAFETY: `pipe` writes two new descriptors into the array we own.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by no one else.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [&read_end, &write_end] {
            set_nonblocking_cloexec(fd.as_raw_fd())?;
        }
        Ok(WakePipe {
            read_end,
            write_end,
        })
    }

    /// Wakes the thread polling [`WakePipe::fd`] (or makes its next poll
    /// return at once). Never blocks: a full pipe already means "woken".
    pub fn wake(&self) {
        let byte = 1u8;
        // SAFETY: writes one byte from a valid buffer to our own descriptor.
        unsafe {
            libc::write(self.write_end.as_raw_fd(), (&raw const byte).cast(), 1);
        }
    }

    /// Empties the pipe after a wake-up, so the next poll sleeps again.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a valid buffer of the given length from our own
        // non-blocking descriptor; stops when it is empty.
        while unsafe {
            libc::read(
                self.read_end.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        } > 0
        {}
    }

    /// The descriptor to poll for `POLLIN`.
    pub fn fd(&self) -> RawFd {
        self.read_end.as_raw_fd()
    }
}

impl Waker {
    /// A waker for the connection whose socket is `socket`.
    pub fn new(socket: RawFd) -> io::Result<Self> {
        Ok(Waker {
            pipe: WakePipe::new()?,
            socket,
        })
    }

    /// Wakes the thread waiting in [`Waker::wait`] (or makes its next wait
    /// return at once).
    pub fn wake(&self) {
        self.pipe.wake();
    }

    /// True if the socket's peer has hung up (checked without waiting).
    pub fn peer_gone(&self) -> bool {
        let mut fd = libc::pollfd {
            fd: self.socket,
            events: HANGUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n > 0 && fd.revents & HANGUP != 0
    }

    /// True if the socket has bytes to read (or hung up) right now.
    pub fn readable_now(&self) -> bool {
        let mut fd = libc::pollfd {
            fd: self.socket,
            events: libc::POLLIN | HANGUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n > 0 && fd.revents != 0
    }

    /// Sleeps until woken, the socket shows `interest`, or `deadline`
    /// passes (`None`: no deadline). A wake-up wins over a socket event
    /// that arrives at the same time.
    pub fn wait(&self, interest: Interest, deadline: Option<Instant>) -> io::Result<Event> {
        let socket_events = match interest {
            Interest::Hangup => HANGUP,
            Interest::Readable => HANGUP | libc::POLLIN,
        };
        loop {
            let timeout_ms = match deadline {
                None => -1,
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Event::TimedOut);
                    }
                    // Round up: waking a little early would only loop.
                    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
                }
            };
            let mut fds = [
                libc::pollfd {
                    fd: self.pipe.fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.socket,
                    events: socket_events,
                    revents: 0,
                },
            ];
            if !poll(&mut fds, timeout_ms)? {
                continue; // interrupted by a signal
            }
            if fds[0].revents != 0 {
                self.pipe.drain();
                return Ok(Event::Woken);
            }
            let revents = fds[1].revents;
            if revents & HANGUP != 0 || revents & libc::POLLNVAL != 0 {
                return Ok(Event::Hangup);
            }
            if revents & libc::POLLIN != 0 {
                return Ok(Event::Readable);
            }
            // n == 0: the timeout; the loop re-checks the deadline.
        }
    }
}

/// One `poll(2)` over `fds`; false if a signal interrupted it (the caller
/// polls again), an error for anything else.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<bool> {
    // SAFETY: a valid array of pollfds we own, of the length given.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n >= 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.kind() {
        io::ErrorKind::Interrupted => Ok(false),
        _ => Err(err),
    }
}

fn set_nonblocking_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd_flags = libc::fcntl(fd, libc::F_GETFD);
        if fd_flags < 0 || libc::fcntl(fd, libc::F_SETFD, fd_flags | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::Arc;
    use std::time::Duration;

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (server, client)
    }

    #[test]
    fn times_out_without_events() {
        let (server, _client) = pair();
        let waker = Waker::new(server.as_raw_fd()).unwrap();
        let deadline = Instant::now() + Duration::from_millis(30);
        assert_eq!(
            waker.wait(Interest::Hangup, Some(deadline)).unwrap(),
            Event::TimedOut
        );
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn wakes_from_another_thread() {
        let (server, _client) = pair();
        let waker = Arc::new(Waker::new(server.as_raw_fd()).unwrap());
        let other = waker.clone();
        let t = std::thread::spawn(move || other.wake());
        assert_eq!(waker.wait(Interest::Hangup, None).unwrap(), Event::Woken);
        t.join().unwrap();
        // Drained: the next wait sleeps until its deadline.
        let soon = Some(Instant::now() + Duration::from_millis(10));
        assert_eq!(waker.wait(Interest::Hangup, soon).unwrap(), Event::TimedOut);
    }

    #[test]
    fn sees_data_only_when_asked_and_hangups_always() {
        let (server, mut client) = pair();
        let waker = Waker::new(server.as_raw_fd()).unwrap();
        client.write_all(b"PING\r\n").unwrap();
        let soon = || Some(Instant::now() + Duration::from_millis(20));
        assert_eq!(
            waker.wait(Interest::Hangup, soon()).unwrap(),
            Event::TimedOut
        );
        assert_eq!(
            waker.wait(Interest::Readable, soon()).unwrap(),
            Event::Readable
        );
        assert!(!waker.peer_gone());
        client.shutdown(Shutdown::Both).unwrap();
        assert_eq!(waker.wait(Interest::Hangup, None).unwrap(), Event::Hangup);
        assert!(waker.peer_gone());
    }

    #[test]
    fn a_socket_shut_down_locally_counts_as_a_hangup() {
        let (server, _client) = pair();
        let waker = Waker::new(server.as_raw_fd()).unwrap();
        server.shutdown(Shutdown::Both).unwrap();
        assert_eq!(waker.wait(Interest::Hangup, None).unwrap(), Event::Hangup);
    }
}
