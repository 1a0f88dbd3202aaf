//! A short-lived in-memory cache of authenticated credentials and website roles, so that an
//! authenticated request costs no database round trip for its guards.
//!
//! Every service that revokes access in this process (deleting or rolling a token or key, removing a
//! member, deleting a website) calls `forget_*`, which takes effect for the very next request. A generation counter
//! keeps a lookup that raced with a revocation from re-inserting what was just revoked. Changes made
//! by another process (the admin commands only add) are seen once an entry expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;

use crate::domain::credentials::Caller;
use crate::domain::{ObjectId, Role};

const TTL: Duration = Duration::from_secs(30);
const CAPACITY: u64 = 100_000;

pub struct AuthCache {
    callers: Cache<[u8; 32], (u64, Arc<Caller>)>,
    roles: Cache<(ObjectId, ObjectId), (u64, Role)>,
    caller_generation: AtomicU64,
    role_generation: AtomicU64,
}

/// Taken before a database lookup. Every entry carries the generation it was looked up in, and only
/// an entry of the current generation is a hit: a revocation (which starts a new generation) takes
/// effect at once, whatever the timing of the cache's own eviction, and a lookup that raced with it
/// is never served.
#[derive(Clone, Copy)]
pub struct Generation(u64);

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            callers: Cache::builder().time_to_live(TTL).max_capacity(CAPACITY).build(),
            roles: Cache::builder().time_to_live(TTL).max_capacity(CAPACITY).build(),
            caller_generation: AtomicU64::new(0),
            role_generation: AtomicU64::new(0),
        }
    }
}

impl AuthCache {
    pub fn caller(&self, hash: &[u8; 32]) -> Option<Arc<Caller>> {
        let (generation, caller) = self.callers.get(hash)?;
        (generation == self.caller_generation.load(Ordering::Acquire)).then_some(caller)
    }

    pub fn caller_generation(&self) -> Generation {
        Generation(self.caller_generation.load(Ordering::Acquire))
    }

    pub fn remember_caller(&self, hash: [u8; 32], caller: Arc<Caller>, seen: Generation) {
        self.callers.insert(hash, (seen.0, caller));
    }

    pub fn role(&self, website: &ObjectId, user: &ObjectId) -> Option<Role> {
        let (generation, role) = self.roles.get(&(website.clone(), user.clone()))?;
        (generation == self.role_generation.load(Ordering::Acquire)).then_some(role)
    }

    pub fn role_generation(&self) -> Generation {
        Generation(self.role_generation.load(Ordering::Acquire))
    }

    pub fn remember_role(&self, website: ObjectId, user: ObjectId, role: Role, seen: Generation) {
        self.roles.insert((website, user), (seen.0, role));
    }

    /// A token or key was deleted or rolled: no cached credential is served again.
    pub fn forget_credentials(&self) {
        self.caller_generation.fetch_add(1, Ordering::AcqRel);
        // Frees the memory; correctness comes from the generation above.
        self.callers.invalidate_all();
    }

    /// A membership was removed or changed.
    pub fn forget_roles(&self) {
        self.role_generation.fetch_add(1, Ordering::AcqRel);
        self.roles.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credentials::KeyRecord;

    fn key() -> Arc<Caller> {
        let id = ObjectId::generate();
        Arc::new(Caller::WebsiteKey(KeyRecord { id: id.clone(), website_id: id, last_used_at: None }))
    }

    #[test]
    fn a_revocation_is_seen_at_once_even_for_an_entry_made_in_the_same_instant() {
        let cache = AuthCache::default();
        for _ in 0..1000 {
            let seen = cache.caller_generation();
            cache.remember_caller([7; 32], key(), seen);
            assert!(cache.caller(&[7; 32]).is_some());
            cache.forget_credentials();
            assert!(cache.caller(&[7; 32]).is_none(), "served after a revocation");
        }
    }

    #[test]
    fn a_lookup_that_raced_with_a_revocation_is_not_served() {
        let cache = AuthCache::default();
        let (site, user) = (ObjectId::generate(), ObjectId::generate());
        let seen = cache.role_generation();
        cache.forget_roles(); // the membership is removed while the lookup runs
        cache.remember_role(site.clone(), user.clone(), Role::Member, seen);
        assert_eq!(cache.role(&site, &user), None);
        let fresh = cache.role_generation();
        cache.remember_role(site.clone(), user.clone(), Role::Member, fresh);
        assert_eq!(cache.role(&site, &user), Some(Role::Member));
    }
}
