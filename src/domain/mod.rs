//! Domain types and rules: ids, permissions, roles, secrets, website fields. Parsing only, no I/O.

pub mod access;
pub mod ids;
pub mod revenue;
pub mod secret_token;
pub mod stripe_key;
pub mod website;

pub use access::{Permission, PermissionSet, Role};
pub use ids::ObjectId;
