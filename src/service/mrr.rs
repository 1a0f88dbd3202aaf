//! MRR, ARR, churn and the monthly movements of a website's subscriptions (`domain::mrr`), for the API, the Revenue
//! page and the Dashboard. Computed once and kept (`MrrCache`): an entry remembers the subscription version it was
//! computed from (bumped by every import that changes a subscription, `db::subscriptions`), the website's zone and
//! currency and the month it was computed in, so an import's change, a settings change or a new month computes it
//! again at the next request. Time passes between imports too (a trial ends, a payment brings a settlement rate):
//! an entry is kept at most five minutes.

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use moka::sync::Cache;

use crate::db::subscriptions::{self, Access};
use crate::domain::analytics::UNKNOWN_VISITOR;
use crate::domain::mrr::answer::{Mrr, SubscriptionsState};
use crate::domain::mrr::report::{self, Computed, Current, MAX_MONTHS, MonthFigures, YearMonth};
use crate::domain::mrr::sources::SourceIndex;
use crate::domain::website::WebsiteView;
use crate::domain::{ObjectId, Role, WebsiteId};
use crate::error::Error;
use crate::service::App;

/// How long a computation is kept when nothing invalidates it.
const FRESH: Duration = Duration::from_mins(5);

struct Entry {
    version: i64,
    timezone: String,
    currency: String,
    month: YearMonth,
    /// The first month computed (`computed.months[0]`).
    first: YearMonth,
    computed: Computed,
    counts: (u64, u64),
    /// MRR by each subscriber's first-touch source.
    sources: SourceIndex,
}

/// The computed figures of each website.
pub struct MrrCache(Cache<ObjectId, Arc<Entry>>);

impl Default for MrrCache {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(1_000).time_to_live(FRESH).build())
    }
}

/// The months `start..=end` asked for (`YYYY-MM`, or a date in the month; default the 12 months to this one).
fn range(start: Option<&str>, end: Option<&str>, this_month: YearMonth) -> Result<(YearMonth, YearMonth), Error> {
    let month = |raw: &str, name: &str| {
        YearMonth::parse(raw).ok_or_else(|| Error::BadRequest(format!("{name} must be a month such as 2026-03")))
    };
    let last = end.map(|e| month(e, "end")).transpose()?.unwrap_or(this_month);
    let first = start.map(|s| month(s, "start")).transpose()?.unwrap_or_else(|| last.minus(11));
    if first > last {
        return Err(Error::BadRequest("start must not be after end".into()));
    }
    if last > this_month {
        return Err(Error::BadRequest(format!(
            "end must not be after the current month ({}): MRR is not forecast",
            this_month.label()
        )));
    }
    if first.count_to(last) > MAX_MONTHS {
        return Err(Error::BadRequest(format!(
            "A range may span at most {MAX_MONTHS} months (10 years); pick a later start"
        )));
    }
    Ok((first, last))
}

/// The website's figures, computed now or taken from the cache, with the key's access to subscriptions.
async fn computed(app: &App, website: &WebsiteId, site: &WebsiteView) -> Result<(Arc<Entry>, Access), Error> {
    let id = website.id().clone();
    let access = app.db.run(move |c| subscriptions::access(c, &id)).await?;
    let tz: Tz = site.timezone.parse().unwrap_or(Tz::UTC);
    let now = chrono::Utc::now().timestamp();
    let month = YearMonth::at(now, tz);
    if let Some(entry) = app.mrr.0.get(website.id())
        && entry.version == access.version
        && entry.timezone == site.timezone
        && entry.currency == site.currency
        && entry.month == month
    {
        return Ok((entry, access));
    }
    let (id, currency) = (website.id().clone(), site.currency.clone());
    let (subs, rates, counts, sources) = app
        .db
        .run(move |c| {
            let subs = subscriptions::for_mrr(c, &id)?;
            let rates = subscriptions::settlement_rates(c, &id, &currency)?;
            let sources = subscriptions::customer_sources(c, &id, UNKNOWN_VISITOR)?;
            Ok((subs, rates, subscriptions::counts(c, &id)?, sources))
        })
        .await?;
    let (currency, timezone) = (site.currency.clone(), site.timezone.clone());
    let entry = tokio::task::spawn_blocking(move || {
        // From the month of the earliest subscription (so a returning customer is known), at most ten years back.
        let earliest = subs.iter().map(|s| s.created).min().map_or(month, |t| YearMonth::at(t, tz));
        let first = earliest.clamp(month.minus(MAX_MONTHS), month);
        let months = report::months(tz, first, month);
        let rate = |s: &crate::domain::mrr::Subscription| rates.get(&(s.customer.clone(), s.currency.clone())).copied();
        let computed = report::compute(&subs, rate, &currency, &months, now);
        let sources = SourceIndex::new(&computed, &sources);
        Entry { version: access.version, timezone, currency, month, first, computed, counts, sources }
    })
    .await
    .map_err(Error::internal)?;
    let entry = Arc::new(entry);
    app.mrr.0.insert(website.id().clone(), Arc::clone(&entry));
    Ok((entry, access))
}

fn state(entry: &Entry, access: Access) -> SubscriptionsState {
    SubscriptionsState {
        available: access.available,
        reason: access.reason,
        imported: entry.counts.0,
        live: entry.counts.1,
    }
}

/// The figures now and per month of `start..=end` (see `range`), in the website's currency and zone.
pub async fn report(
    app: &App,
    website: &WebsiteId,
    role: Role,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Mrr, Error> {
    let site = crate::service::websites::get(app, website, role).await?;
    let tz: Tz = site.timezone.parse().unwrap_or(Tz::UTC);
    let this_month = YearMonth::at(chrono::Utc::now().timestamp(), tz);
    let (first, last) = range(start, end, this_month)?;
    let (entry, access) = computed(app, website, &site).await?;
    let series = std::iter::successors(Some(first), |m| Some(m.next()))
        .take(first.count_to(last) as usize)
        .map(|m| {
            // Months before the first subscription had none.
            let index = entry.first.count_to(m).checked_sub(1);
            index
                .and_then(|i| entry.computed.months.get(i as usize))
                .cloned()
                .unwrap_or_else(|| MonthFigures { month: m.label(), ..MonthFigures::default() })
        })
        .collect();
    Ok(Mrr {
        currency: site.currency.clone(),
        start: first.label(),
        end: last.label(),
        current: entry.computed.current.clone(),
        series,
        unconverted: entry.computed.unconverted.clone(),
        by_source: entry.sources.figures(first, last),
        subscriptions: state(&entry, access),
    })
}

/// The figures now, when the key may list subscriptions (the Dashboard's main figure in MRR mode).
pub async fn current(app: &App, website: &WebsiteId, site: &WebsiteView) -> Result<Option<Current>, Error> {
    let (entry, access) = computed(app, website, site).await?;
    Ok((access.available == Some(true)).then(|| entry.computed.current.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_defaults_to_twelve_months_and_refuses_the_future_and_nonsense() {
        let june = YearMonth::parse("2026-06").unwrap();
        let label = |r: Result<(YearMonth, YearMonth), Error>| r.map(|(a, b)| (a.label(), b.label()));
        assert_eq!(label(range(None, None, june)).unwrap(), ("2025-07".into(), "2026-06".into()));
        assert_eq!(label(range(Some("2026-01"), None, june)).unwrap(), ("2026-01".into(), "2026-06".into()));
        assert_eq!(label(range(None, Some("2026-03-15"), june)).unwrap(), ("2025-04".into(), "2026-03".into()));
        let refused = |s: Option<&str>, e: Option<&str>| match range(s, e, june) {
            Err(Error::BadRequest(m)) => m,
            other => panic!("{:?}", other.map(|(a, b)| (a.label(), b.label()))),
        };
        assert_eq!(refused(Some("June"), None), "start must be a month such as 2026-03");
        assert_eq!(refused(Some("2026-05"), Some("2026-04")), "start must not be after end");
        assert!(refused(None, Some("2026-07")).starts_with("end must not be after the current month (2026-06)"));
        assert!(refused(Some("2016-06"), None).starts_with("A range may span at most 120 months"));
        assert_eq!(label(range(Some("2016-07"), None, june)).unwrap().0, "2016-07");
    }
}
