//! The DataFast-compatible Website analytics API (contract §5) under `/api/v1`: `analytics/*` reports,
//! `visitors/{id}`, and the server-side `goals` and `identify` writes. A `df_` key names its website; an account
//! token (with `analytics:read`, `goals:write`, `identify:write`) adds `?websiteId=`. The reports' query is read
//! whole (`QueryPairs`) and checked in `domain::analytics`, which refuses an unknown parameter.

use rocket::serde::json::Json;
use rocket::{Route, State, get, post, routes};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::api::body::{JsonBody, kind, text};
use crate::api::doc::{Authenticated, JsonBody as BodyErrors, WebsiteQuery, WebsiteScoped};
use crate::api::{ApiResult, Success, one};
use crate::auth::{AnalyticsRead, GoalsWrite, IdentifyWrite, QueryPairs, QueryWebsiteAccess};
use crate::domain::analytics::{Interval, Overview};
use crate::domain::event;
use crate::domain::visit::{self, Identity};
use crate::error::Error;
use crate::service::analytics::{Breakdown, Listed, Metadata, Pagination};
use crate::service::visitors::VisitorProfile;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![
        overview,
        timeseries,
        realtime,
        metadata,
        referrers,
        campaigns,
        pages,
        countries,
        regions,
        cities,
        devices,
        browsers,
        operating_systems,
        hostnames,
        goals,
        visitor,
        create_goal,
        identify,
    ]
}

/// The common parameters of the reports (contract §5).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documentation only: the query is read whole by `QueryPairs`
pub struct ReportParams {
    /// The website: required with a `dft_` account token, optional with a `df_` key.
    #[param(pattern = "^[0-9a-f]{24}$")]
    #[serde(rename = "websiteId")]
    website_id: Option<String>,
    /// First day (`YYYY-MM-DD`, local midnight) or instant (ISO 8601); with `endAt`. Neither: all time.
    #[param(example = "2026-05-01")]
    #[serde(rename = "startAt")]
    start_at: Option<String>,
    /// Last day (`YYYY-MM-DD`, the whole day) or instant (ISO 8601, exclusive); with `startAt`.
    #[param(example = "2026-05-31")]
    #[serde(rename = "endAt")]
    end_at: Option<String>,
    /// IANA time zone for dates and buckets; default the website's.
    #[param(example = "Europe/Paris")]
    timezone: Option<String>,
    /// Comma-separated fields to keep in each row; default all.
    fields: Option<String>,
    /// Rows per page of a list, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Rows to skip.
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<u32>,
    /// `[is:|is_not:]v1,v2`: the visitor's country (ISO 3166-1 alpha-2). Every `filter_` names a visitor's
    /// first-touch value, except `filter_page` (a page viewed in the range) and `filter_goal` (a goal completed in
    /// the range). Also: `filter_region`, `filter_city`, `filter_device`, `filter_browser`, `filter_os`,
    /// `filter_referrer`, `filter_page`, `filter_entry_page`, `filter_hostname`, `filter_goal`, `filter_utm_medium`,
    /// `filter_utm_campaign`, `filter_utm_term`, `filter_utm_content`, `filter_ref`, `filter_source`, `filter_via`.
    #[param(example = "is:US,DE")]
    filter_country: Option<String>,
    /// `[is:|is_not:]v1,v2`: the visitor's `utm_source`.
    #[param(example = "is:newsletter")]
    filter_utm_source: Option<String>,
}

/// `{"status":"success","data":[…],"pagination":{…}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEnvelope {
    #[schema(example = "success")]
    status: &'static str,
    #[schema(value_type = Vec<Object>)]
    data: Vec<Value>,
    pagination: Pagination,
}

impl From<Listed> for ListEnvelope {
    fn from(listed: Listed) -> Self {
        Self { status: "success", data: listed.rows, pagination: listed.pagination }
    }
}

/// `GET analytics/timeseries`'s answer: the rows, and what they are.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesEnvelope {
    #[schema(example = "success")]
    status: &'static str,
    /// One row per bucket: `name` and `timestamp`, and the fields asked for (all of a `SeriesRow` by default).
    #[schema(value_type = Vec<Object>)]
    data: Vec<Value>,
    fields: Vec<String>,
    interval: Interval,
    timezone: String,
    /// The website currency's symbol.
    currency: String,
    /// The range's totals (each visitor counted once), as the overview's row.
    #[schema(value_type = Overview)]
    totals: Value,
}

/// Visitors, sessions, bounce rate, session duration, revenue, payments, revenue per visitor, conversion rate.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(ReportParams),
    responses((status = 200, description = "one row", body = Success<Overview>), Authenticated, WebsiteScoped))]
#[get("/analytics/overview")]
pub async fn overview(
    access: QueryWebsiteAccess<AnalyticsRead>,
    query: QueryPairs,
    app: &State<App>,
) -> ApiResult<Overview> {
    one(service::analytics::overview(app, &access.website_id, access.access.role, &query.0).await?)
}

/// One row per `interval` (hour, day, week, month; default day) of the range in its time zone; each row is a
/// `SeriesRow` (or its `name`, `timestamp` and the `fields` asked for).
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])),
    params(ReportParams, ("interval" = Option<String>, Query, description = "hour, day (default), week or month")),
    responses((status = 200, description = "the series and its totals", body = SeriesEnvelope), Authenticated,
        WebsiteScoped))]
#[get("/analytics/timeseries")]
pub async fn timeseries(
    access: QueryWebsiteAccess<AnalyticsRead>,
    query: QueryPairs,
    app: &State<App>,
) -> Result<Json<SeriesEnvelope>, Error> {
    let series = service::analytics::timeseries(app, &access.website_id, access.access.role, &query.0).await?;
    Ok(Json(SeriesEnvelope {
        status: "success",
        data: series.rows,
        fields: series.fields,
        interval: series.interval,
        timezone: series.timezone,
        currency: series.currency,
        totals: series.totals,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Realtime {
    /// Visitors with an event in the last 5 minutes.
    visitors: u64,
}

/// Visitors active in the last 5 minutes.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(WebsiteQuery),
    responses((status = 200, description = "one row", body = Success<Realtime>), Authenticated, WebsiteScoped))]
#[get("/analytics/realtime")]
pub async fn realtime(access: QueryWebsiteAccess<AnalyticsRead>, app: &State<App>) -> ApiResult<Realtime> {
    one(Realtime { visitors: service::analytics::realtime(app, &access.website_id).await? })
}

/// The website's domain, time zone, name and currency.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(WebsiteQuery),
    responses((status = 200, description = "one row", body = Success<Metadata>), Authenticated, WebsiteScoped))]
#[get("/analytics/metadata")]
pub async fn metadata(access: QueryWebsiteAccess<AnalyticsRead>, app: &State<App>) -> ApiResult<Metadata> {
    one(service::analytics::metadata(app, &access.website_id, access.access.role).await?)
}

macro_rules! breakdown_routes {
    ($($name:ident, $path:literal, $kind:expr, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(ReportParams),
            responses((status = 200, description = $doc, body = ListEnvelope), Authenticated, WebsiteScoped))]
        #[get($path)]
        pub async fn $name(
            access: QueryWebsiteAccess<AnalyticsRead>,
            query: QueryPairs,
            app: &State<App>,
        ) -> Result<Json<ListEnvelope>, Error> {
            let role = access.access.role;
            Ok(Json(service::analytics::breakdown(app, &access.website_id, role, &query.0, $kind).await?.into()))
        }
    )*};
}

breakdown_routes! {
    referrers, "/analytics/referrers", Breakdown::Referrers,
        "Rows `{referrer, visitors, revenue, payments}` by the visitor's first referrer (Google, X, Direct/None, a host)";
    campaigns, "/analytics/campaigns", Breakdown::Campaigns,
        "Rows `{campaign:{utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via}, visitors, revenue, payments}` by the visitor's landing campaign";
    pages, "/analytics/pages", Breakdown::Pages,
        "Rows `{hostname, path, visitors, revenue, payments}` by the visitor's landing (entry) page";
    countries, "/analytics/countries", Breakdown::Countries, "Rows `{country, visitors, revenue, payments}`";
    regions, "/analytics/regions", Breakdown::Regions, "Rows `{region, visitors, revenue, payments}`";
    cities, "/analytics/cities", Breakdown::Cities, "Rows `{city, visitors, revenue, payments}`";
    devices, "/analytics/devices", Breakdown::Devices, "Rows `{device, visitors, revenue, payments}` (desktop, mobile, tablet)";
    browsers, "/analytics/browsers", Breakdown::Browsers, "Rows `{browser, visitors, revenue, payments}`";
    operating_systems, "/analytics/operating-systems", Breakdown::OperatingSystems,
        "Rows `{operating_system, visitors, revenue, payments}`";
    hostnames, "/analytics/hostnames", Breakdown::Hostnames, "Rows `{hostname, visitors, revenue, payments}` by the landing page's host";
}

/// Rows `{goal, completions, visitors}`, most completed first.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(ReportParams),
    responses((status = 200, description = "one page of goals", body = ListEnvelope), Authenticated, WebsiteScoped))]
#[get("/analytics/goals")]
pub async fn goals(
    access: QueryWebsiteAccess<AnalyticsRead>,
    query: QueryPairs,
    app: &State<App>,
) -> Result<Json<ListEnvelope>, Error> {
    Ok(Json(service::analytics::goals(app, &access.website_id, access.access.role, &query.0).await?.into()))
}

/// One visitor: `{visitorId, identity{…}, activity{firstSeen, lastSeen, visits, pageviews, pages[], goals[], payments[]}}`.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])),
    params(("datafast_visitor_id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$",
        description = "the visitor's id (the script's datafast_visitor_id cookie)"), WebsiteQuery),
    responses((status = 200, description = "the visitor", body = Success<VisitorProfile>), Authenticated, WebsiteScoped))]
#[get("/visitors/<datafast_visitor_id>")]
pub async fn visitor(
    datafast_visitor_id: &str,
    access: QueryWebsiteAccess<AnalyticsRead>,
    app: &State<App>,
) -> ApiResult<VisitorProfile> {
    one(service::visitors::visitor(app, &access.website_id, checked_visitor_id(datafast_visitor_id)?).await?)
}

/// A visitor id as the script makes them (the tracking endpoint's rule).
fn checked_visitor_id(raw: &str) -> Result<&str, Error> {
    if event::is_client_id(raw) {
        Ok(raw)
    } else {
        Err(Error::BadRequest(
            "datafast_visitor_id must be 1 to 128 letters, digits, '-', '_', '.' or ':' (the script's UUID)".into(),
        ))
    }
}

fn required_string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, Error> {
    match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Value::String(_) | Value::Null) | None => Err(Error::BadRequest(format!("{name} is required"))),
        Some(other) => Err(Error::BadRequest(format!("{name} must be a string, not {}", kind(other)))),
    }
}

/// `POST /api/v1/goals`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documentation only: read as a JSON object
pub struct GoalBody {
    datafast_visitor_id: String,
    /// Lower-case letters, digits, `_` and `-`, at most 64.
    #[schema(example = "newsletter_signup")]
    name: String,
    /// At most 10 entries of strings.
    metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalCreated {
    #[schema(example = "Custom event created successfully")]
    message: &'static str,
    event_id: String,
}

/// Records a goal for a visitor who has had a pageview (404 otherwise).
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(WebsiteQuery),
    request_body = GoalBody,
    responses((status = 200, description = "recorded", body = Success<GoalCreated>), Authenticated, WebsiteScoped,
        BodyErrors))]
#[post("/goals", data = "<body>")]
pub async fn create_goal(
    access: QueryWebsiteAccess<GoalsWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<GoalCreated> {
    let body = body.object()?;
    let visitor_id = checked_visitor_id(required_string(&body, "datafast_visitor_id")?)?;
    let name = required_string(&body, "name")?;
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                other => Err(Error::BadRequest(format!(
                    "metadata.{k} must be a string, number or boolean, not {}",
                    kind(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(Error::BadRequest(format!("metadata must be an object of strings, not {}", kind(other))));
        }
    };
    let event_id = service::visitors::add_goal(app, &access.website_id, visitor_id, name, &metadata).await?;
    one(GoalCreated { message: "Custom event created successfully", event_id })
}

/// `POST /api/v1/identify`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documentation only: read as a JSON object
pub struct IdentifyBody {
    datafast_visitor_id: String,
    /// Your id of the user.
    user_id: String,
    /// The customer's email: later payments with it and no `datafast_visitor_id` are attributed to the visitor.
    email: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identified {
    #[schema(example = "User identified successfully")]
    message: &'static str,
    /// The profile: the visitor's id.
    profile_id: String,
}

/// Links a visitor to your user id (and email): payments of that email without `datafast_visitor_id` are
/// attributed to the visitor from then on.
#[utoipa::path(context_path = "/api/v1", tag = "analytics", security(("bearer" = [])), params(WebsiteQuery),
    request_body = IdentifyBody,
    responses((status = 200, description = "linked", body = Identified), Authenticated, WebsiteScoped, BodyErrors))]
#[post("/identify", data = "<body>")]
pub async fn identify(
    access: QueryWebsiteAccess<IdentifyWrite>,
    body: JsonBody,
    app: &State<App>,
) -> Result<Json<Identified>, Error> {
    let body = body.object()?;
    let visitor_id = checked_visitor_id(required_string(&body, "datafast_visitor_id")?)?;
    let user_id = text(&body, &["user_id"], 255)?.ok_or_else(|| Error::BadRequest("user_id is required".into()))?;
    let email = match text(&body, &["email"], 254)? {
        Some(raw) => Some(
            visit::email(&raw)
                .ok_or_else(|| Error::BadRequest(format!("email {raw:?} is not a valid email address")))?,
        ),
        None => None,
    };
    let identity = Identity { user_id: Some(user_id), email, name: text(&body, &["name"], 255)? };
    let profile_id = service::visitors::identify(app, &access.website_id, visitor_id, identity).await?;
    Ok(Json(Identified { message: "User identified successfully", profile_id }))
}
