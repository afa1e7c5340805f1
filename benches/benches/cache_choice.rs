#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Which concurrent cache to keep verified sessions in (issue 13): `quick_cache` 0.6, `moka` 0.12
//! and `mini-moka` 0.10, each as a map from the exact token string to `Arc<claims>`, bounded by a
//! weight in bytes.
//!
//! ```text
//! cargo bench -p tower-nextauth-benches --bench cache_choice
//! CACHE_CHOICE_KEY_LEN=300 cargo bench -p tower-nextauth-benches --bench cache_choice
//! ```
//!
//! Workloads, each with 2 threads doing lookups at once (`std::thread::scope`); the time reported
//! is per lookup per thread (wall time of a sample / lookups each thread made):
//! - `hits_1k`: 1,000 hot keys, all in the cache, all hits (a warm app);
//! - `cycle_200k_cap10k`: 200,000 keys cycled in order through a cache bounded at ~10,000
//!   entries, so every lookup misses and is followed by an insert (a flood of sessions the cache
//!   has never seen; the decode a real miss pays is not included);
//! - `hits_1k_1thread`: the hit path without contention.
//!
//! Before the timings it prints, single-threaded, each cache's heap overhead per entry (beyond
//! the key and value it was handed) and the allocations a hit and a miss make (the layer's
//! plumbing must not allocate: the `alloc` bench fails if it does), and the hit ratio and size
//! each cache ends with in both 2-thread workloads.
//!
//! Keys are `CACHE_CHOICE_KEY_LEN` bytes (default 713: a v5 token carrying the ~270 B of claims
//! the README's figures use, as `hyper --mint` makes them), sharing the 56-byte JWE header prefix
//! real tokens share. `quick_cache` runs with its default features here (ahash, parking_lot),
//! with std's SipHash as the hasher, and with SipHash over the key's last 32 bytes only
//! (`TailHash`); `mini-moka` cannot look a `String` key up by `&str` (its
//! `get` wants `Arc<K>: Borrow<Q>`), so its lookups allocate a `String` first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

// ---- A global allocator that counts only while `COUNTING` is set (single-threaded phases). ----

struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            ALLOCATED.fetch_add(layout.size(), Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            FREED.fetch_add(layout.size(), Relaxed);
        }
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            ALLOCATED.fetch_add(new_size, Relaxed);
            FREED.fetch_add(layout.size(), Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made, and heap bytes still held, by `f`.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize, isize) {
    let (a, b, c) = (
        ALLOCS.load(Relaxed),
        ALLOCATED.load(Relaxed),
        FREED.load(Relaxed),
    );
    COUNTING.store(true, Relaxed);
    let out = f();
    COUNTING.store(false, Relaxed);
    let allocs = ALLOCS.load(Relaxed) - a;
    let held = (ALLOCATED.load(Relaxed) - b) as isize - (FREED.load(Relaxed) - c) as isize;
    (out, allocs, held)
}

// ---- What is cached. ----

/// Stands in for a decoded session (the layer caches `Arc<C>` or the token built from it).
#[allow(dead_code)]
struct Session {
    name: String,
    email: String,
    picture: String,
    sub: String,
    role: String,
    org: String,
    exp: i64,
    iat: i64,
    jti: String,
}

type Value = Arc<Session>;

fn session(i: usize) -> Value {
    Arc::new(Session {
        name: format!("Load Test {i:07}"),
        email: format!("load.test.{i:07}@example.com"),
        picture: format!("https://avatars.example.com/u/{i:07}.png?size=96"),
        sub: format!("user-{i:07}"),
        role: "member".into(),
        org: "x".repeat(80),
        exp: 1_796_083_200,
        iat: 1_793_491_200,
        jti: "b1b2c3d4-0000-4000-8000-000000000000".into(),
    })
}

/// What an entry costs, as the layer would weigh it: the key, the value and a fixed overhead.
fn weight(key: &str, v: &Session) -> u64 {
    let strings = v.name.len()
        + v.email.len()
        + v.picture.len()
        + v.sub.len()
        + v.role.len()
        + v.org.len()
        + v.jti.len();
    (key.len() + std::mem::size_of::<Session>() + strings + 64) as u64
}

/// `n` distinct token-like keys of `len` bytes: the shared JWE header, then pseudo-random
/// base64url characters (with the dots of a compact JWE).
fn keys(n: usize, len: usize) -> Vec<String> {
    const PREFIX: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoi";
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|_| {
            let mut s = String::with_capacity(len);
            s.push_str(PREFIX);
            while s.len() < len {
                // splitmix64
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                for shift in (0..60).step_by(6) {
                    if s.len() == len {
                        break;
                    }
                    let at = s.len();
                    s.push(if at == 160 || at == 183 || at == len - 23 {
                        '.'
                    } else {
                        ALPHABET[((z >> shift) & 63) as usize] as char
                    });
                }
            }
            s
        })
        .collect()
}

// ---- The candidates, behind one interface. ----

trait SessionCache: Sync {
    fn get(&self, key: &str) -> Option<Value>;
    fn insert(&self, key: String, value: Value);
    /// Entries held (after any pending maintenance).
    fn entries(&self) -> u64;
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<String, Value> for ByBytes {
    fn weight(&self, key: &String, val: &Value) -> u64 {
        weight(key, val)
    }
}

type Quick<H> = quick_cache::sync::Cache<String, Value, ByBytes, H>;

impl<H: BuildHasher + Clone + Send + Sync> SessionCache for Quick<H> {
    fn get(&self, key: &str) -> Option<Value> {
        quick_cache::sync::Cache::get(self, key)
    }
    fn insert(&self, key: String, value: Value) {
        quick_cache::sync::Cache::insert(self, key, value)
    }
    fn entries(&self) -> u64 {
        quick_cache::sync::Cache::len(self) as u64
    }
}

impl SessionCache for moka::sync::Cache<String, Value> {
    fn get(&self, key: &str) -> Option<Value> {
        moka::sync::Cache::get(self, key)
    }
    fn insert(&self, key: String, value: Value) {
        moka::sync::Cache::insert(self, key, value)
    }
    fn entries(&self) -> u64 {
        self.run_pending_tasks();
        self.entry_count()
    }
}

impl SessionCache for mini_moka::sync::Cache<String, Value> {
    fn get(&self, key: &str) -> Option<Value> {
        // `get` wants `Arc<String>: Borrow<Q>`, so a `&str` has to become a `String`.
        mini_moka::sync::Cache::get(self, &key.to_owned())
    }
    fn insert(&self, key: String, value: Value) {
        mini_moka::sync::Cache::insert(self, key, value)
    }
    fn entries(&self) -> u64 {
        mini_moka::sync::ConcurrentCacheExt::sync(self);
        self.entry_count()
    }
}

/// Hashes only the last 32 bytes of what it is given: for a token, the end of the JWE's
/// authentication tag (random to anyone without the key), so a 700-byte key costs a 32-byte
/// hash. Equality still compares the whole key. With a randomly keyed hasher (`RandomState`)
/// nobody can aim lookups at one bucket; inserts happen only after a token verified.
#[derive(Clone)]
struct TailHash<B>(B);

struct TailHasher<H>(H);

impl<H: Hasher> Hasher for TailHasher<H> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(&bytes[bytes.len().saturating_sub(32)..]);
    }
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

impl<B: BuildHasher> BuildHasher for TailHash<B> {
    type Hasher = TailHasher<B::Hasher>;
    fn build_hasher(&self) -> Self::Hasher {
        TailHasher(self.0.build_hasher())
    }
}

const CANDIDATES: [&str; 5] = [
    "quick_cache",
    "quick_cache_siphash",
    "quick_cache_siphash_tail32",
    "moka",
    "mini_moka",
];

/// A cache of `candidate` kind bounded at `entries` entries of `per_entry` weight.
fn build(candidate: &str, entries: usize, per_entry: u64) -> Box<dyn SessionCache + Send> {
    let bytes = entries as u64 * per_entry;
    match candidate {
        "quick_cache" => Box::new(Quick::with(
            entries,
            bytes,
            ByBytes,
            quick_cache::DefaultHashBuilder::default(),
            Default::default(),
        )),
        "quick_cache_siphash" => Box::new(Quick::with(
            entries,
            bytes,
            ByBytes,
            RandomState::new(),
            Default::default(),
        )),
        "quick_cache_siphash_tail32" => Box::new(Quick::with(
            entries,
            bytes,
            ByBytes,
            TailHash(RandomState::new()),
            Default::default(),
        )),
        "moka" => Box::new(
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .initial_capacity(entries)
                .weigher(|k: &String, v: &Value| weight(k, v).try_into().unwrap_or(u32::MAX))
                .build(),
        ),
        "mini_moka" => Box::new(
            mini_moka::sync::Cache::builder()
                .max_capacity(bytes)
                .initial_capacity(entries)
                .weigher(|k: &String, v: &Value| weight(k, v).try_into().unwrap_or(u32::MAX))
                .build(),
        ),
        other => unreachable!("{other}"),
    }
}

/// What one thread walks: `keys[range]` in order, from `cursor` (kept between samples, so a
/// cycling workload never restarts where the cache still holds keys).
struct Lane {
    range: std::ops::Range<usize>,
    cursor: AtomicUsize,
}

impl Lane {
    fn new(range: std::ops::Range<usize>, start: usize) -> Self {
        Self {
            cursor: AtomicUsize::new(start),
            range,
        }
    }
}

/// Both lanes over the same 1,000 hot keys, half a turn apart.
fn hot_lanes() -> [Lane; 2] {
    [Lane::new(0..1_000, 0), Lane::new(0..1_000, 500)]
}

/// Each lane over its own half of the 200,000 keys: a key comes back after 100,000 lookups of
/// the same thread, whatever the other thread does.
fn cycling_lanes() -> [Lane; 2] {
    [
        Lane::new(0..100_000, 0),
        Lane::new(100_000..200_000, 100_000),
    ]
}

/// Each of 2 threads does `per_thread` lookups along its lane; a miss inserts. Returns the wall
/// time and the hits.
fn drive(
    cache: &dyn SessionCache,
    keys: &[String],
    values: &[Value],
    lanes: &[Lane; 2],
    per_thread: u64,
) -> (Duration, u64) {
    let hits = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for lane in lanes {
            let hits = &hits;
            s.spawn(move || {
                let mut at = lane.cursor.load(Relaxed);
                let mut hit = 0;
                for _ in 0..per_thread {
                    let key = &keys[at];
                    match cache.get(key) {
                        Some(v) => {
                            black_box(v);
                            hit += 1;
                        }
                        None => cache.insert(key.clone(), values[at].clone()),
                    }
                    at += 1;
                    if at == lane.range.end {
                        at = lane.range.start;
                    }
                }
                lane.cursor.store(at, Relaxed);
                hits.fetch_add(hit, Relaxed);
            });
        }
    });
    (start.elapsed(), hits.into_inner() as u64)
}

fn key_len() -> usize {
    std::env::var("CACHE_CHOICE_KEY_LEN")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(713)
        .max(100)
}

fn cache_choice(c: &mut Criterion) {
    let len = key_len();
    let keys = keys(200_000, len);
    let values: Vec<Value> = (0..keys.len()).map(session).collect();
    let per_entry = weight(&keys[0], &values[0]);
    let hot = &keys[..1_000];
    eprintln!(
        "keys: {len} bytes; entry weight {per_entry} B; {} threads available",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Single-threaded facts: overhead per entry, allocations per hit and per miss + insert.
    for candidate in CANDIDATES {
        let cache = build(candidate, 10_000, per_entry);
        let owned: Vec<String> = keys[..10_000].to_vec();
        let ((), allocs, held) = counted(|| {
            for (k, v) in owned.into_iter().zip(&values) {
                cache.insert(k, v.clone());
            }
            cache.entries();
        });
        let held_entries = cache.entries();
        let ((), hit_allocs, _) = counted(|| {
            for k in &keys[..1_000] {
                black_box(cache.get(k));
            }
        });
        let ((), miss_allocs, _) = counted(|| {
            for (k, v) in keys[100_000..101_000].iter().zip(&values) {
                if cache.get(k).is_none() {
                    cache.insert(k.clone(), v.clone());
                }
            }
        });
        eprintln!(
            "{candidate:>20}: 10,000 inserts: {held_entries} held, {:.1} allocations and {} B of \
             heap (beyond key and value) per entry; per hit {:.2} allocations; per miss + insert \
             {:.2} (1 is the key's clone)",
            allocs as f64 / 10_000.0,
            held / held_entries.max(1) as isize,
            hit_allocs as f64 / 1_000.0,
            miss_allocs as f64 / 1_000.0,
        );
    }

    // Hit ratios and sizes of the 2-thread workloads, outside the timings.
    for candidate in CANDIDATES {
        let cache = build(candidate, 10_000, per_entry);
        let lanes = hot_lanes();
        drive(&*cache, &keys, &values, &lanes, 1_000); // fill
        let (_, hits) = drive(&*cache, &keys, &values, &lanes, 100_000);
        let hot_ratio = hits as f64 / 200_000.0;
        let cache = build(candidate, 10_000, per_entry);
        let lanes = cycling_lanes();
        let (_, hits) = drive(&*cache, &keys, &values, &lanes, 300_000);
        eprintln!(
            "{candidate:>20}: hits_1k hit ratio {:.4}; cycle_200k_cap10k hit ratio {:.4}, {} entries held at the end",
            hot_ratio,
            hits as f64 / 600_000.0,
            cache.entries()
        );
    }

    let mut g = c.benchmark_group("cache_choice");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for candidate in CANDIDATES {
        let cache = build(candidate, 10_000, per_entry);
        let lanes = hot_lanes();
        drive(&*cache, &keys, &values, &lanes, 1_000);
        g.bench_function(format!("hits_1k/{candidate}"), |b| {
            b.iter_custom(|iters| drive(&*cache, &keys, &values, &lanes, iters).0)
        });
        g.bench_function(format!("hits_1k_1thread/{candidate}"), |b| {
            let mut at = 0;
            b.iter(|| {
                at = (at + 1) % hot.len();
                cache.get(&hot[at]).unwrap()
            })
        });
        let cache = build(candidate, 10_000, per_entry);
        let lanes = cycling_lanes();
        g.bench_function(format!("cycle_200k_cap10k/{candidate}"), |b| {
            b.iter_custom(|iters| drive(&*cache, &keys, &values, &lanes, iters).0)
        });
    }
    g.finish();
}

criterion_group!(benches, cache_choice);
criterion_main!(benches);
