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

/// Each source's subscribers now and the MRR its subscribers started with, month by month: built once per
/// computation, asked for any range of months.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceIndex {
    rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    source: String,
    mrr: i64,
    active: u64,
    /// (month, MRR, subscribers) of those who started, new (not reactivated), sorted by month.
    started: Vec<(YearMonth, i64, u64)>,
}

fn source_of<'s, S: std::hash::BuildHasher>(sources: &'s HashMap<String, String, S>, customer: &str) -> &'s str {
    sources.get(customer).map_or(NOT_ATTRIBUTED, String::as_str)
}

impl Row {
    fn new(source: &str) -> Self {
        Self { source: source.to_owned(), mrr: 0, active: 0, started: Vec::new() }
    }
}

impl SourceIndex {
    /// `sources` names each customer's source.
    pub fn new<S: std::hash::BuildHasher>(computed: &Computed, sources: &HashMap<String, String, S>) -> Self {
        let mut rows: HashMap<&str, Row> = HashMap::new();
        for (customer, mrr) in &computed.customers_now {
            let source = source_of(sources, customer);
            let r = rows.entry(source).or_insert_with(|| Row::new(source));
            r.mrr += mrr;
            r.active += 1;
        }
        for start in computed.starts.iter().filter(|s| !s.reactivated) {
            let source = source_of(sources, &start.customer);
            let r = rows.entry(source).or_insert_with(|| Row::new(source));
            match r.started.iter_mut().find(|m| m.0 == start.month) {
                Some(m) => (m.1, m.2) = (m.1 + start.mrr, m.2 + 1),
                None => r.started.push((start.month, start.mrr, 1)),
            }
        }
        let mut rows: Vec<Row> = rows.into_values().collect();
        for r in &mut rows {
            r.started.sort_by_key(|m| m.0);
        }
        Self { rows }
    }

    /// The figures per source for the months `first..=last`, largest MRR first (then largest new MRR, then name).
    pub fn figures(&self, first: YearMonth, last: YearMonth) -> Vec<SourceFigures> {
        let mut out: Vec<SourceFigures> = self
            .rows
            .iter()
            .map(|r| {
                let started = r.started.iter().filter(|m| (first..=last).contains(&m.0));
                let (new_mrr, new_subscribers) = started.fold((0, 0), |(a, n), m| (a + m.1, n + m.2));
                SourceFigures {
                    source: r.source.clone(),
                    mrr: r.mrr,
                    active_subscribers: r.active,
                    new_mrr,
                    new_subscribers,
                }
            })
            .filter(|f| f.active_subscribers > 0 || f.new_subscribers > 0)
            .collect();
        out.sort_by(|a, b| b.mrr.cmp(&a.mrr).then(b.new_mrr.cmp(&a.new_mrr)).then(a.source.cmp(&b.source)));
        out
    }
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
        let rows = SourceIndex::new(&computed, &sources).figures(m("2026-01"), m("2026-06"));
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
