//! Subscriptions and the recurring revenue they come to, by Stripe's billing-analytics definitions
//! (<https://docs.stripe.com/billing/subscriptions/analytics/glossary>,
//! <https://support.stripe.com/questions/billing-analytics>): MRR is the monthly-normalised value of the active and
//! past-due subscriptions; trials, taxes, metered prices and finite coupons do not count; a subscription that is
//! canceled or unpaid no longer counts.
//!
//! What a subscription was at a past instant is rebuilt from what is known of it: its dates (created, trial,
//! ended — exact, from Stripe's object) and the states revlink observed at each import (`Observation`: status and
//! plan, a snapshot per month in which the import saw a change). Before the first observation the first observed
//! plan is assumed; an unpaid or paused status is dated from the start of the period it was seen in (inferred).
//! `plan` values a plan, `report` turns subscriptions into the monthly series and the current figures.

pub mod answer;
pub mod plan;
pub mod report;
pub mod sources;

#[cfg(test)]
mod fixture;

pub use plan::Plan;

/// A subscription's status, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    PastDue,
    Trialing,
    Canceled,
    Unpaid,
    Paused,
    Incomplete,
    IncompleteExpired,
    /// A status this revlink does not know: never counted.
    Other,
}

impl Status {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "trialing" => Self::Trialing,
            "canceled" => Self::Canceled,
            "unpaid" => Self::Unpaid,
            "paused" => Self::Paused,
            "incomplete" => Self::Incomplete,
            "incomplete_expired" => Self::IncompleteExpired,
            _ => Self::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Trialing => "trialing",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Other => "other",
        }
    }

    /// Delinquent states that began at some point of a subscription's life (not at its start).
    fn lapsed(self) -> bool {
        matches!(self, Self::Unpaid | Self::Paused)
    }

    /// Whether a subscription in this status counts toward MRR outside its trial and after its start: active and
    /// past due (and trialing or canceled ones, whose dates decide: trial end, ended at).
    fn counts(self) -> bool {
        matches!(self, Self::Active | Self::PastDue | Self::Trialing | Self::Canceled)
    }
}

/// One state of a subscription as an import saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// When it was seen (Unix seconds).
    pub at: i64,
    pub status: Status,
    /// For an unpaid or paused status, when it is taken to have begun: the start of the billing period it was
    /// seen in (Stripe counts a subscription delinquent from the invoice after the last failed attempt), or the
    /// trial's end for a paused one.
    pub since: Option<i64>,
    pub plan: Plan,
}

/// A subscription with what is known of its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    /// Upper-case ISO code.
    pub currency: String,
    pub created: i64,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub ended_at: Option<i64>,
    /// Oldest first; at least one (a subscription is stored with the state it was first seen in).
    pub observations: Vec<Observation>,
}

/// A subscription as one import reads it (a provider's object, mapped): stored, and observed when it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub id: String,
    pub customer: String,
    pub currency: String,
    pub status: Status,
    pub created: i64,
    pub start_date: Option<i64>,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancel_at_period_end: bool,
    /// The current billing period (on the items since API version 2025-03-31.basil: the earliest start and
    /// latest end among them).
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub plan: Plan,
}

impl NewSubscription {
    /// When a lapsed status (unpaid, paused) is taken to have begun, if this is one.
    pub fn status_since(&self) -> Option<i64> {
        match self.status {
            Status::Unpaid => self.current_period_start.or(self.trial_end),
            Status::Paused => self.trial_end.or(self.current_period_start),
            _ => None,
        }
    }
}

/// A conversion from a subscription's currency to the website's: `settled / amount`, from a payment Stripe
/// settled (amount in the payment's currency, settled amount in the website's; minor units of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub amount: i64,
    pub settled: i64,
}

impl Rate {
    pub const SAME: Self = Self { amount: 1, settled: 1 };

    #[allow(clippy::cast_precision_loss)] // minor units far below 2^52
    fn apply(self, value: f64) -> f64 {
        if self.amount <= 0 { 0.0 } else { value * self.settled as f64 / self.amount as f64 }
    }
}

/// Rounds half away from zero to whole minor units.
#[allow(clippy::cast_possible_truncation)] // MRR far below i64::MAX
fn whole(value: f64) -> i64 {
    value.round() as i64
}

/// A subscription ready to be asked its MRR at any instant: its dates and, from each moment on, its value in the
/// website's currency (whole minor units, 0 where its status does not count).
#[derive(Debug, Clone)]
pub struct Timeline {
    created: i64,
    trial: Option<(i64, i64)>,
    ended_at: Option<i64>,
    /// `(from, value)`, sorted by `from`; the first applies from the subscription's start.
    segments: Vec<(i64, i64)>,
}

impl Timeline {
    pub fn new(sub: &Subscription, rate: Rate) -> Self {
        let value = |plan: &Plan| whole(rate.apply(plan.monthly(&sub.currency)));
        let mut segments: Vec<(i64, i64)> = Vec::with_capacity(sub.observations.len() + 1);
        let mut previous_at = None;
        for obs in &sub.observations {
            let from = match previous_at {
                None => i64::MIN,
                Some(prev) => obs.at.max(prev),
            };
            if obs.status.lapsed() {
                let since = obs.since.unwrap_or(obs.at);
                match previous_at {
                    // First seen lapsed: live on this plan until it lapsed (inferred), nothing after.
                    None => {
                        segments.push((i64::MIN, value(&obs.plan)));
                        segments.push((since, 0));
                    }
                    // It lapsed between the last observation and this one.
                    Some(prev) => segments.push((since.clamp(prev, obs.at), 0)),
                }
            } else {
                let counted = match obs.status {
                    Status::Trialing => sub.trial_end.is_some(),
                    Status::Canceled => sub.ended_at.is_some(),
                    s => s.counts(),
                };
                segments.push((from, if counted { value(&obs.plan) } else { 0 }));
            }
            previous_at = Some(obs.at);
        }
        segments.sort_by_key(|s| s.0);
        let trial = sub.trial_end.map(|end| (sub.trial_start.unwrap_or(sub.created), end));
        Self { created: sub.created, trial, ended_at: sub.ended_at, segments }
    }

    /// The subscription's MRR at instant `t` (Unix seconds): nothing before it started, during its trial or from
    /// its end on; otherwise the value of the state it was in.
    pub fn at(&self, t: i64) -> i64 {
        if t < self.created || self.ended_at.is_some_and(|end| t >= end) {
            return 0;
        }
        if self.trial.is_some_and(|(start, end)| (start..end).contains(&t)) {
            return 0;
        }
        let i = self.segments.partition_point(|(from, _)| *from <= t);
        i.checked_sub(1).map_or_else(|| self.segments.first().map_or(0, |s| s.1), |i| self.segments[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::plan::{Interval, Item, UsageType};
    use super::*;

    fn plan(amount: i64) -> Plan {
        Plan::new(
            vec![Item {
                price: "p".into(),
                unit_amount: Some(amount),
                interval: Interval::Month,
                interval_count: 1,
                usage_type: UsageType::Licensed,
                quantity: 1,
            }],
            vec![],
        )
    }

    fn obs(at: i64, status: Status, since: Option<i64>, amount: i64) -> Observation {
        Observation { at, status, since, plan: plan(amount) }
    }

    fn sub(observations: Vec<Observation>) -> Subscription {
        Subscription {
            id: "sub_1".into(),
            customer: "cus_1".into(),
            currency: "USD".into(),
            created: 100,
            trial_start: None,
            trial_end: None,
            ended_at: None,
            observations,
        }
    }

    #[test]
    fn dates_bound_the_value_and_observations_change_it_when_seen() {
        let mut s = sub(vec![obs(500, Status::Active, None, 1000), obs(900, Status::Active, None, 3000)]);
        s.trial_start = Some(100);
        s.trial_end = Some(200);
        s.ended_at = Some(1500);
        let t = Timeline::new(&s, Rate::SAME);
        assert_eq!(
            [t.at(99), t.at(150), t.at(200), t.at(899), t.at(900), t.at(1499), t.at(1500)],
            [0, 0, 1000, 1000, 3000, 3000, 0]
        );
    }

    #[test]
    fn a_lapsed_status_is_dated_from_its_period_or_between_observations() {
        // First seen unpaid: live until the period it lapsed in began (inferred).
        let t = Timeline::new(&sub(vec![obs(1000, Status::Unpaid, Some(600), 2000)]), Rate::SAME);
        assert_eq!((t.at(599), t.at(600), t.at(2000)), (2000, 0, 0));
        // Seen past due, then unpaid: lapsed no earlier than when it was last seen live.
        let t = Timeline::new(
            &sub(vec![obs(300, Status::PastDue, None, 2000), obs(1000, Status::Unpaid, Some(200), 2000)]),
            Rate::SAME,
        );
        assert_eq!((t.at(299), t.at(300), t.at(1000)), (2000, 0, 0));
        let t = Timeline::new(
            &sub(vec![obs(300, Status::PastDue, None, 2000), obs(1000, Status::Unpaid, Some(700), 2000)]),
            Rate::SAME,
        );
        assert_eq!((t.at(699), t.at(700)), (2000, 0));
    }

    #[test]
    fn other_currencies_convert_at_the_settlement_rate_and_never_started_ones_count_nothing() {
        let t = Timeline::new(&sub(vec![obs(100, Status::Active, None, 2000)]), Rate { amount: 2000, settled: 2200 });
        assert_eq!(t.at(150), 2200);
        let t = Timeline::new(&sub(vec![obs(100, Status::Incomplete, None, 2000)]), Rate::SAME);
        assert_eq!(t.at(150), 0);
        let mut canceled = sub(vec![obs(100, Status::Canceled, None, 2000)]);
        assert_eq!(Timeline::new(&canceled, Rate::SAME).at(150), 0, "canceled without an end: never counted");
        canceled.ended_at = Some(400);
        assert_eq!(Timeline::new(&canceled, Rate::SAME).at(150), 2000, "live until it ended");
    }
}
