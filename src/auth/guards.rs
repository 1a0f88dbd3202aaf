//! Request guards only: who is calling (`&Caller`), whether a website-scoped route may run
//! (`WebsiteAccess<Need>`), and whether an account-level route may run (`AccountAccess<Need>`).
//! The rule is the contract's §2; each guard's only constructor is `FromRequest`.

use std::marker::PhantomData;
use std::sync::Arc;

use rocket::Request;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome};

use crate::auth::client::ClientAddress;
use crate::auth::csrf;
use crate::auth::ratelimit::{self, RateLimits};
use crate::domain::credentials::Caller;
use crate::domain::ids::{WEBSITE_ID_PARAM, WebsiteId, parse_path_id};
use crate::domain::{Actor, ObjectId, Permission, PermissionSet, Role};
use crate::error::{Error, guard_failure};
use crate::service::{self, App};

pub const MISSING_TOKEN: &str = crate::error::MISSING_CREDENTIAL;
pub const INVALID_TOKEN: &str = "Invalid token";
pub const DF_KEY_ON_ACCOUNT_ROUTE: &str = "Called with a df_ website key; this route needs a dft_ account token";
pub const KEY_OF_ANOTHER_WEBSITE: &str = "This API key belongs to another website";

pub const SESSION_COOKIE: &str = "revlink_session";

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let value = req.headers().get_one("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// What a credential's requests are counted under.
fn rate_key(caller: &Caller) -> &str {
    match caller {
        Caller::Token(t) => t.id.as_str(),
        Caller::WebsiteKey(k) => k.id.as_str(),
        Caller::Session(s) => s.csrf_token.as_str(),
    }
}

/// Managed state; `build` always manages it, so its absence is a bug reported as a 500.
fn managed<'r, T: Send + Sync + 'static>(req: &'r Request<'_>) -> Result<&'r T, Error> {
    req.rocket().state::<T>().ok_or_else(|| Error::internal(format!("{} is not managed", std::any::type_name::<T>())))
}

/// A 429 with the window's headers.
fn over_limit<T>(req: &Request<'_>, exceeded: ratelimit::Exceeded) -> Outcome<T, Error> {
    ratelimit::record(req, exceeded.window);
    guard_failure(req, Error::RateLimited { retry_after: exceeded.retry_after })
}

/// A 401 for a credential that was presented but is unknown, or a 429 once the client address has
/// presented too many. (Sending no credential at all is not counted: it guesses nothing.)
fn unauthenticated<T>(req: &Request<'_>, limits: &RateLimits, message: &'static str) -> Outcome<T, Error> {
    match limits.check_auth_failure(ClientAddress::of(req)) {
        Ok(_) => guard_failure(req, Error::Unauthorized(message)),
        Err(exceeded) => over_limit(req, exceeded),
    }
}

async fn authenticate(req: &Request<'_>) -> Outcome<Arc<Caller>, Error> {
    let (app, limits) = match managed::<App>(req).and_then(|app| Ok((app, managed::<Arc<RateLimits>>(req)?.as_ref()))) {
        Ok(both) => both,
        Err(e) => return guard_failure(req, e),
    };
    let caller = match bearer(req) {
        Some(raw) => match service::access::authenticate(app, raw).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return unauthenticated(req, limits, INVALID_TOKEN),
            Err(e) => return guard_failure(req, e),
        },
        None => {
            let cookie = req.cookies().get_private(SESSION_COOKIE).map(|c| c.value().to_owned());
            let found = match cookie {
                Some(value) => service::access::session(app, value).await,
                None => Ok(None),
            };
            match found {
                Ok(Some(record)) => {
                    if let Err(e) = csrf::check(req, &record.csrf_token, &app.base_url) {
                        return guard_failure(req, e);
                    }
                    Arc::new(Caller::Session(record))
                }
                Ok(None) => return guard_failure(req, Error::Unauthorized(MISSING_TOKEN)),
                Err(e) => return guard_failure(req, e),
            }
        }
    };
    match limits.check_credential(rate_key(&caller)) {
        Ok(window) => {
            ratelimit::record(req, window);
            Outcome::Success(caller)
        }
        Err(exceeded) => over_limit(req, exceeded),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Caller {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        // Cached, so that layered guards authenticate (and count) a request once.
        let cached = req
            .local_cache_async(async {
                match authenticate(req).await {
                    Outcome::Success(caller) => Ok(caller),
                    Outcome::Error((status, _)) | Outcome::Forward(status) => Err(status),
                }
            })
            .await;
        match cached {
            Ok(caller) => Outcome::Success(caller),
            // The failing first attempt already left its error for the catcher; this is Rocket's log copy.
            Err(status) => Outcome::Error((*status, Error::Unauthorized(INVALID_TOKEN))),
        }
    }
}

/// What a route needs: a permission, and whether only the owner may do it.
pub trait Need: Send + Sync + 'static {
    const PERMISSION: Permission;
    const OWNER_ONLY: bool = false;
}

macro_rules! needs {
    ($($name:ident => $perm:ident $(, owner_only = $owner:expr)?;)*) => {$(
        pub struct $name;
        impl Need for $name {
            const PERMISSION: Permission = Permission::$perm;
            $(const OWNER_ONLY: bool = $owner;)?
        }
    )*};
}

needs! {
    AnalyticsRead => ANALYTICS_READ;
    GoalsWrite => GOALS_WRITE;
    IdentifyWrite => IDENTIFY_WRITE;
    PaymentsRead => PAYMENTS_READ;
    PaymentsWrite => PAYMENTS_WRITE;
    WebsitesRead => WEBSITES_READ;
    WebsitesWrite => WEBSITES_WRITE;
    WebsitesDelete => WEBSITES_WRITE, owner_only = true;
    SettingsRead => SETTINGS_READ;
    SettingsWrite => SETTINGS_WRITE;
    ApiKeysRead => API_KEYS_READ;
    ApiKeysWrite => API_KEYS_WRITE;
    TeamRead => TEAM_READ;
    TeamManage => TEAM_WRITE, owner_only = true;
}

/// Proof that the caller may do `N` on the website named by the route's `<website_id>` segment.
/// The handler takes that segment as its `WebsiteId`: both read the same value.
pub struct WebsiteAccess<N: Need> {
    /// The caller's effective role (`member` for a website key).
    pub role: Role,
    /// The user behind the credential; `None` for a website key.
    pub user_id: Option<ObjectId>,
    pub actor: Actor,
    need: PhantomData<N>,
}

impl<N: Need> WebsiteAccess<N> {
    /// The user behind an owner-only access (website keys never get one: the guard refuses them).
    pub fn owner(&self) -> Result<&ObjectId, Error> {
        self.user_id.as_ref().ok_or_else(|| Error::Forbidden("Only the website's owner can do this".into()))
    }
}

fn role_refusal(role: Role, owner_only: bool) -> Error {
    if owner_only {
        Error::Forbidden(format!("Only the website's owner can do this (your role: {role})"))
    } else {
        Error::Forbidden(format!("Your role on this website ({role}) can only read"))
    }
}

fn lacks(permission: Permission) -> Error {
    Error::Forbidden(format!("This token lacks the {permission} permission"))
}

/// The rule of contract §2 for `caller` doing `N` on `website_id`.
async fn authorize<N: Need>(
    req: &Request<'_>,
    caller: &Caller,
    website_id: &ObjectId,
) -> Result<WebsiteAccess<N>, Error> {
    let access = |role, user_id| WebsiteAccess { role, user_id, actor: caller.actor(), need: PhantomData };
    match caller {
        Caller::WebsiteKey(key) => {
            if key.website_id != *website_id {
                return Err(Error::Forbidden(KEY_OF_ANOTHER_WEBSITE.into()));
            }
            if !Role::Member.allows(N::PERMISSION, N::OWNER_ONLY) {
                return Err(Error::Forbidden(
                    "Website API keys act at member level; this needs the owner's dft_ account token".into(),
                ));
            }
            Ok(access(Role::Member, None))
        }
        Caller::Token(_) | Caller::Session(_) => {
            let (user, permissions, allowlist) =
                caller.account().ok_or_else(|| Error::internal("an account caller without an account"))?;
            if !permissions.grants(N::PERMISSION) {
                return Err(lacks(N::PERMISSION));
            }
            if !allowlist.is_empty() && !allowlist.contains(website_id) {
                return Err(Error::Forbidden("This token is not allowed to access this website".into()));
            }
            let role = service::access::role_of(managed::<App>(req)?, website_id, user)
                .await?
                .ok_or_else(|| Error::NotFound("Website not found".into()))?;
            if !role.allows(N::PERMISSION, N::OWNER_ONLY) {
                return Err(role_refusal(role, N::OWNER_ONLY));
            }
            Ok(access(role, Some(user.clone())))
        }
    }
}

/// The request's segment in the place of the matched route's `<website_id>`.
fn website_segment<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let placeholder = format!("<{WEBSITE_ID_PARAM}>");
    let index = req.route()?.uri.path().split('/').filter(|s| !s.is_empty()).position(|s| s == placeholder)?;
    req.uri().path().segments().nth(index)
}

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for WebsiteAccess<N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let caller = try_outcome!(req.guard::<&Caller>().await);
        let checked = match website_segment(req).map(WebsiteId::parse) {
            Some(Ok(website_id)) => authorize(req, caller, &website_id).await,
            Some(Err(e)) => Err(e),
            None => Err(Error::internal(format!("{} has no <{WEBSITE_ID_PARAM}> segment", req.uri().path()))),
        };
        match checked {
            Ok(access) => Outcome::Success(access),
            Err(e) => guard_failure(req, e),
        }
    }
}

/// The same proof for the Website API (`/api/v1/payments`), where the website is the `df_` key's,
/// or for an account token the `websiteId` query parameter.
pub struct QueryWebsiteAccess<N: Need> {
    pub website_id: WebsiteId,
    pub access: WebsiteAccess<N>,
}

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for QueryWebsiteAccess<N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let caller = try_outcome!(req.guard::<&Caller>().await);
        let sent = req.query_fields().filter(|f| f.name == "websiteId").count();
        let website_id = match (req.query_value::<&str>("websiteId"), caller) {
            _ if sent > 1 => {
                Err(Error::BadRequest("Query parameter websiteId was sent more than once; send it once".into()))
            }
            (Some(raw), _) => parse_path_id(raw.unwrap_or_default(), "websiteId"),
            (None, Caller::WebsiteKey(key)) => Ok(key.website_id.clone()),
            (None, _) => Err(Error::BadRequest(
                "websiteId is required with an account token: add ?websiteId=<the website's id>".into(),
            )),
        };
        let checked = match website_id {
            Ok(website_id) => {
                authorize(req, caller, &website_id).await.map(|access| Self { website_id: website_id.into(), access })
            }
            Err(e) => Err(e),
        };
        match checked {
            Ok(access) => Outcome::Success(access),
            Err(e) => guard_failure(req, e),
        }
    }
}

/// Proof that an account-level caller (a token or a session) with permission `N` is calling an
/// account-level route.
pub struct AccountAccess<N: Need> {
    pub user_id: ObjectId,
    pub caller_permissions: PermissionSet,
    pub caller_websites: Vec<ObjectId>,
    pub actor: Actor,
    need: PhantomData<N>,
}

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for AccountAccess<N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let caller = try_outcome!(req.guard::<&Caller>().await);
        let Some((user, permissions, allowlist)) = caller.account() else {
            return guard_failure(req, Error::Forbidden(DF_KEY_ON_ACCOUNT_ROUTE.into()));
        };
        if !permissions.grants(N::PERMISSION) {
            return guard_failure(req, lacks(N::PERMISSION));
        }
        Outcome::Success(AccountAccess {
            user_id: user.clone(),
            caller_permissions: permissions.clone(),
            caller_websites: allowlist.to_vec(),
            actor: caller.actor(),
            need: PhantomData,
        })
    }
}
