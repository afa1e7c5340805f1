#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Criterion benches: decoding from the raw `Cookie` header to typed claims, the layer's own
//! plumbing, rejection paths, and matcher evaluation.
//!
//! ```text
//! cargo bench -p tower-nextauth-benches --bench decode
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue, Request, Response};
use serde::Deserialize;
use serde_json::json;
use tower::{service_fn, Layer, Service};
use tower_nextauth::{Builder, Claims, Format, Matcher, Sessions};

const SECRET: &str = "benchmark-secret-0123456789abcdef0123456789";
const NOW: i64 = 1_793_491_200;

#[derive(Clone, Deserialize)]
#[allow(dead_code)]
struct Session {
    name: String,
    email: String,
    role: String,
    sub: String,
}

/// Sessions without the cache of verified sessions: every read decrypts (the `decode` figures).
fn sessions(format: Format) -> Sessions {
    Builder::new()
        .secret(SECRET)
        .format(format)
        .clock(|| NOW)
        .session_cache(0, 0)
        .build()
        .unwrap()
        .sessions()
        .clone()
}

fn claims() -> serde_json::Value {
    json!({
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "picture": "https://example.com/a.png",
        "sub": "42",
        "role": "admin",
    })
}

fn cookie_headers(cookie: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "cookie",
        HeaderValue::from_str(&format!("theme=dark; {cookie}")).unwrap(),
    );
    h
}

/// A v5 `A256GCM` token without `kid`, as Auth.js accepts it, made with josekit.
fn v5_gcm_token() -> String {
    let salt = "authjs.session-token";
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt.as_bytes()), SECRET.as_bytes())
        .expand(
            format!("Auth.js Generated Encryption Key ({salt})").as_bytes(),
            &mut key,
        )
        .unwrap();
    let mut payload = claims();
    payload["iat"] = NOW.into();
    payload["exp"] = (NOW + 3600).into();
    payload["jti"] = "b1b2c3d4-0000-4000-8000-000000000000".into();
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = josekit::jwe::Dir.encrypter_from_bytes(key).unwrap();
    josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &header, &encrypter).unwrap()
}

fn decode(c: &mut Criterion) {
    let v4 = sessions(Format::V4);
    let v5 = sessions(Format::V5);
    let v4_cookie = cookie_headers(&format!(
        "next-auth.session-token={}",
        v4.encode(&claims()).unwrap()
    ));
    let v5_token = v5.encode(&claims()).unwrap();
    let v5_cookie = cookie_headers(&format!("authjs.session-token={v5_token}"));
    let gcm_cookie = cookie_headers(&format!("authjs.session-token={}", v5_gcm_token()));
    let mut big = claims();
    big["blob"] = "x".repeat(6000).into();
    let chunked: Vec<String> = v5
        .sign_in(&HeaderMap::new(), &big)
        .unwrap()
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    assert_eq!(chunked.len(), 3, "the big cookie is 3 chunks");
    let chunked_cookie = cookie_headers(&chunked.join("; "));
    eprintln!(
        "v5 token: {} bytes; chunked cookie: {} bytes",
        v5_token.len(),
        chunked_cookie["cookie"].len()
    );

    let mut g = c.benchmark_group("decode");
    g.bench_function("v4_typed", |b| {
        b.iter(|| v4.read::<Session>(black_box(&v4_cookie)).unwrap())
    });
    g.bench_function("v5_cbc_hs512_typed", |b| {
        b.iter(|| v5.read::<Session>(black_box(&v5_cookie)).unwrap())
    });
    g.bench_function("v5_a256gcm_typed", |b| {
        b.iter(|| v5.read::<Session>(black_box(&gcm_cookie)).unwrap())
    });
    g.bench_function("v5_3_chunks_8kb_typed", |b| {
        b.iter(|| v5.read::<Session>(black_box(&chunked_cookie)).unwrap())
    });
    g.bench_function("v4_map", |b| {
        b.iter(|| v4.read::<Claims>(black_box(&v4_cookie)).unwrap())
    });
    g.bench_function("v5_cbc_hs512_map", |b| {
        b.iter(|| v5.read::<Claims>(black_box(&v5_cookie)).unwrap())
    });
    g.finish();
}

/// Polls a future that is ready at once (the trivial service and rejections are).
fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the benchmarked services never wait"),
    }
}

fn layer(c: &mut Criterion) {
    let auth = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(|| NOW)
        .build()
        .unwrap()
        .claims::<Session>();
    // The same layer without the cache: every request decrypts.
    let uncached = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(|| NOW)
        .session_cache(0, 0)
        .build()
        .unwrap()
        .claims::<Session>();
    let jwe = auth.sessions().encode(&claims()).unwrap();
    let cookie = HeaderValue::from_str(&format!("theme=dark; authjs.session-token={jwe}")).unwrap();
    let inner = service_fn(|req: Request<()>| async move {
        // Touch the token, as a handler would.
        let ok = req
            .extensions()
            .get::<tower_nextauth::Token<Session>>()
            .is_some();
        let body: &'static str = if ok { "ok" } else { "anon" };
        Ok::<_, Infallible>(Response::new(bytes::Bytes::from_static(body.as_bytes())))
    });
    let mut svc = auth.layer(inner);
    let mut svc_uncached = uncached.layer(inner);
    let mut bare = inner;
    let request = |cookie: Option<&HeaderValue>| {
        let mut req = Request::get("/dashboard").body(()).unwrap();
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.clone());
        }
        req
    };
    let sessions = uncached.sessions().clone();
    let headers = cookie_headers(&format!("authjs.session-token={jwe}"));

    let mut g = c.benchmark_group("layer");
    // Building the request is common to all three; so is calling the trivial service.
    g.bench_function("bare_service", |b| {
        b.iter(|| now(bare.call(black_box(request(Some(&cookie))))).unwrap())
    });
    g.bench_function("decode_only_plus_bare_service", |b| {
        b.iter(|| {
            let t = sessions.read::<Session>(black_box(&headers)).unwrap();
            black_box(t);
            now(bare.call(black_box(request(Some(&cookie))))).unwrap()
        })
    });
    g.bench_function("through_auth_layer_uncached", |b| {
        b.iter(|| now(svc_uncached.call(black_box(request(Some(&cookie))))).unwrap())
    });
    // The session is in the cache of verified sessions (the steady state of a signed-in user).
    g.bench_function("through_auth_layer", |b| {
        b.iter(|| now(svc.call(black_box(request(Some(&cookie))))).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("reject");
    g.bench_function("no_cookie", |b| {
        b.iter(|| now(svc.call(black_box(request(None)))).unwrap())
    });
    let garbage = HeaderValue::from_static("authjs.session-token=garbage.garbage");
    g.bench_function("garbage_cookie", |b| {
        b.iter(|| now(svc.call(black_box(request(Some(&garbage))))).unwrap())
    });
    g.finish();
}

/// The load test's server work without its network: the `hyper` example's handler (it answers
/// `hello <name>` from the default claims map) bare and through a layer with the default clock
/// and cache, each request carrying the next of 1,000 distinct v5 sessions (~270 B of claims),
/// so the cache's entries and the claims are as cold as 1,000 sessions make them.
/// `cargo bench -p tower-nextauth-benches --bench decode -- cycling/`
fn cycling(c: &mut Criterion) {
    use tower_nextauth::Token;
    let auth = Builder::new().secret(SECRET).build().unwrap();
    let name = auth.sessions().cookie_names().next().unwrap().to_owned();
    // The sessions `hyper --mint` makes for scripts/load.sh (a bench cannot call an example).
    let cookies: Vec<HeaderValue> = (0..1000)
        .map(|i| {
            let mut claims = json!({
                "name": format!("Load Test {i:07}"),
                "email": format!("load.test.{i:07}@example.com"),
                "picture": format!("https://avatars.example.com/u/{i:07}.png?size=96"),
                "sub": format!("user-{i:07}"),
                "role": "member",
            });
            let len = claims.to_string().len();
            claims["org"] = "x".repeat(270usize.saturating_sub(len + 10)).into();
            let jwe = auth.sessions().encode(&claims).unwrap();
            HeaderValue::from_str(&format!("{name}={jwe}")).unwrap()
        })
        .collect();
    let hello = service_fn(|req: Request<()>| async move {
        let name = req
            .extensions()
            .get::<Token>()
            .and_then(|t| t["name"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "anonymous".to_owned());
        Ok::<_, Infallible>(Response::new(bytes::Bytes::from(format!("hello {name}\n"))))
    });
    let mut layered = auth.layer(hello);
    let mut bare = hello;
    let mut next = 0;
    let mut request = || {
        next = (next + 1) % cookies.len();
        let mut req = Request::get("/").body(()).unwrap();
        req.headers_mut()
            .insert(http::header::COOKIE, cookies[next].clone());
        req
    };
    // Every session is read twice first, so the cache holds them all.
    for _ in 0..2 * cookies.len() {
        let res = now(layered.call(request())).unwrap();
        assert_ne!(res.body().as_ref(), b"hello anonymous\n");
    }
    let mut g = c.benchmark_group("cycling");
    g.bench_function("1000_sessions_bare", |b| {
        b.iter(|| now(bare.call(black_box(request()))).unwrap())
    });
    g.bench_function("1000_sessions_through_auth_layer", |b| {
        b.iter(|| now(layered.call(black_box(request()))).unwrap())
    });
    g.finish();
}

/// The cache of verified sessions: a hit; a miss on a token's first sight (decoded, remembered by
/// the doorkeeper, not kept); a token's first two reads (the second one decodes again and keeps
/// it); and a hit whose claims have expired since (refused without decrypting).
/// `cargo bench -p tower-nextauth-benches --bench decode -- cache/`
fn cache(c: &mut Criterion) {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    let now = Arc::new(AtomicI64::new(NOW));
    let clock = now.clone();
    let cached = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(move || clock.load(Ordering::Relaxed))
        .session_cache(1024, 8 << 20)
        .build()
        .unwrap()
        .sessions()
        .clone();
    let one = cookie_headers(&format!(
        "authjs.session-token={}",
        cached.encode(&claims()).unwrap()
    ));
    // More distinct tokens than the cache and its doorkeeper hold, read in turn: every read is
    // a first sight.
    let pool: Vec<HeaderMap> = (0..8192)
        .map(|i| {
            let mut c = claims();
            c["sub"] = i.to_string().into();
            cookie_headers(&format!(
                "authjs.session-token={}",
                cached.encode(&c).unwrap()
            ))
        })
        .collect();
    let mut g = c.benchmark_group("cache");
    g.bench_function("v5_hit_typed", |b| {
        b.iter(|| cached.read::<Session>(black_box(&one)).unwrap())
    });
    let mut next = 0;
    g.bench_function("v5_miss_typed", |b| {
        b.iter(|| {
            next = (next + 1) % pool.len();
            cached.read::<Session>(black_box(&pool[next])).unwrap()
        })
    });
    g.bench_function("v5_first_two_reads_typed", |b| {
        b.iter(|| {
            next = (next + 1) % pool.len();
            cached.read::<Session>(black_box(&pool[next])).unwrap();
            cached.read::<Session>(black_box(&pool[next])).unwrap()
        })
    });
    // Stored again (the pool may have pushed it out; it is stored on its second read), then
    // expired by the clock.
    for _ in 0..2 {
        cached.read::<Session>(&one).unwrap();
    }
    let a = cached.read::<Session>(&one).unwrap();
    let b = cached.read::<Session>(&one).unwrap();
    assert!(
        std::ptr::eq(a.claims(), b.claims()),
        "the session is cached"
    );
    now.store(NOW + 31 * 24 * 3600, Ordering::Relaxed);
    g.bench_function("v5_hit_expired", |b| {
        b.iter(|| cached.read::<Session>(black_box(&one)).unwrap_err())
    });
    g.finish();
}

fn matcher(c: &mut Criterion) {
    let m = Matcher::new([
        "/dashboard/:path*",
        "/admin/:path+",
        "/api/me",
        "/api/((?!public).*)",
        "/settings{/:tab}?",
        "/blog/:slug?",
        "/:locale(en|fr)/shop",
        r"/files/:id(\d+)",
        "/docs/:section/:page",
        r"/((?!_next/static|_next/image|favicon.ico|.*\.png$).*)",
    ])
    .unwrap();
    let mut g = c.benchmark_group("matcher");
    g.bench_function("10_patterns_hit_first", |b| {
        b.iter(|| m.is_match(black_box("/dashboard/a/b")))
    });
    g.bench_function("10_patterns_hit_last", |b| {
        b.iter(|| m.is_match(black_box("/contact")))
    });
    g.bench_function("10_patterns_miss", |b| {
        b.iter(|| m.is_match(black_box("/logo.png")))
    });

    // The slowest sources we know (text between parameters, lookaheads), on the worst paths:
    // just under `Matcher::MAX_PATH_LEN`, where every pattern runs, and at hyper's longest
    // request target (65 534 bytes, `MAX_URI_LEN` in hyper's `proto/h1/role.rs`), where none
    // does. Each is the whole decision: Next's pathname, then the match.
    let slow = Matcher::new([
        "/shop/:cat-:item-:sku",
        "/api/((?!public).*)",
        r"/((?!_next/static|_next/image|favicon.ico|.*\.png$).*)",
        "/((?!api/public|_next/static|_next/image|favicon.ico).*)",
    ])
    .unwrap();
    let fill = |prefix: &str, unit: &str, len: usize| {
        let mut p = prefix.to_owned();
        while p.len() + unit.len() <= len {
            p.push_str(unit);
        }
        p
    };
    let decide = |m: &Matcher, path: &str| m.is_match(&Matcher::pathname(path));
    for (name, path) in [
        (
            "slow_sources_shop_under_bound",
            fill("/shop/", "a-", Matcher::MAX_PATH_LEN),
        ),
        (
            "slow_sources_png_under_bound",
            fill("/", ".png", Matcher::MAX_PATH_LEN),
        ),
        (
            "slow_sources_api_under_bound",
            fill("/api/", "x/", Matcher::MAX_PATH_LEN),
        ),
        ("slow_sources_shop_65534", fill("/shop/", "a-", 65_534)),
        (
            "slow_sources_u2028_65534",
            fill("/api/", "\u{2028}", 65_534),
        ),
        (
            "slow_sources_dots_65534",
            fill("/api/auth", "/%2e%2e/x", 65_534),
        ),
    ] {
        assert!(path.len() <= 65_534);
        g.bench_function(name, |b| b.iter(|| decide(&slow, black_box(&path))));
    }

    // The same through the layer, with a session (so no rejection is rendered).
    let auth = Builder::new()
        .secret(SECRET)
        .format(Format::V5)
        .clock(|| NOW)
        .matcher([
            "/shop/:cat-:item-:sku",
            "/api/((?!public).*)",
            "/((?!api/public|_next/static|_next/image|favicon.ico).*)",
        ])
        .unwrap()
        .build()
        .unwrap();
    let cookie = HeaderValue::from_str(&format!(
        "authjs.session-token={}",
        auth.sessions().encode(&claims()).unwrap()
    ))
    .unwrap();
    let mut svc = auth.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(bytes::Bytes::new()))
    }));
    let uri: http::Uri = fill("/shop/", "\u{2028}-", 65_534).parse().unwrap();
    g.bench_function("through_auth_layer_65534_byte_path", |b| {
        b.iter(|| {
            let mut req = Request::get(uri.clone()).body(()).unwrap();
            req.headers_mut().insert("cookie", cookie.clone());
            now(svc.call(black_box(req))).unwrap()
        })
    });
    g.finish();
}

/// The claims of `benches/peers/peers.mjs`'s `payloadOf(size)`: the base claims plus a blob.
fn payload_of(size: usize) -> serde_json::Value {
    let mut p = claims();
    let base = serde_json::to_string(&p).unwrap().len();
    if size > base + 10 {
        p["blob"] = "x".repeat(size - base - 10).into();
    }
    p
}

/// Decode time against claims size, for the chart next to next-auth and @auth/core.
fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.measurement_time(std::time::Duration::from_secs(2));
    g.warm_up_time(std::time::Duration::from_millis(500));
    for format in [Format::V4, Format::V5] {
        let s = sessions(format);
        for size in [100, 270, 1000, 2000, 4000, 8000, 12000] {
            let set = s.sign_in(&HeaderMap::new(), &payload_of(size)).unwrap();
            let pairs: Vec<&str> = set
                .iter()
                .map(|v| v.to_str().unwrap().split(';').next().unwrap())
                .collect();
            let headers = cookie_headers(&pairs.join("; "));
            let name = format!("{}_{size}", if format == Format::V4 { "v4" } else { "v5" });
            g.bench_function(name, |b| {
                b.iter(|| s.read::<Claims>(black_box(&headers)).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, decode, cache, layer, cycling, matcher, scaling);
criterion_main!(benches);
