//! One visitor, and the writes the Website analytics API makes about visitors (contract §5): `visitors/{id}`
//! (who they are, what they did, what they paid), `POST goals` and `POST identify`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::visitors;
use crate::domain::WebsiteId;
use crate::domain::analytics::{self, Dimension};
use crate::domain::visit::{self, Identity};
use crate::error::Error;
use crate::service::App;

/// How many pages, goals and payments a visitor's profile lists, at most.
const PROFILE_ITEMS: u32 = 100;

/// `GET visitors/{id}`'s answer: who the visitor is and what they did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorProfile {
    pub visitor_id: String,
    pub identity: VisitorIdentity,
    pub activity: VisitorActivity,
}

/// The visitor's first-touch acquisition, device, and who they said they are.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorIdentity {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    /// The landing campaign's parameters that have a value (`utm_source` … `via`).
    pub params: BTreeMap<String, String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub viewport: Option<VisitorViewport>,
    pub referrer: Option<String>,
    pub landing_page: Option<String>,
    pub hostname: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorViewport {
    pub width: i64,
    pub height: i64,
}

/// What the visitor did: first and last seen, visits, and the latest pages, goals and payments (newest first).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorActivity {
    pub first_seen: String,
    pub last_seen: String,
    pub visits: u64,
    pub pageviews: u64,
    pub pages: Vec<VisitorPage>,
    pub goals: Vec<VisitorGoal>,
    pub payments: Vec<VisitorPayment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorPage {
    pub path: String,
    pub timestamp: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorGoal {
    pub name: String,
    pub timestamp: String,
    /// The goal's parameters, as sent.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A payment attributed to the visitor, in major units.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorPayment {
    pub id: String,
    pub amount: f64,
    pub currency: String,
    pub timestamp: String,
    pub renewal: bool,
    pub refunded: f64,
}

/// One visitor: who they are (acquisition, identity) and what they did; 404 for a visitor revlink never saw.
pub async fn visitor(app: &App, website: &WebsiteId, visitor_id: &str) -> Result<VisitorProfile, Error> {
    let (id, visitor) = (website.id().clone(), visitor_id.to_owned());
    let found = app.db.run(move |c| visitors::visitor(c, &id, &visitor, PROFILE_ITEMS)).await?;
    let r = found.ok_or_else(|| Error::NotFound(format!("No visitor {visitor_id} on this website")))?;
    let get = |name: &str| r.acquisition.iter().find(|(f, _)| *f == name).and_then(|(_, v)| v.clone());
    let params = Dimension::CAMPAIGN.iter().filter_map(|d| get(d.name()).map(|v| (d.name().to_owned(), v))).collect();
    let identity = VisitorIdentity {
        country: get("country"),
        region: get("region"),
        city: get("city"),
        params,
        browser: get("browser"),
        os: get("os"),
        device: get("device"),
        viewport: r.viewport.map(|(width, height)| VisitorViewport { width, height }),
        referrer: get("referrer"),
        landing_page: get("landing_path"),
        hostname: get("hostname"),
        user_id: r.user_id.clone(),
        email: r.email.clone(),
        name: r.name.clone(),
    };
    let activity = VisitorActivity {
        first_seen: analytics::stamp(r.first_seen),
        last_seen: analytics::stamp(r.last_seen),
        visits: r.visits,
        pageviews: r.pageviews,
        pages: r
            .pages
            .iter()
            .map(|(path, at)| VisitorPage { path: path.clone(), timestamp: analytics::stamp(*at) })
            .collect(),
        goals: r
            .goals
            .iter()
            .map(|(name, at, params)| VisitorGoal {
                name: name.clone(),
                timestamp: analytics::stamp(*at),
                metadata: params.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()),
            })
            .collect(),
        payments: r
            .payments
            .iter()
            .map(|(id, amount, currency, paid_at, renewal, refunded)| VisitorPayment {
                id: id.clone(),
                amount: analytics::major(*amount, currency),
                currency: currency.to_uppercase(),
                timestamp: paid_at.clone(),
                renewal: *renewal,
                refunded: analytics::major(*refunded, currency),
            })
            .collect(),
    };
    Ok(VisitorProfile { visitor_id: visitor_id.to_owned(), identity, activity })
}

/// The longest goal name, and the most metadata entries a goal keeps (as the tracking endpoint).
const MAX_GOAL_NAME: usize = 64;
const MAX_METADATA: usize = 10;
const MAX_VALUE: usize = 255;

/// Records a goal for a visitor revlink has seen; answers the event's id.
pub async fn add_goal(
    app: &App,
    website: &WebsiteId,
    visitor_id: &str,
    name: &str,
    metadata: &[(String, String)],
) -> Result<String, Error> {
    let name = name.trim().to_lowercase();
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || name.chars().count() > MAX_GOAL_NAME || !name.chars().all(valid) {
        return Err(Error::BadRequest(format!(
            "name must be 1 to {MAX_GOAL_NAME} letters, digits, '_' or '-' (such as newsletter_signup)"
        )));
    }
    if metadata.len() > MAX_METADATA {
        return Err(Error::BadRequest(format!("metadata may hold at most {MAX_METADATA} entries")));
    }
    if let Some((key, _)) =
        metadata.iter().find(|(k, v)| k.chars().count() > MAX_GOAL_NAME || v.chars().count() > MAX_VALUE)
    {
        return Err(Error::BadRequest(format!(
            "metadata entry {key:?} is too long: keys at most {MAX_GOAL_NAME} characters, values at most {MAX_VALUE}"
        )));
    }
    let params = visit::params_json(metadata);
    let (id, visitor, at) = (website.id().clone(), visitor_id.to_owned(), chrono::Utc::now().timestamp_millis());
    let added = app.db.write(move |c| visitors::add_goal(c, &id, &visitor, &name, params.as_deref(), at)).await?;
    added.map(|id| id.to_string()).ok_or_else(|| {
        Error::NotFound(format!("No visitor {visitor_id} on this website: a goal needs a visitor with a pageview"))
    })
}

/// Links a visitor to the merchant's user id (and email, name): later payments of that email are attributed
/// to the visitor. A visitor not seen yet is linked too: their payments join them when their first event
/// arrives. Answers the profile's id (the visitor id).
pub async fn identify(app: &App, website: &WebsiteId, visitor_id: &str, identity: Identity) -> Result<String, Error> {
    let (id, visitor, at) = (website.id().clone(), visitor_id.to_owned(), chrono::Utc::now().timestamp_millis());
    app.db.write(move |c| visitors::identify(c, &id, &visitor, &identity, at)).await?;
    Ok(visitor_id.to_owned())
}
