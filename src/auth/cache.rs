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
    callers: Cache<[u8; 32], Arc<Caller>>,
    roles: Cache<(ObjectId, ObjectId), Role>,
    caller_generation: AtomicU64,
    role_generation: AtomicU64,
}

/// Taken before a database lookup; the result is cached only if nothing was revoked meanwhile.
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
        self.callers.get(hash)
    }

    pub fn caller_generation(&self) -> Generation {
        Generation(self.caller_generation.load(Ordering::Acquire))
    }

    pub fn remember_caller(&self, hash: [u8; 32], caller: Arc<Caller>, seen: Generation) {
        self.callers.insert(hash, caller);
        if self.caller_generation.load(Ordering::Acquire) != seen.0 {
            self.callers.invalidate(&hash);
        }
    }

    pub fn role(&self, website: &ObjectId, user: &ObjectId) -> Option<Role> {
        self.roles.get(&(website.clone(), user.clone()))
    }

    pub fn role_generation(&self) -> Generation {
        Generation(self.role_generation.load(Ordering::Acquire))
    }

    pub fn remember_role(&self, website: ObjectId, user: ObjectId, role: Role, seen: Generation) {
        let key = (website, user);
        self.roles.insert(key.clone(), role);
        if self.role_generation.load(Ordering::Acquire) != seen.0 {
            self.roles.invalidate(&key);
        }
    }

    /// A token or key was deleted or rolled: no cached credential survives.
    pub fn forget_credentials(&self) {
        self.caller_generation.fetch_add(1, Ordering::AcqRel);
        self.callers.invalidate_all();
    }

    /// A membership was removed or changed.
    pub fn forget_roles(&self) {
        self.role_generation.fetch_add(1, Ordering::AcqRel);
        self.roles.invalidate_all();
    }
}
