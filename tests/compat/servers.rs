//! The two servers under comparison: a redis-server and an in-process
//! sedis, each with an out-of-band connection of the test's own.

use crate::common::TestServer;
use crate::conn::Conn;
use crate::redis::RedisServer;

/// The two servers side by side.
pub struct Servers {
    pub redis: RedisServer,
    pub sedis: TestServer,
    /// Out-of-band connections (FLUSHALL, INFO) that scripts never see.
    pub redis_admin: Conn,
    pub sedis_admin: Conn,
}

impl Servers {
    pub fn start() -> Servers {
        let redis = RedisServer::start();
        // Scripts compare DEBUG DIGEST, PROTOCOL and the like.
        let sedis = TestServer::with_config(|c| {
            c.enable_debug_command = sedis::config::ProtectedAction::Yes;
        });
        let redis_admin = Conn::connect(redis.addr()).expect("connect to redis-server");
        let sedis_admin = Conn::connect(sedis.addr).expect("connect to sedis");
        Servers {
            redis,
            sedis,
            redis_admin,
            sedis_admin,
        }
    }

    pub fn flushall(&mut self) {
        for (who, conn) in [
            ("redis", &mut self.redis_admin),
            ("sedis", &mut self.sedis_admin),
        ] {
            let reply = conn.call(&[b"FLUSHALL".to_vec()]);
            assert!(
                matches!(&reply, Ok((raw, _)) if raw == b"+OK\r\n"),
                "FLUSHALL on {who}: {reply:?}"
            );
        }
    }

    /// Clients blocked right now on (Redis, sedis).
    pub fn blocked_clients(&mut self) -> (usize, usize) {
        let info = self
            .redis_admin
            .call(&[b"INFO".to_vec(), b"clients".to_vec()])
            .expect("INFO clients from redis-server");
        let text = String::from_utf8_lossy(info.1.as_bytes().unwrap_or_default()).into_owned();
        let redis = text
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("blocked_clients in INFO");
        let sedis = self.sedis.handle().state().keyspace().blocked.count();
        (redis, sedis)
    }
}
