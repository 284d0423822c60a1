//! Ports a test holds on purpose. Servers under test pick their own port
//! (port 0, then the address they report), so there is nothing to choose
//! for them; what remains is a port where nothing listens, for clients that
//! must be refused, and that a server may later be started on.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};

/// A TCP port on 127.0.0.1 bound by a socket that never listens: a connect
/// to it is refused, and while this is held no other process can bind the
/// port (picking a free port and dropping the socket would leave it to
/// whoever binds next). A server that sets `SO_REUSEADDR`, as sedis and
/// `std::net::TcpListener` do, can still listen on it: Linux refuses two
/// sockets on one address only when one of them is listening.
pub struct ClosedPort {
    /// Held only to keep the port; closed when dropped.
    _socket: OwnedFd,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        // SAFETY: plain socket calls on a descriptor this function owns, with
        // option and address structures of the sizes passed.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let socket = OwnedFd::from_raw_fd(fd);
            let on: libc::c_int = 1;
            let rc = libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
            assert_eq!(rc, 0, "SO_REUSEADDR: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let rc = libc::getsockname(fd, (&mut addr as *mut libc::sockaddr_in).cast(), &mut len);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            ClosedPort {
                port: u16::from_be(addr.sin_port),
                _socket: socket,
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }
}

impl Default for ClosedPort {
    fn default() -> Self {
        Self::new()
    }
}
