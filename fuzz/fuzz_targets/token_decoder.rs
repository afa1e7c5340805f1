//! Any token string: decoded by v5 and v4 (both secrets), never a panic, and nothing forged.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tower_nextauth::Claims;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let sessions = common::layer().sessions();
    if let Ok(t) = sessions.decode::<Claims>(token) {
        // Only tokens made with our keys decode; the seed corpus holds some, mutations must not
        // turn garbage into a session, so any accepted token must be a seed (or equivalent).
        assert!(t.claims().contains_key("seed"), "forged session accepted: {token}");
    }
});
