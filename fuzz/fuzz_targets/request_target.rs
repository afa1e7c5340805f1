//! Any raw request target (bytes, as a client puts them on the request line) through the real
//! layer in front of a service that serves every path: nothing the matcher is meant to cover gets
//! a 200 without a session.
//!
//! "Meant to cover" is decided independently of the layer's own logic: Next.js's pathname
//! (`Matcher::pathname`, checked against Node's `new URL()` in tests/matcher.rs) matched with
//! `Matcher::is_match`, minus the skip list, written out here on that pathname alone.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use http::{Request, Response, StatusCode, Uri};
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, Service};
use tower_nextauth::{AuthLayer, Format, Matcher};

const SECRET: &str = "fuzzing-secret-0123456789abcdef0123456789";

/// The matcher forms of issue 10, as one list and one by one.
const SOURCES: &[&str] = &[
    "/dashboard/:path*",
    "/admin/:path*",
    "/api/me",
    "/api/((?!public).*)",
    "/((?!api/public|_next/static|_next/image|favicon.ico).*)",
    "/api/:path*",
    "/shop/:cat-:item-:sku",
];

fn layers() -> &'static [(Matcher, AuthLayer)] {
    static LAYERS: OnceLock<Vec<(Matcher, AuthLayer)>> = OnceLock::new();
    LAYERS.get_or_init(|| {
        let one = SOURCES.iter().map(|s| vec![*s]);
        std::iter::once(SOURCES.to_vec())
            .chain(one)
            .map(|sources| {
                let layer = tower_nextauth::Builder::new()
                    .secret(SECRET)
                    .format(Format::V5)
                    .matcher(&sources)
                    .unwrap()
                    .build()
                    .unwrap();
                (Matcher::new(&sources).unwrap(), layer)
            })
            .collect()
    })
}

/// withAuth's skip list (auth path, sign-in and error pages, `/_next`, `/favicon.ico`), on one
/// pathname, segment by segment (the default `SkipMode::Segment`).
fn skipped(pathname: &str) -> bool {
    let under = |prefix: &str| {
        pathname
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under("/api/auth") || under("/_next") || under("/favicon.ico")
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, target)) = data.split_first() else { return };
    // What hyper hands on: the same `http::Uri` parser, which refuses what hyper refuses
    // (controls, spaces, invalid UTF-8, over 65 534 bytes).
    let Ok(uri) = Uri::from_maybe_shared(target.to_vec()) else { return };
    let Ok(req) = Request::get(uri.clone()).body(()) else { return };
    let layers = layers();
    let (matcher, layer) = &layers[usize::from(pick) % layers.len()];
    let mut svc = layer.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let mut fut = pin!(svc.call(req));
    let Poll::Ready(Ok(res)) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the layer answers at once");
    };
    let pathname = Matcher::pathname(uri.path());
    let meant = matcher.is_match(&pathname) && !skipped(&pathname);
    if meant {
        assert_ne!(
            res.status(),
            StatusCode::OK,
            "{:?} (pathname {pathname:?}) is covered but was served without a session",
            uri.path()
        );
    }
});
