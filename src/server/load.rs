//! Loading the data at start-up: the append-only file when it is on (its
//! commands replayed through the dispatcher, as Redis replays them with a
//! fake client), else the RDB dump. A file that cannot be read stops the
//! start: the server never starts empty over existing data.

use std::io;

use crate::state::State;
use crate::state::session::Session;
use crate::state::{appendonly, saving};

/// Loads the AOF or, without one, the dump.
pub fn load_at_startup(state: &State) -> io::Result<()> {
    if !appendonly::load_at_startup(state, |commands| replay(state, commands))? {
        saving::load_at_startup(state)?;
    }
    Ok(())
}

/// Replays logged commands through the dispatcher, as Redis's fake client
/// does. Any error reply means the file does not match what it claims; an
/// EXECABORT too, as its transaction was thrown away whole.
fn replay(state: &State, commands: Vec<Vec<Vec<u8>>>) -> io::Result<()> {
    let mut client = Session::new(state, state.sessions.internal());
    client.authenticated = true;
    let mut out = crate::resp::ReplyWriter::new(crate::resp::Protocol::Resp2);
    for argv in commands {
        crate::commands::process(state, &mut client, &mut out, &argv);
        if let Some((crate::resp::Frame::Error(e), _)) =
            crate::resp::Frame::parse(out.buffer()).ok().flatten()
        {
            return Err(io::Error::other(format!(
                "replaying the AOF: {} failed: {}",
                String::from_utf8_lossy(&argv[0]),
                String::from_utf8_lossy(&e)
            )));
        }
        out.clear();
    }
    if client.multi.is_some() {
        // A MULTI without its EXEC at the end of the file: Redis discards it.
        state
            .log
            .warning("Revert incomplete MULTI/EXEC transaction in AOF file");
    }
    Ok(())
}
