//! Any matcher source and path: compiled or refused, matched or not, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_nextauth::Matcher;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (source, path) = text.split_once('\n').unwrap_or((text, "/"));
    if let Ok(m) = Matcher::new([source]) {
        let _ = m.is_match(path);
        let _ = m.regexes().count();
    }
});
