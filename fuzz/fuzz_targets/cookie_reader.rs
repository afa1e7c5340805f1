//! Any `Cookie` / `Authorization` header bytes: a session or an error, never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tower_nextauth::Claims;

fuzz_target!(|data: &[u8]| {
    let (cookie, auth) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(cookie) {
        headers.append("cookie", v);
    }
    if let Some(Ok(v)) = auth.map(HeaderValue::from_bytes) {
        headers.append("authorization", v);
    }
    let sessions = common::layer().sessions();
    if let Ok(token) = sessions.read::<Claims>(&headers) {
        // Anything accepted must carry an authentic token: re-encoding it must round-trip.
        let again = sessions.encode(token.claims()).unwrap();
        assert!(sessions.decode::<Claims>(&again).is_ok());
    }
    let _ = sessions.sign_out(&headers);
});
