//! The first line of a script or library: an EVAL shebang
//! (`#!lua flags=...`) or a FUNCTION header (`#!lua name=...`). Whatever the
//! bytes, parsing answers flags or Redis's error and never panics; the
//! shebang it skips is the whole first line, its line end excluded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::scripting::flags::{parse_eval_shebang, parse_library_meta};

fuzz_target!(|data: &[u8]| {
    match parse_eval_shebang(data) {
        Ok((flags, 0)) => assert!(flags.eval_compat_mode || data.starts_with(b"#!")),
        Ok((flags, len)) => {
            assert!(!flags.eval_compat_mode);
            assert_eq!(data[len], b'\n');
            assert!(!data[..len].contains(&b'\n'));
        }
        Err(message) => assert!(!message.is_empty()),
    }
    if let Ok(meta) = parse_library_meta(data) {
        assert!(meta.code.is_empty() || meta.code[0] == b'\n');
        assert!(data.ends_with(meta.code));
    }
});
