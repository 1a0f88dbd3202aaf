//! Authentication and authorization at the HTTP edge: the request guards (`guards`), CSRF for browser
//! writes (`csrf`), request rate limits (`ratelimit`), who sent a tracking event (`events`), the credential
//! cache (`cache`) that the guards read and the services' revocations clear, who may scrape `/metrics`
//! (`scraper`), and who delivers a Stripe webhook (`webhooks`).

pub mod cache;
pub mod client;
pub mod csrf;
pub mod events;
pub mod guards;
pub mod query;
pub mod ratelimit;
pub mod scraper;
pub mod webhooks;

pub use guards::{
    AccountAccess, AnalyticsRead, ApiKeysRead, ApiKeysWrite, GoalsWrite, IdentifyWrite, Need, PaymentsRead,
    PaymentsWrite, QueryWebsiteAccess, SettingsRead, SettingsWrite, TeamManage, TeamRead, WebsiteAccess,
    WebsitesDelete, WebsitesRead, WebsitesWrite,
};
pub use query::QueryPairs;
