//! Request guards only: who is calling (`Caller`), whether a website-scoped route may run
//! (`WebsiteAccess<Need>`), and whether an account-level route may run (`AccountAccess<Need>`).
//! The rule is the contract's §2; each guard's only constructor is `FromRequest`.

use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rocket::Request;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome};

use crate::db::audit::Actor;
use crate::db::credentials::{self, KeyRecord, TokenRecord};
use crate::db::sessions::{self, SessionRecord};
use crate::db::websites;
use crate::domain::ids::parse_path_id;
use crate::domain::secret_token::{TokenKind, hash_secret};
use crate::domain::{ObjectId, Permission, PermissionSet, Role};
use crate::error::{Error, guard_failure};
use crate::ratelimit;
use crate::state::AppState;

pub const MISSING_TOKEN: &str = "Missing bearer token";
pub const INVALID_TOKEN: &str = "Invalid token";
pub const DF_KEY_ON_ACCOUNT_ROUTE: &str = "Called with a df_ website key; this route needs a dft_ account token";
pub const KEY_OF_ANOTHER_WEBSITE: &str = "This API key belongs to another website";

pub const SESSION_COOKIE: &str = "revlink_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";
pub const CSRF_REFUSED: &str = "Missing or wrong CSRF token; reload the page and try again";

/// The authenticated credential of a request.
pub enum Caller {
    Token(TokenRecord),
    WebsiteKey(KeyRecord),
    /// A logged-in browser: its user, with every permission, limited by role.
    Session(SessionRecord),
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match self {
            Self::Token(t) => Actor { kind: "token", id: Some(t.id.clone()), user_id: Some(t.user_id.clone()) },
            Self::WebsiteKey(k) => Actor { kind: "website_key", id: Some(k.id.clone()), user_id: None },
            Self::Session(s) => session_actor(s),
        }
    }

    /// The user, permissions and allowlist of an account-level caller (a token or a session).
    pub fn account(&self) -> Option<(&ObjectId, &PermissionSet, &[ObjectId])> {
        static ALL: std::sync::LazyLock<PermissionSet> = std::sync::LazyLock::new(PermissionSet::all);
        match self {
            Self::Token(t) => Some((&t.user_id, &t.permissions, &t.website_ids)),
            Self::Session(s) => Some((&s.user_id, &ALL, &[])),
            Self::WebsiteKey(_) => None,
        }
    }

    fn rate_key(&self) -> &str {
        match self {
            Self::Token(t) => t.id.as_str(),
            Self::WebsiteKey(k) => k.id.as_str(),
            Self::Session(s) => s.csrf_token.as_str(),
        }
    }
}

fn bearer<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    let value = req.headers().get_one("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Looks the presented secret up by its hash (in the cache, else in the database, recording its use).
async fn lookup(state: &AppState, raw: &str) -> Result<Option<Arc<Caller>>, Error> {
    let Some(kind) = TokenKind::of(raw) else {
        return Ok(None);
    };
    let hash = hash_secret(raw);
    if let Some(hit) = state.auth_cache.caller(&hash) {
        return Ok(Some(hit));
    }
    let generation = state.auth_cache.caller_generation();
    let found = state
        .db
        .run(move |conn| {
            Ok(match kind {
                TokenKind::Account => credentials::find_token(conn, &hash)?
                    .map(|t| credentials::touch_token(conn, &t).map(|()| Caller::Token(t)))
                    .transpose()?,
                TokenKind::WebsiteKey => credentials::find_key(conn, &hash)?
                    .map(|k| credentials::touch_key(conn, &k).map(|()| Caller::WebsiteKey(k)))
                    .transpose()?,
            })
        })
        .await?
        .map(Arc::new);
    if let Some(caller) = &found {
        state.auth_cache.remember_caller(hash, Arc::clone(caller), generation);
    }
    Ok(found)
}

/// A logged-in browser, as the audit log names it.
pub fn session_actor(session: &SessionRecord) -> Actor {
    Actor { kind: "session", id: None, user_id: Some(session.user_id.clone()) }
}

/// The browser session named by the private session cookie, if it is live.
pub async fn session(req: &Request<'_>, state: &AppState) -> Result<Option<SessionRecord>, Error> {
    let Some(cookie) = req.cookies().get_private(SESSION_COOKIE) else { return Ok(None) };
    let value = cookie.value().to_owned();
    state.db.run(move |conn| sessions::find(conn, &value)).await
}

/// The CSRF token a form post must carry, left by the guard for the form's data guard.
pub struct ExpectedCsrf(pub Option<String>);

/// A browser's write must echo its session's CSRF token: in the header (fetch), or for an HTML
/// form post in the `csrf_token` field, which the form's data guard checks against what is left here.
fn check_csrf(req: &Request<'_>, expected: &str) -> Result<(), Error> {
    use rocket::http::Method;
    if matches!(req.method(), Method::Get | Method::Head | Method::Options) {
        return Ok(());
    }
    if let Some(sent) = req.headers().get_one(CSRF_HEADER) {
        return if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(Error::Forbidden(CSRF_REFUSED.into()))
        };
    }
    // Only a POST can be an HTML form; its data guard (`CsrfForm`, or the connect route's) checks it.
    if req.method() == Method::Post && req.content_type().is_some_and(|ct| ct.is_form()) {
        req.local_cache(|| ExpectedCsrf(Some(expected.to_owned())));
        return Ok(());
    }
    Err(Error::Forbidden(CSRF_REFUSED.into()))
}

/// Compares without an early exit, so timing tells nothing about how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The managed state; `build` always manages it, so its absence is a bug reported as a 500.
fn app_state<'r>(req: &'r Request<'_>) -> Result<&'r AppState, Error> {
    req.rocket().state::<AppState>().ok_or_else(|| Error::internal("AppState is not managed"))
}

/// A 429 with the window's headers.
fn over_limit<T>(req: &Request<'_>, exceeded: ratelimit::Exceeded) -> Outcome<T, Error> {
    ratelimit::record(req, exceeded.window);
    guard_failure(req, Error::RateLimited { retry_after: exceeded.retry_after })
}

/// A 401 for a credential that was presented but is unknown, or a 429 once the client address has
/// presented too many. (Sending no credential at all is not counted: it guesses nothing.)
fn unauthenticated<T>(req: &Request<'_>, state: &AppState, message: &'static str) -> Outcome<T, Error> {
    let ip = req.client_ip().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match state.limits.check_auth_failure(ip) {
        Ok(_) => guard_failure(req, Error::Unauthorized(message)),
        Err(exceeded) => over_limit(req, exceeded),
    }
}

async fn authenticate(req: &Request<'_>) -> Outcome<Arc<Caller>, Error> {
    let state = match app_state(req) {
        Ok(state) => state,
        Err(e) => return guard_failure(req, e),
    };
    let caller = match bearer(req) {
        Some(raw) => match lookup(state, raw).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return unauthenticated(req, state, INVALID_TOKEN),
            Err(e) => return guard_failure(req, e),
        },
        None => match session(req, state).await {
            Ok(Some(record)) => {
                if let Err(e) = check_csrf(req, &record.csrf_token) {
                    return guard_failure(req, e);
                }
                Arc::new(Caller::Session(record))
            }
            Ok(None) => return guard_failure(req, Error::Unauthorized(MISSING_TOKEN)),
            Err(e) => return guard_failure(req, e),
        },
    };
    match state.limits.check_credential(caller.rate_key()) {
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
        let cached = req.local_cache_async(async { authenticate(req).await.succeeded() }).await;
        match cached.as_deref() {
            Some(caller) => Outcome::Success(caller),
            // The failing first attempt already left its error for the catcher.
            None => Outcome::Error((rocket::http::Status::Unauthorized, Error::Unauthorized(INVALID_TOKEN))),
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

/// The user's role on the website, from the cache or the database (non-members are not cached).
async fn role_of(state: &AppState, website: &ObjectId, user: &ObjectId) -> Result<Option<Role>, Error> {
    if let Some(role) = state.auth_cache.role(website, user) {
        return Ok(Some(role));
    }
    let generation = state.auth_cache.role_generation();
    let (site, person) = (website.clone(), user.clone());
    let role = state.db.run(move |conn| websites::role_of(conn, &site, &person)).await?;
    if let Some(role) = role {
        state.auth_cache.remember_role(website.clone(), user.clone(), role, generation);
    }
    Ok(role)
}

/// Proof that the caller may do `N` on the website in the path's first parameter.
pub struct WebsiteAccess<N: Need> {
    pub website_id: ObjectId,
    /// The caller's effective role (`member` for a website key).
    pub role: Role,
    /// The user behind the credential; `None` for a website key.
    pub user_id: Option<ObjectId>,
    pub actor: Actor,
    need: PhantomData<N>,
}

fn role_refusal(role: Role, owner_only: bool) -> Error {
    if owner_only {
        Error::Forbidden(format!("Only the website's owner can do this (your role: {role})"))
    } else {
        Error::Forbidden(format!("Your role on this website ({role}) can only read"))
    }
}

/// The rule of contract §2 for `caller` doing `N` on `website_id`.
async fn authorize<N: Need>(
    req: &Request<'_>,
    caller: &Caller,
    website_id: ObjectId,
) -> Result<WebsiteAccess<N>, Error> {
    let access = |website_id, role, user_id| WebsiteAccess {
        website_id,
        role,
        user_id,
        actor: caller.actor(),
        need: PhantomData,
    };
    match caller {
        Caller::WebsiteKey(key) => {
            if key.website_id != website_id {
                return Err(Error::Forbidden(KEY_OF_ANOTHER_WEBSITE.into()));
            }
            if !Role::Member.allows(N::PERMISSION, N::OWNER_ONLY) {
                return Err(Error::Forbidden(
                    "Website API keys act at member level; this needs the owner's dft_ account token".into(),
                ));
            }
            Ok(access(website_id, Role::Member, None))
        }
        Caller::Token(_) | Caller::Session(_) => {
            let (user, permissions, allowlist) =
                caller.account().ok_or_else(|| Error::internal("an account caller without an account"))?;
            if !permissions.grants(N::PERMISSION) {
                return Err(Error::Forbidden(format!("This token lacks the {} permission", N::PERMISSION)));
            }
            if !allowlist.is_empty() && !allowlist.contains(&website_id) {
                return Err(Error::Forbidden("This token is not allowed to access this website".into()));
            }
            let role = role_of(app_state(req)?, &website_id, user)
                .await?
                .ok_or_else(|| Error::NotFound("Website not found".into()))?;
            if !role.allows(N::PERMISSION, N::OWNER_ONLY) {
                return Err(role_refusal(role, N::OWNER_ONLY));
            }
            Ok(access(website_id, role, Some(user.clone())))
        }
    }
}

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for WebsiteAccess<N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let caller = try_outcome!(req.guard::<&Caller>().await);
        // Website-scoped routes are `/websites/<website_id>/...` under the mount point: segment 1.
        let raw_id = req.param::<&str>(1).and_then(Result::ok).unwrap_or_default();
        let checked = match parse_path_id(raw_id, "websiteId") {
            Ok(website_id) => authorize(req, caller, website_id).await,
            Err(e) => Err(e),
        };
        match checked {
            Ok(access) => Outcome::Success(access),
            Err(e) => guard_failure(req, e),
        }
    }
}

/// The same proof for the Website API (`/api/v1/payments`), where the website is the `df_` key's,
/// or for an account token the `websiteId` query parameter.
pub struct QueryWebsiteAccess<N: Need>(pub WebsiteAccess<N>);

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for QueryWebsiteAccess<N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let caller = try_outcome!(req.guard::<&Caller>().await);
        let website_id = match (req.query_value::<&str>("websiteId"), caller) {
            (Some(raw), _) => parse_path_id(raw.unwrap_or_default(), "websiteId"),
            (None, Caller::WebsiteKey(key)) => Ok(key.website_id.clone()),
            (None, _) => Err(Error::BadRequest(
                "websiteId is required with an account token: add ?websiteId=<the website's id>".into(),
            )),
        };
        let checked = match website_id {
            Ok(website_id) => authorize(req, caller, website_id).await,
            Err(e) => Err(e),
        };
        match checked {
            Ok(access) => Outcome::Success(QueryWebsiteAccess(access)),
            Err(e) => guard_failure(req, e),
        }
    }
}

/// Proof that an account token with permission `N` is calling an account-level route.
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
            return guard_failure(req, Error::Forbidden(format!("This token lacks the {} permission", N::PERMISSION)));
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
