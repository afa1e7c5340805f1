//! The cache of verified sessions: a browser sends the same session cookie on every request
//! until it is refreshed, so the layer decrypts each token once and keeps its verified claims.
//!
//! - The key is the exact token bytes (the reassembled cookie value, or the Bearer token),
//!   together with where it was read (which cookie name, or Bearer) and the claims type. A v5
//!   token's key depends on its cookie name, so a token verified under one name is never taken
//!   for a session under another.
//! - The value is the token handed to handlers (its claims behind an `Arc`) with its raw time
//!   claims and the decrypted payload (for a refresh). A hit checks `exp`/`nbf` against the
//!   layer's clock again, exactly as a decode would; `authorized`, the matcher and refresh run as
//!   for any request.
//! - Only verified sessions are kept. A token that fails (forged, garbage, wrong secret,
//!   expired) is not cached at all, so no input can make the cache answer differently from a
//!   decode, and junk cannot push real sessions out.
//! - It belongs to one [`Sessions`](crate::Sessions), which holds the keys: a layer built with
//!   other secrets has a cache of its own, empty.
//! - Bounded by entries and by bytes (weights are at least `bytes / entries`, so the byte bound
//!   also bounds the count), with eviction under pressure.
//!
//! The crate is `quick_cache` (without default features). At 2 threads, with ~700-byte tokens
//! (benches/benches/cache_choice.rs): a hit took 160 ns with quick_cache against 465 ns with
//! moka and 1.9 µs with mini-moka; a miss with its insert 0.57 µs against 9.9 µs and 5.9 µs.
//! quick_cache never allocates on a hit (its `Equivalent` lookups take the token as a borrowed
//! `&str`; mini-moka cannot), allocates once per insert (moka 8 times), bounds by weight, adds 3
//! crates to the default tree (moka 14) and builds with Rust 1.71 (moka's tree needs 1.89).

use std::any::{Any, TypeId};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::token::Token;

/// Where a token was read: a cookie source's index, or the Bearer / bare-token path.
pub(crate) type Tag = u16;
/// The tag of tokens decoded against every source in turn (Bearer and `Sessions::decode`).
pub(crate) const ANY_SOURCE: Tag = Tag::MAX;

/// A verified session as the cache holds it, for one claims type (its time claims are in the
/// token).
pub(crate) struct Hit<C> {
    pub(crate) token: Token<C>,
    pub(crate) payload: Arc<[u8]>,
}

#[derive(Clone)]
struct Entry {
    hit: Arc<dyn Any + Send + Sync>,
    weight: u64,
}

struct Key {
    tag: Tag,
    claims: TypeId,
    token: Box<str>,
}

/// The borrowed form of [`Key`]: hashes identically, so a lookup needs no allocation.
struct Lookup<'a> {
    tag: Tag,
    claims: TypeId,
    token: &'a str,
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

impl Hash for Lookup<'_> {
    /// Hashes the token's length and its last 64 bytes (a JWE ends with its random IV,
    /// ciphertext and tag), not all of its hundreds: equality still compares every byte. Only
    /// verified tokens are ever stored, so a client cannot choose keys that collide in the table;
    /// a colliding lookup costs one comparison.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tag.hash(state);
        self.claims.hash(state);
        let bytes = self.token.as_bytes();
        state.write_usize(bytes.len());
        state.write(&bytes[bytes.len().saturating_sub(64)..]);
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

#[derive(Clone)]
struct ByWeight;

impl Weighter<Key, Entry> for ByWeight {
    fn weight(&self, _key: &Key, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// The cache; see the module docs.
pub(crate) struct Verified {
    cache: Cache<Key, Entry, ByWeight>,
    /// The least weight of an entry: `bytes / entries`.
    floor: u64,
}

impl Verified {
    /// A cache of at most `entries` sessions and about `bytes` bytes; `None` when either is 0.
    pub(crate) fn new(entries: usize, bytes: usize) -> Option<Self> {
        if entries == 0 || bytes == 0 {
            return None;
        }
        let bytes = bytes as u64;
        let floor = (bytes / entries as u64).max(1);
        Some(Self {
            cache: Cache::with_weighter(entries, bytes, ByWeight),
            floor,
        })
    }

    /// The session cached for `token` read at `tag` as `C`, if any.
    pub(crate) fn get<C: Send + Sync + 'static>(
        &self,
        tag: Tag,
        token: &str,
    ) -> Option<Arc<Hit<C>>> {
        let entry = self.cache.get(&Lookup {
            tag,
            claims: TypeId::of::<C>(),
            token,
        })?;
        entry.hit.downcast::<Hit<C>>().ok()
    }

    /// Keeps a verified session.
    pub(crate) fn insert<C: Send + Sync + 'static>(&self, tag: Tag, token: &str, hit: Hit<C>) {
        // The token, the payload, and the decoded claims (roughly as large again as their
        // JSON), plus the entry's own bookkeeping.
        let size = token.len() as u64 + 2 * hit.payload.len() as u64 + 256;
        let key = Key {
            tag,
            claims: TypeId::of::<C>(),
            token: token.into(),
        };
        let entry = Entry {
            hit: Arc::new(hit),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Times, TokenSource};

    fn hit(payload: usize) -> Hit<u8> {
        Hit {
            token: Token::new(Arc::new(0), Times::default(), None, TokenSource::Cookie),
            payload: vec![b'x'; payload].into(),
        }
    }

    #[test]
    fn bounded_by_entries_and_by_bytes() {
        let by_count = Verified::new(10, 1 << 30).unwrap();
        let by_bytes = Verified::new(1 << 20, 1 << 20).unwrap();
        for i in 0..5000 {
            by_count.insert(0, &format!("token-{i}"), hit(300));
            by_bytes.insert(0, &format!("token-{i}"), hit(4000));
        }
        assert!(by_count.len() <= 10, "{}", by_count.len());
        // Each entry weighs over 8,000 bytes here; 1 MiB holds at most 131 of them.
        assert!(by_bytes.len() <= 131, "{}", by_bytes.len());
        assert!(by_bytes.len() >= 32, "{}", by_bytes.len());
    }

    #[test]
    fn lookups_tell_tags_and_claims_types_apart() {
        let cache = Verified::new(16, 1 << 20).unwrap();
        cache.insert(0, "t", hit(10));
        assert!(cache.get::<u8>(0, "t").is_some());
        assert!(cache.get::<u8>(1, "t").is_none());
        assert!(cache.get::<u16>(0, "t").is_none());
        assert!(cache.get::<u8>(0, "t2").is_none());
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(Verified::new(0, 1 << 20).is_none());
        assert!(Verified::new(16, 0).is_none());
    }
}
