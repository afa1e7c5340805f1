//! The cache of verified sessions: a browser sends the same session cookie on every request
//! until it is refreshed, so the layer keeps the verified claims of a token it sees again and
//! decrypts it no more.
//!
//! - The key is the exact token bytes (the reassembled cookie value, or the Bearer token),
//!   together with where it was read (which cookie name, or Bearer) and the claims type. A v5
//!   token's key depends on its cookie name, so a token verified under one name is never taken
//!   for a session under another.
//! - The value is the token handed to handlers: one shared allocation holding its claims, raw
//!   time claims and decrypted payload (for a refresh). A hit checks `exp`/`nbf` against the
//!   layer's clock again, exactly as a decode would; `authorized`, the matcher and refresh run as
//!   for any request.
//! - Only verified sessions are kept, from the second time they are seen ([`Doorkeeper`]). A
//!   token that fails (forged, garbage, wrong secret, expired) is not cached at all, so no input
//!   can make the cache answer differently from a decode, and junk cannot push real sessions out.
//! - It belongs to one [`Sessions`](crate::Sessions), which holds the keys: a layer built with
//!   other secrets has a cache of its own, empty.
//! - Bounded by entries and by bytes (weights are at least `bytes / entries`, so the byte bound
//!   also bounds the count), with eviction under pressure.
//!
//! The crate is `quick_cache` (without default features). At 2 threads, with ~700-byte tokens
//! (benches/benches/cache_choice.rs): a hit took 160 ns with quick_cache against 465 ns with
//! moka and 1.9 µs with mini-moka; a miss with its insert 0.57 µs against 9.9 µs and 5.9 µs.
//! quick_cache never allocates on a hit (its `Equivalent` lookups take the token as borrowed
//! bytes; mini-moka cannot), allocates once per insert (moka 8 times), bounds by weight, adds 3
//! crates to the default tree (moka 14) and builds with Rust 1.71 (moka's tree needs 1.89).

use std::any::{Any, TypeId};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::token::Token;

/// Where a token was read: a cookie source's index, or the Bearer / bare-token path.
pub(crate) type Tag = u16;
/// The tag of tokens decoded against every source in turn (Bearer and `Sessions::decode`).
pub(crate) const ANY_SOURCE: Tag = Tag::MAX;

/// A verified session: the token's own allocation (its claims, raw time claims and decrypted
/// payload), for one claims type.
#[derive(Clone)]
struct Entry {
    token: Arc<dyn Any + Send + Sync>,
    weight: u64,
}

/// Every byte of the token is kept and compared. A keyed 128-bit digest in its place (POLYVAL)
/// would save the comparison's cold cache lines, but takes 0.5 µs to compute over a 713-byte v5
/// token, more than the comparison costs.
struct Key {
    tag: Tag,
    claims: TypeId,
    token: Box<[u8]>,
}

/// The borrowed form of [`Key`]: hashes identically, so a lookup needs no allocation.
struct Lookup<'a> {
    tag: Tag,
    claims: TypeId,
    token: &'a [u8],
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Lookup {
            tag: self.tag,
            claims: self.claims,
            token: &self.token,
        }
        .hash(state);
    }
}

/// How many of a token's last bytes the table hashes.
const TAIL: usize = 32;

impl Hash for Lookup<'_> {
    /// Hashes the token's length and its last 32 bytes (a JWE ends with its authentication tag,
    /// 128 or 256 random-looking bits in 22 or 43 base64url characters), not all of its hundreds:
    /// equality still compares every byte. Only verified tokens are ever stored, so a client
    /// cannot choose keys that collide in the table; a colliding lookup costs one comparison.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tag.hash(state);
        self.claims.hash(state);
        let bytes = self.token;
        state.write_usize(bytes.len());
        state.write(&bytes[bytes.len().saturating_sub(TAIL)..]);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.claims == other.claims && self.token == other.token
    }
}

impl Eq for Key {}

impl Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.tag == key.tag && self.claims == key.claims && *self.token == *key.token
    }
}

/// The table's hasher: a multiply-fold of the key's words, seeded per cache, in place of SipHash.
/// What it hashes is a JWE's random tail (tag, IV, ciphertext) for every stored key, and a client
/// cannot choose stored keys, since only verified tokens are stored, so a keyed PRF would buy
/// nothing; SipHash over 64 bytes was 6% of the layer's time on a cached request (perf under
/// `scripts/load.sh`).
#[derive(Clone)]
struct TailHash {
    seed: u64,
}

impl TailHash {
    fn new() -> Self {
        // A per-process random seed without another dependency: std's keyed hasher of nothing.
        Self {
            seed: std::collections::hash_map::RandomState::new().hash_one(0u8) | 1,
        }
    }
}

impl BuildHasher for TailHash {
    type Hasher = Fold;

    fn build_hasher(&self) -> Fold {
        Fold(self.seed)
    }
}

struct Fold(u64);

impl Fold {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::K).rotate_left(29);
    }
}

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        let rest = words.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
    }

    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        // murmur3's finaliser: every input bit reaches the high bits (shard) and the low ones.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[derive(Clone)]
struct ByWeight;

impl Weighter<Key, Entry> for ByWeight {
    fn weight(&self, _key: &Key, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// The cache; see the module docs.
pub(crate) struct Verified {
    cache: Cache<Key, Entry, ByWeight, TailHash>,
    hasher: TailHash,
    door: Doorkeeper,
    /// The least weight of an entry: `bytes / entries`.
    floor: u64,
}

impl Verified {
    /// A cache of at most `entries` sessions and about `bytes` bytes; `None` when either is 0.
    pub(crate) fn new(entries: usize, bytes: usize) -> Option<Self> {
        if entries == 0 || bytes == 0 {
            return None;
        }
        let floor = (bytes as u64 / entries as u64).max(1);
        // Every entry weighs at least its token and 256 bytes, so no more than this many fit.
        let most = entries.min(bytes / 256).max(1);
        let hasher = TailHash::new();
        Some(Self {
            cache: Cache::with(
                entries,
                bytes as u64,
                ByWeight,
                hasher.clone(),
                Default::default(),
            ),
            hasher,
            door: Doorkeeper::new(most),
            floor,
        })
    }

    /// The session cached for `token` read at `tag` as `C`, if any.
    pub(crate) fn get<C: Send + Sync + 'static>(&self, tag: Tag, token: &[u8]) -> Option<Token<C>> {
        let entry = self.cache.get(&Lookup {
            tag,
            claims: TypeId::of::<C>(),
            token,
        })?;
        Token::from_any(entry.token)
    }

    /// Keeps a verified session, the second time it is offered within the doorkeeper's window
    /// (see [`Doorkeeper`]).
    pub(crate) fn insert<C: Send + Sync + 'static>(&self, tag: Tag, token: &[u8], hit: &Token<C>) {
        let claims = TypeId::of::<C>();
        let hash = self.hasher.hash_one(Lookup { tag, claims, token });
        if !self.door.admit(hash) {
            return;
        }
        // The token, the payload, and the decoded claims (roughly as large again as their
        // JSON), plus the entry's own bookkeeping.
        let size = token.len() as u64 + 2 * hit.payload().len() as u64 + 256;
        let key = Key {
            tag,
            claims,
            token: token.into(),
        };
        let entry = Entry {
            token: hit.to_any(),
            weight: size.max(self.floor),
        };
        self.cache.insert(key, entry);
    }

    /// How many sessions are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cache.len()
    }
}

/// Admission on the second sighting: a verified token is stored only when it was offered once
/// before, recently. A browser sends its session cookie on every request, so a session is cached
/// from its second request on; a token seen once (a stream of distinct sessions, a crawler's
/// one-off cookies) costs its decryption and nothing more: no copy, no insertion and no eviction
/// (together 5% of the server's CPU in perf over `scripts/load.sh 12 64 unseen`, and about 9% of
/// its throughput), and no real session is pushed out by it.
///
/// A table of 64-bit hash fingerprints in sets of 8 (one cache line each), at least 4 times as
/// many as the cache holds entries. A full set overwrites its ways in turn, so a token is
/// remembered until about 8 others have landed in its set, and an active set as large as the
/// cache itself is admitted. Only tokens that verified are ever offered, and a stale or colliding
/// fingerprint only decides whether a verified token is stored: it never answers a lookup.
struct Doorkeeper {
    sets: Box<[[AtomicU64; 8]]>,
    /// The next way to overwrite, shared by all sets: round-robin is as good as the oldest here.
    next: AtomicUsize,
}

impl Doorkeeper {
    fn new(entries: usize) -> Self {
        // 4 × entries fingerprints (32 bytes an entry, which weighs a kilobyte or more), in sets
        // of 8: a set overflows with about 0.03% odds when the active set fills the cache.
        let sets = (entries / 2).max(1).next_power_of_two();
        Self {
            sets: (0..sets).map(|_| Default::default()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Whether the token hashed to `hash` was offered recently; remembers it when not.
    fn admit(&self, hash: u64) -> bool {
        let fingerprint = hash | 1; // never 0, the empty slot
        let set = &self.sets[(hash >> 32) as usize & (self.sets.len() - 1)];
        let mut empty = None;
        for (i, way) in set.iter().enumerate() {
            match way.load(Ordering::Relaxed) {
                seen if seen == fingerprint => return true,
                0 if empty.is_none() => empty = Some(i),
                _ => {}
            }
        }
        // An empty way, else one in turn (concurrent offers may race for a way: one of them is
        // remembered, and the other is stored on a later request).
        let way = empty.unwrap_or_else(|| self.next.fetch_add(1, Ordering::Relaxed) & 7);
        set[way].store(fingerprint, Ordering::Relaxed);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Times, TokenSource};

    fn hit(payload: usize) -> Token<u8> {
        Token::decoded(
            0,
            Times::default(),
            None,
            TokenSource::Cookie,
            vec![b'x'; payload],
        )
    }

    #[test]
    fn bounded_by_entries_and_by_bytes() {
        let by_count = Verified::new(10, 1 << 30).unwrap();
        let by_bytes = Verified::new(1 << 20, 1 << 20).unwrap();
        for i in 0..5000 {
            // Twice each: the doorkeeper stores a token the second time it is offered.
            for _ in 0..2 {
                by_count.insert(0, format!("token-{i}").as_bytes(), &hit(300));
                by_bytes.insert(0, format!("token-{i}").as_bytes(), &hit(4000));
            }
        }
        assert!(by_count.len() <= 10, "{}", by_count.len());
        // Each entry weighs over 8,000 bytes here; 1 MiB holds at most 131 of them.
        assert!(by_bytes.len() <= 131, "{}", by_bytes.len());
        assert!(by_bytes.len() >= 32, "{}", by_bytes.len());
    }

    #[test]
    fn lookups_tell_tags_and_claims_types_apart() {
        let cache = Verified::new(16, 1 << 20).unwrap();
        cache.insert(0, b"t", &hit(10));
        assert!(
            cache.get::<u8>(0, b"t").is_none(),
            "stored on the second offer"
        );
        cache.insert(0, b"t", &hit(10));
        assert!(cache.get::<u8>(0, b"t").is_some());
        assert!(cache.get::<u8>(1, b"t").is_none());
        assert!(cache.get::<u16>(0, b"t").is_none());
        assert!(cache.get::<u8>(0, b"t2").is_none());
    }

    #[test]
    fn tokens_offered_once_are_never_stored() {
        let cache = Verified::new(1000, 8 << 20).unwrap();
        for i in 0..100_000 {
            cache.insert(0, format!("once-{i}").as_bytes(), &hit(300));
        }
        // Fingerprints of 64 bits: a false admission is a collision, about 2^-40 here.
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_active_set_as_large_as_the_cache_is_admitted() {
        for seed in [1, 0x5eed, 0x9e37_79b9] {
            admits_an_active_set_as_large_as_the_cache(TailHash { seed });
        }
    }

    fn admits_an_active_set_as_large_as_the_cache(hasher: TailHash) {
        let door = Doorkeeper::new(1000);
        let hashes: Vec<u64> = (0..1000)
            .map(|i| hasher.hash_one(format!("session-{i}")))
            .collect();
        assert!(hashes.iter().all(|&h| !door.admit(h)), "first offers");
        let admitted = hashes.iter().filter(|&&h| door.admit(h)).count();
        // 1,000 fingerprints in 512 sets of 8: only a set that overflows loses any.
        assert!(admitted >= 995, "{admitted} of 1000 admitted");
    }

    #[test]
    fn a_session_is_stored_on_its_second_request() {
        let cache = Verified::new(4096, 8 << 20).unwrap();
        let tokens: Vec<String> = (0..1000).map(|i| format!("session-{i}")).collect();
        for round in 0..2 {
            for token in &tokens {
                assert!(
                    cache.get::<u8>(0, token.as_bytes()).is_none(),
                    "round {round}"
                );
                cache.insert(0, token.as_bytes(), &hit(300));
            }
        }
        let held = tokens
            .iter()
            .filter(|t| cache.get::<u8>(0, t.as_bytes()).is_some())
            .count();
        assert!(held >= 980, "{held} of 1000 held");
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(Verified::new(0, 1 << 20).is_none());
        assert!(Verified::new(16, 0).is_none());
    }
}
