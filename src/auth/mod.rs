//! Authentication and authorization at the HTTP edge: the request guards (`guards`), CSRF for browser
//! writes (`csrf`), request rate limits (`ratelimit`), and the credential cache (`cache`) that the
//! guards read and the services' revocations clear.

pub mod cache;
pub mod client;
pub mod csrf;
pub mod guards;
pub mod ratelimit;

pub use guards::{
    AccountAccess, AnalyticsRead, ApiKeysRead, ApiKeysWrite, Need, PaymentsRead, PaymentsWrite, QueryWebsiteAccess,
    SettingsRead, SettingsWrite, TeamManage, TeamRead, WebsiteAccess, WebsitesDelete, WebsitesRead, WebsitesWrite,
};
