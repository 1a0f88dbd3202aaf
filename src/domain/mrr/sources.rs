//! MRR by acquisition source: each subscriber counted under the first-touch source (the visitor's referrer, as the
//! Dashboard's Sources table names it) of its earliest payment attributed to a visitor; subscribers with no
//! attributed payment under "Not attributed".

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::report::{Computed, YearMonth};

/// Subscribers none of whose payments is attributed to a visitor.
pub const NOT_ATTRIBUTED: &str = "Not attributed";

/// One source's subscribers: their MRR now, and the MRR they started with in the range (new, not reactivated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceFigures {
    #[schema(example = "Google")]
    pub source: String,
    pub mrr: i64,
    pub active_subscribers: u64,
    pub new_mrr: i64,
    pub new_subscribers: u64,
}

/// The figures per source for the months `first..=last`, largest MRR first (then largest new MRR, then name).
/// `sources` names each customer's source.
pub fn by_source<S: std::hash::BuildHasher>(
    computed: &Computed,
    sources: &HashMap<String, String, S>,
    first: YearMonth,
    last: YearMonth,
) -> Vec<SourceFigures> {
    let mut out: HashMap<String, SourceFigures> = HashMap::new();
    for (customer, mrr) in &computed.customers_now {
        let source = sources.get(customer).map_or(NOT_ATTRIBUTED, String::as_str);
        let r = out.entry(source.to_owned()).or_insert_with(|| empty(source));
        r.mrr += mrr;
        r.active_subscribers += 1;
    }
    for start in computed.starts.iter().filter(|s| !s.reactivated && (first..=last).contains(&s.month)) {
        let source = sources.get(&start.customer).map_or(NOT_ATTRIBUTED, String::as_str);
        let r = out.entry(source.to_owned()).or_insert_with(|| empty(source));
        r.new_mrr += start.mrr;
        r.new_subscribers += 1;
    }
    let mut out: Vec<SourceFigures> = out.into_values().collect();
    out.sort_by(|a, b| b.mrr.cmp(&a.mrr).then(b.new_mrr.cmp(&a.new_mrr)).then(a.source.cmp(&b.source)));
    out
}

fn empty(source: &str) -> SourceFigures {
    SourceFigures { source: source.to_owned(), mrr: 0, active_subscribers: 0, new_mrr: 0, new_subscribers: 0 }
}

#[cfg(test)]
mod tests {
    use super::super::report::Start;
    use super::*;

    #[test]
    fn subscribers_are_counted_under_their_first_touch_source() {
        let m = |s: &str| YearMonth::parse(s).unwrap();
        let start = |customer: &str, month: &str, mrr: i64, reactivated: bool| Start {
            customer: customer.into(),
            month: m(month),
            mrr,
            reactivated,
        };
        let computed = Computed {
            customers_now: vec![("a".into(), 1000), ("b".into(), 3000), ("c".into(), 500)],
            starts: vec![
                start("a", "2026-01", 1000, false),
                start("b", "2026-03", 2000, false),
                start("c", "2026-03", 500, false),
                start("d", "2025-12", 900, false),
                start("a", "2026-04", 1000, true),
            ],
            ..Computed::default()
        };
        let sources: HashMap<String, String> =
            [("a", "Google"), ("b", "Google"), ("d", "X")].map(|(c, s)| (c.to_owned(), s.to_owned())).into();
        let rows = by_source(&computed, &sources, m("2026-01"), m("2026-06"));
        assert_eq!(
            rows,
            vec![
                SourceFigures {
                    source: "Google".into(),
                    mrr: 4000,
                    active_subscribers: 2,
                    new_mrr: 3000,
                    new_subscribers: 2
                },
                SourceFigures {
                    source: NOT_ATTRIBUTED.into(),
                    mrr: 500,
                    active_subscribers: 1,
                    new_mrr: 500,
                    new_subscribers: 1
                },
            ],
            "d started before the range and churned; a's return is a reactivation, not new"
        );
    }
}
