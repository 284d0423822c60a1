//! The listening sockets: one per `bind` address, all on `port`, which
//! CONFIG SET can change while the server runs (Redis's `changeBindAddr` and
//! `changeListenPort`).
//!
//! The acceptor thread sleeps in `poll(2)` on every listening socket and a
//! wake-up pipe. Rebinding swaps the sockets under a lock and wakes it, so
//! it never waits on a socket that was closed; shutdown wakes it the same
//! way. Listening sockets are non-blocking: a connection that is ready when
//! polled but gone when accepted costs nothing.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use parking_lot::{Condvar, Mutex};

use super::wait::WakePipe;
use crate::log::Logger;

/// What the listening sockets are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub addresses: Vec<String>,
    pub port: u16,
    pub backlog: i32,
}

/// The server's listening sockets and the acceptor's wake-up.
#[derive(Debug)]
pub struct Listeners {
    /// The sockets, and the binding they were made from with its port
    /// resolved (what a failed rebind goes back to).
    sockets: Mutex<(Vec<TcpListener>, Binding)>,
    wake: WakePipe,
    /// Whether the acceptor is in `poll` and whether a rebind waits for it
    /// to leave. A socket being polled is not really closed until the poll
    /// returns (the kernel keeps it, and its port), so a rebind wakes the
    /// acceptor, waits until it is out, and keeps it out until done.
    polling: Mutex<Polling>,
    polled: Condvar,
}

#[derive(Debug, Default)]
struct Polling {
    in_poll: bool,
    rebinding: bool,
}

/// What one wait of the acceptor gave.
pub enum Accepted {
    Streams(Vec<TcpStream>),
    /// Woken: by a rebind (the caller just waits again) or for shutdown.
    Woken,
}

impl Listeners {
    /// Binds every address of `binding`; an error if none could be (Redis:
    /// "Configured to not listen anywhere").
    pub fn bind(binding: &Binding, log: &Logger) -> io::Result<Listeners> {
        let (sockets, bound) = bind_all(binding, log)?;
        if sockets.is_empty() {
            return Err(io::Error::other(
                "Configured to not listen anywhere, exiting.",
            ));
        }
        Ok(Listeners {
            sockets: Mutex::new((sockets, bound)),
            wake: WakePipe::new()?,
            polling: Mutex::new(Polling::default()),
            polled: Condvar::new(),
        })
    }

    /// No socket at all: a server used only in its own process. Such a
    /// server runs no acceptor, so sockets a later CONFIG SET port or bind
    /// would open are never served.
    pub fn none() -> io::Result<Listeners> {
        let binding = Binding {
            addresses: Vec::new(),
            port: 0,
            backlog: 0,
        };
        Ok(Listeners {
            sockets: Mutex::new((Vec::new(), binding)),
            wake: WakePipe::new()?,
            polling: Mutex::new(Polling::default()),
            polled: Condvar::new(),
        })
    }

    /// The first socket's address: the one to connect to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.sockets
            .lock()
            .0
            .first()
            .and_then(|l| l.local_addr().ok())
    }

    /// The port the sockets listen on (0 when there are none).
    pub fn port(&self) -> u16 {
        self.local_addr().map_or(0, |a| a.port())
    }

    /// Closes the current sockets and binds `binding` instead. If that
    /// fails, the old sockets are bound again (as Redis restores the old
    /// values after a failed CONFIG SET) and the error returned.
    pub fn rebind(&self, binding: &Binding, log: &Logger) -> io::Result<()> {
        let mut polling = self.polling.lock();
        polling.rebinding = true;
        self.wake.wake();
        while polling.in_poll {
            self.polled.wait(&mut polling);
        }
        let mut guard = self.sockets.lock();
        let (sockets, current) = &mut *guard;
        // Closed first: the new binding may need the same address and port.
        sockets.clear();
        let result = match bind_all(binding, log) {
            Ok((new, bound)) => {
                *sockets = new;
                *current = bound;
                Ok(())
            }
            Err(err) => {
                if let Ok((old, _)) = bind_all(current, log) {
                    *sockets = old;
                }
                Err(err)
            }
        };
        drop(guard);
        polling.rebinding = false;
        self.polled.notify_all();
        result
    }

    /// Closes every listening socket (at shutdown, once the acceptor has
    /// stopped: the port is free when the server's `run` returns, however
    /// long its state lives on).
    pub fn close(&self) {
        self.sockets.lock().0.clear();
    }

    /// Wakes the acceptor (shutdown: it then sees the server stopping).
    pub fn wake(&self) {
        self.wake.wake();
    }

    /// Accepts every connection already waiting, without sleeping: at
    /// shutdown, so that clients that connected before it are closed
    /// cleanly rather than reset with the listening socket.
    pub fn accept_pending(&self) -> Vec<TcpStream> {
        let mut streams = Vec::new();
        for listener in self.sockets.lock().0.iter() {
            while let Ok((stream, _)) = listener.accept() {
                if stream.set_nonblocking(false).is_ok() {
                    streams.push(stream);
                }
            }
        }
        streams
    }

    /// The acceptor: sleeps until a connection arrives on some socket, or
    /// until woken.
    pub fn accept(&self) -> io::Result<Accepted> {
        loop {
            let mut polling = self.polling.lock();
            while polling.rebinding {
                self.polled.wait(&mut polling);
            }
            polling.in_poll = true;
            drop(polling);
            let mut fds: Vec<libc::pollfd> = vec![libc::pollfd {
                fd: self.wake.fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            fds.extend(self.sockets.lock().0.iter().map(|l| libc::pollfd {
                fd: l.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }));
            let polled = super::wait::poll(&mut fds, -1);
            self.polling.lock().in_poll = false;
            self.polled.notify_all();
            if !polled? {
                continue; // interrupted by a signal
            }
            if fds[0].revents != 0 {
                self.wake.drain();
                return Ok(Accepted::Woken);
            }
            let ready: Vec<RawFd> = fds[1..]
                .iter()
                .filter(|f| f.revents != 0)
                .map(|f| f.fd)
                .collect();
            let mut streams = Vec::new();
            // Under the lock, so no socket is closed while it is used; a
            // socket swapped out since the poll is simply not found.
            for listener in self.sockets.lock().0.iter() {
                if !ready.contains(&listener.as_raw_fd()) {
                    continue;
                }
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false)?;
                        streams.push(stream);
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(err),
                }
            }
            if !streams.is_empty() {
                return Ok(Accepted::Streams(streams));
            }
        }
    }
}

/// Binds each address of `binding` (Redis's `listenToPort`): a leading `-`
/// makes an address optional (skipped if it does not exist here), `*` is
/// every IPv4 address and `::*` every IPv6 one. Port 0 (sedis's "any free
/// port") binds the first address on a free port and the others on the
/// same one. Returns the sockets and the binding with its port resolved.
fn bind_all(binding: &Binding, log: &Logger) -> io::Result<(Vec<TcpListener>, Binding)> {
    let mut sockets: Vec<TcpListener> = Vec::new();
    let mut port = binding.port;
    for spec in &binding.addresses {
        let (optional, host) = match spec.strip_prefix('-') {
            Some(host) => (true, host),
            None => (false, spec.as_str()),
        };
        match bind_one(host, port, binding.backlog) {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr()?.port();
                }
                sockets.push(listener);
            }
            Err(err) => {
                log.warning(&format!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: {}",
                    crate::error::strerror(&err)
                ));
                let errno = err.raw_os_error().unwrap_or(0);
                let unsupported = [
                    libc::ENOPROTOOPT,
                    libc::EPROTONOSUPPORT,
                    libc::ESOCKTNOSUPPORT,
                    libc::EPFNOSUPPORT,
                    libc::EAFNOSUPPORT,
                ];
                if (optional && errno == libc::EADDRNOTAVAIL) || unsupported.contains(&errno) {
                    continue;
                }
                return Err(err);
            }
        }
    }
    let bound = Binding {
        port,
        ..binding.clone()
    };
    Ok((sockets, bound))
}

/// One listening socket. An address with a colon is IPv6 (and only IPv6,
/// so that `*` and `::*` can share a port), anything else IPv4; names are
/// resolved, the first address that binds wins.
fn bind_one(host: &str, port: u16, backlog: i32) -> io::Result<TcpListener> {
    let v6 = host.contains(':');
    let candidates: Vec<SocketAddr> = match host {
        "*" => vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)],
        "::*" => vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)],
        _ => (host, port)
            .to_socket_addrs()?
            .filter(|a| a.is_ipv6() == v6)
            .collect(),
    };
    let mut last = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
    for addr in candidates {
        match listen(addr, backlog) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// socket, SO_REUSEADDR (and IPV6_V6ONLY), bind, listen, non-blocking.
fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let family = if addr.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: creating a socket has no memory effects; the result is checked.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor owned by nothing else.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    set_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR)?;
    if addr.is_ipv6() {
        set_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)?;
    }
    let (storage, len) = sockaddr(addr);
    // SAFETY: `storage` holds a valid socket address of `len` bytes.
    if unsafe { libc::bind(fd, (&raw const storage).cast(), len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen on the socket we own.
    if unsafe { libc::listen(fd, backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let listener = TcpListener::from(socket);
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn set_option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid pointer to an int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A `SocketAddr` as the C structure `bind` takes.
fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid (empty) address.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // socket address.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Turns on TCP keep-alive probes every `interval` seconds, as Redis's
/// `anetKeepAlive` does (idle `interval`, probes every third of it, three
/// of them).
pub fn set_keepalive(stream: &TcpStream, interval: i64) {
    if interval <= 0 {
        return;
    }
    let fd = stream.as_raw_fd();
    let set = |level, name, value: libc::c_int| {
        // SAFETY: a valid pointer to an int of the size given.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&raw const value).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    };
    let interval = interval.min(i64::from(i32::MAX)) as libc::c_int;
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    #[cfg(target_os = "linux")]
    {
        set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, interval);
        set(
            libc::IPPROTO_TCP,
            libc::TCP_KEEPINTVL,
            (interval / 3).max(1),
        );
        set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogLevel;

    fn quiet() -> Logger {
        Logger::new(LogLevel::Nothing, "").unwrap()
    }

    fn binding(addresses: &[&str], port: u16) -> Binding {
        Binding {
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            port,
            backlog: 511,
        }
    }

    #[test]
    fn every_address_shares_the_chosen_port() {
        let listeners = Listeners::bind(&binding(&["127.0.0.1", "-::1"], 0), &quiet()).unwrap();
        let port = listeners.port();
        assert_ne!(port, 0);
        for l in listeners.sockets.lock().0.iter() {
            assert_eq!(l.local_addr().unwrap().port(), port);
        }
        TcpStream::connect(("127.0.0.1", port)).unwrap();
    }

    #[test]
    fn an_optional_address_that_does_not_exist_is_skipped() {
        let listeners =
            Listeners::bind(&binding(&["-192.0.2.1", "127.0.0.1"], 0), &quiet()).unwrap();
        assert_eq!(listeners.sockets.lock().0.len(), 1);
        assert!(Listeners::bind(&binding(&["192.0.2.1"], 0), &quiet()).is_err());
    }

    #[test]
    fn rebinding_moves_the_port_or_restores_the_old_one() {
        let log = quiet();
        let listeners = Listeners::bind(&binding(&["127.0.0.1"], 0), &log).unwrap();
        let old = listeners.port();
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = binding(&["127.0.0.1"], taken.local_addr().unwrap().port());
        assert!(listeners.rebind(&busy, &log).is_err());
        assert_eq!(listeners.port(), old, "the old port is back");
        listeners.rebind(&binding(&["127.0.0.1"], 0), &log).unwrap();
        assert_ne!(listeners.port(), old);
        assert!(TcpStream::connect(("127.0.0.1", old)).is_err());
    }

    #[test]
    fn accept_returns_connections_and_wake_ups() {
        let listeners =
            std::sync::Arc::new(Listeners::bind(&binding(&["127.0.0.1"], 0), &quiet()).unwrap());
        let port = listeners.port();
        let client = std::thread::spawn(move || TcpStream::connect(("127.0.0.1", port)).unwrap());
        let Accepted::Streams(streams) = listeners.accept().unwrap() else {
            panic!("expected a connection");
        };
        assert_eq!(streams.len(), 1);
        client.join().unwrap();
        listeners.wake();
        assert!(matches!(listeners.accept().unwrap(), Accepted::Woken));
    }
}
