//! Any request target: the sign-in redirect stays on the configured origin, and its
//! `callbackUrl` is a same-origin path. No header injection, no open redirect, no panic.
#![no_main]

#[path = "common.rs"]
mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response, Uri};
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, Service};

fn decode_form(s: &str) -> Option<String> {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = Uri::from_maybe_shared(data.to_vec()) else { return };
    let Ok(req) = Request::get(uri).body(()) else { return };
    let mut svc = common::layer().layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let mut fut = pin!(svc.call(req));
    let Poll::Ready(Ok(res)) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("a rejection is ready at once");
    };
    let Some(location) = res.headers().get("location") else { return };
    let location = location.to_str().expect("Location is visible ASCII");
    let prefix = "https://app.example.com/api/auth/signin?callbackUrl=";
    assert!(location.starts_with(prefix), "{location}");
    let rest = &location[prefix.len()..];
    assert!(!rest.contains('&') && !rest.contains('#'), "{location}");
    let callback = decode_form(rest).expect("callbackUrl is form-encoded UTF-8");
    assert!(callback.starts_with('/'), "{callback}");
    assert!(!callback.starts_with("//") && !callback.starts_with("/\\"), "{callback}");
});
