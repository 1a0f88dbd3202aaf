//! Domain types and rules: ids, permissions, roles, secrets, the objects of the contract, money and
//! revenue, tracking events and what they say about visitors. Parsing and rules only, no I/O.

pub mod access;
pub mod account;
pub mod actor;
pub mod analytics;
pub mod cookieless;
pub mod credentials;
pub mod dispute;
pub mod environment;
pub mod event;
pub mod ids;
pub mod integrations;
pub mod money;
pub mod mrr;
pub mod payment;
pub mod reconciliation;
pub mod revenue;
pub mod secret_token;
pub mod site_hosts;
pub mod stripe_key;
pub mod team;
pub mod timestamp;
pub mod tracking;
pub mod traffic_source;
pub mod user_agent;
pub mod visit;
pub mod webhook_secret;
pub mod website;

pub use access::{Permission, PermissionSet, Role};
pub use actor::Actor;
pub use ids::{ObjectId, WebsiteId};
