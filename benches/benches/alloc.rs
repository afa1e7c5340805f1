//! Allocations per request: what decoding costs, and what the layer's plumbing adds on top.
//!
//! ```text
//! cargo bench -p tower-nextauth-benches --bench alloc
//! ```
//! Exits non-zero if the layer adds any allocation beyond decoding and what `http::Extensions`
//! itself needs to hold the token and the layer's `Sessions` (measured here, not assumed), or if a request whose session is
//! in the cache of verified sessions allocates anything but that extension slot.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{HeaderMap, HeaderValue, Request, Response};
use serde::Deserialize;
use serde_json::json;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::{service_fn, Layer, Service};
use tower_nextauth::{Builder, Format, Token};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

#[derive(Clone, Deserialize)]
#[allow(dead_code)]
struct Session {
    name: String,
    email: String,
    role: String,
}

fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!(),
    }
}

/// Allocations made by `f`, the minimum over a few runs (warm caches, no lazy initialisation).
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    (0..5)
        .map(|_| {
            let region = Region::new(GLOBAL);
            f();
            region.change().allocations
        })
        .min()
        .unwrap()
}

fn main() {
    let claims =
        json!({"name": "Ada Lovelace", "email": "ada@example.com", "role": "admin", "sub": "42"});
    let mut rows = Vec::new();
    let mut layer_extra = 0;
    let mut hit_extra = 0;
    for (format, cached) in [
        (Format::V4, true),
        (Format::V5, true),
        (Format::V4, false),
        (Format::V5, false),
    ] {
        let entries = if cached { 4096 } else { 0 };
        let auth = Builder::new()
            .secret("allocation-benchmark-secret-0123456789")
            .format(format)
            .clock(|| 1_793_491_200)
            .session_cache(entries, 8 << 20)
            .build()
            .unwrap()
            .claims::<Session>();
        let sessions = auth.sessions().clone();
        let cookie = format!(
            "{}={}",
            format.cookie_name(),
            sessions.encode(&claims).unwrap()
        );
        let value = HeaderValue::from_str(&cookie).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("cookie", value.clone());

        let decode = allocations(|| {
            std::hint::black_box(sessions.read::<Session>(&headers).unwrap());
        });
        let inner = service_fn(|req: Request<()>| async move {
            let ok = req.extensions().get::<Token<Session>>().is_some();
            // A static body: no allocation of its own, and rejections can carry theirs.
            let body = if ok { "ok" } else { "anon" };
            Ok::<_, Infallible>(Response::new(bytes::Bytes::from_static(body.as_bytes())))
        });
        let mut bare = inner;
        let mut svc = auth.layer(inner);
        // The request itself (with its header map) is built outside the measured region.
        let make = || {
            let mut req = Request::get("/dashboard").body(()).unwrap();
            req.headers_mut().insert("cookie", value.clone());
            req
        };
        let bare_call = {
            let mut reqs: Vec<_> = (0..6).map(|_| make()).collect();
            allocations(|| {
                let res = now(bare.call(reqs.pop().unwrap())).unwrap();
                assert_eq!(res.into_body(), "anon");
            })
        };
        let layered = {
            let mut reqs: Vec<_> = (0..6).map(|_| make()).collect();
            allocations(|| {
                let res = now(svc.call(reqs.pop().unwrap())).unwrap();
                assert_eq!(res.into_body(), "ok", "the token reached the handler");
            })
        };
        // What putting the token and the layer's `Sessions` (for handlers that write sessions)
        // into a fresh request's extensions costs by itself.
        let token = sessions.read::<Session>(&headers).unwrap();
        let insert = {
            let mut reqs: Vec<_> = (0..6).map(|_| make()).collect();
            allocations(|| {
                let mut req = reqs.pop().unwrap();
                req.extensions_mut().insert(token.clone());
                req.extensions_mut().insert(sessions.clone());
                std::hint::black_box(req);
            })
        } - {
            // Cloning them for the measurement is not part of the layer's cost.
            allocations(|| {
                std::hint::black_box((token.clone(), sessions.clone()));
            })
        };
        let plumbing = layered as isize - bare_call as isize - decode as isize - insert as isize;
        layer_extra = layer_extra.max(plumbing);
        if cached {
            hit_extra = hit_extra.max(layered as isize - bare_call as isize - insert as isize);
        }
        let label = format!("{format:?} {}", if cached { "hit" } else { "miss" });
        rows.push((label, decode, insert, bare_call, layered, plumbing));
    }
    println!("allocations per request (hit: the session is in the cache; miss: cache off)");
    println!(
        "{:<9} {:>13} {:>17} {:>13} {:>14} {:>15}",
        "session",
        "decode alone",
        "Extensions::insert",
        "bare service",
        "through layer",
        "layer plumbing"
    );
    for (label, decode, insert, bare, layered, plumbing) in rows {
        println!(
            "{:<9} {:>13} {:>17} {:>13} {:>14} {:>15}",
            label, decode, insert, bare, layered, plumbing
        );
    }
    println!(
        "layer plumbing beyond decoding and the extension slots (token, Sessions): {layer_extra}"
    );
    println!("a cached session, beyond its extension slots: {hit_extra}");
    if layer_extra > 0 {
        eprintln!("the layer allocates on the request path beyond the claims and their slot");
        std::process::exit(1);
    }
    if hit_extra > 0 {
        eprintln!("a request with a cached session allocates beyond its extension slot");
        std::process::exit(1);
    }
}
