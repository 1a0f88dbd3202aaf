//! The chart the Revenue page and the Dashboard draw: bars per day, week or month (a part of each bar in a second
//! colour, e.g. refunds), an optional line on its own scale (visitors), a y-axis of four equal steps to a round top,
//! date ticks, and for each bucket the readable figures the page shows when it is focused, tapped or hovered.
//! Geometry only: the template `chart.html` draws it, `static/app.js` moves between the buckets with the arrow keys.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

/// The drawing's size in SVG user units; the page stretches it to its width (`preserveAspectRatio="none"`, so the
/// labels are HTML beside it, never SVG text).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
/// The y-axis has this many equal steps: the stylesheet places its labels at 0, 25, 50, 75 and 100 %.
const STEPS: i64 = 4;
/// At most this many date labels under the chart.
const MAX_TICKS: usize = 7;

/// The size of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Day,
    Week,
    Month,
}

impl Step {
    pub const ALL: [Self; 3] = [Self::Day, Self::Week, Self::Month];

    /// The bucket a range of `days` is drawn in when none is picked: at most about 45 bars.
    pub fn for_days(days: i64) -> Self {
        match days {
            ..=45 => Self::Day,
            46..=200 => Self::Week,
            _ => Self::Month,
        }
    }

    /// A picked bucket, when it suits a range of `days` (days only up to a year, months from four weeks).
    pub fn picked(raw: Option<&str>, days: i64) -> Self {
        let picked = Self::ALL.into_iter().find(|s| Some(s.name()) == raw);
        match picked {
            Some(Self::Day) if days > 366 => Self::for_days(days),
            Some(Self::Month) if days < 28 => Self::for_days(days),
            Some(step) => step,
            None => Self::for_days(days),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the bucket holding `date` (weeks start on Monday).
    pub fn floor(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Self::Month => date.with_day(1).unwrap_or(date),
        }
    }

    fn next(self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Day => date.checked_add_days(Days::new(1)),
            Self::Week => date.checked_add_days(Days::new(7)),
            Self::Month => date.checked_add_months(Months::new(1)),
        }
    }

    /// The buckets' first days from the one holding `first` through the one holding `last`.
    pub fn starts(self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        std::iter::successors(Some(self.floor(first)), |d| self.next(*d)).take_while(|d| *d <= last).collect()
    }

    /// What the readout calls a bucket: `Tue 5 Mar 2026`, `Week of 2 Mar 2026`, `March 2026`.
    fn label(self, start: NaiveDate) -> String {
        match self {
            Self::Day => start.format("%a %-d %b %Y").to_string(),
            Self::Week => start.format("Week of %-d %b %Y").to_string(),
            Self::Month => start.format("%B %Y").to_string(),
        }
    }

    /// A date label under the chart; the year only where it is new.
    fn tick(self, start: NaiveDate, with_year: bool) -> String {
        match (self, with_year) {
            (Self::Month, true) => start.format("%b %Y").to_string(),
            (Self::Month, false) => start.format("%b").to_string(),
            (_, true) => start.format("%-d %b %Y").to_string(),
            (_, false) => start.format("%-d %b").to_string(),
        }
    }
}

/// One bucket's numbers: the bar's height, the part of it drawn in the second colour, the line's value, and the
/// figures written out (`3 payments, 120.00 USD net…`).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub start: NaiveDate,
    pub bar: i64,
    pub part: i64,
    pub line: Option<u64>,
    pub figures: String,
}

/// The top of a y-axis of four equal round steps (1, 2, 2.5 or 5 × a power of ten, at least `min_step`) that
/// holds `max`.
pub fn axis_top(max: i64, min_step: i64) -> i64 {
    let needed = (i128::from(max.max(0)) + i128::from(STEPS) - 1) / i128::from(STEPS);
    let mut magnitude: i128 = 1;
    loop {
        // 2.5 × 1 is not a whole step: below ten it is skipped (2 is offered twice).
        let quarter = if magnitude >= 10 { magnitude * 5 / 2 } else { magnitude * 2 };
        let candidates = [magnitude, magnitude * 2, quarter, magnitude * 5];
        let found = candidates.into_iter().find(|c| *c >= needed && *c >= i128::from(min_step.max(1)));
        if let Some(step) = found {
            return i64::try_from(step * i128::from(STEPS)).unwrap_or(i64::MAX);
        }
        magnitude *= 10;
    }
}

#[derive(Debug, Serialize)]
pub struct Bar {
    x: f64,
    width: f64,
    y: f64,
    height: f64,
    part_y: f64,
    part_height: f64,
    /// The bucket's name (`Week of 2 Mar 2026`) and its figures.
    label: String,
    figures: String,
    /// The date label under this bucket, when it has one.
    tick: Option<String>,
}

/// A chart ready for `chart.html`.
#[derive(Debug, Serialize)]
pub struct Chart {
    width: f64,
    height: f64,
    step: Step,
    bars: Vec<Bar>,
    /// The y-axis labels, top first (five of them).
    y_labels: Vec<String>,
    /// The line's points (`x,y x,y …`) and its own axis labels, top first.
    line: Option<String>,
    line_labels: Vec<String>,
    /// Whether any bucket has anything in it.
    empty: bool,
}

/// Two decimals are plenty for a 720-unit-wide drawing.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Draws `buckets` of `step`: bar values (and `min_step`, the smallest y step worth a label) in the bars' unit,
/// `y_label` writes an axis value; `line_label` the line's.
// Chart geometry: amounts become SVG user units, where a float's 52 bits are more than enough.
#[allow(clippy::cast_precision_loss)]
pub fn draw(
    buckets: &[Bucket],
    step: Step,
    min_step: i64,
    y_label: impl Fn(i64) -> String,
    line_label: impl Fn(u64) -> String,
) -> Chart {
    let top = axis_top(buckets.iter().map(|b| b.bar).max().unwrap_or(0), min_step);
    let has_line = buckets.iter().any(|b| b.line.is_some());
    let line_max = buckets.iter().filter_map(|b| b.line).max().unwrap_or(0);
    let line_top = axis_top(i64::try_from(line_max).unwrap_or(i64::MAX), 1);
    let slot = WIDTH / buckets.len().max(1) as f64;
    let scale = |v: i64, top: i64| v.clamp(0, top) as f64 * HEIGHT / top as f64;
    let every = buckets.len().div_ceil(MAX_TICKS).max(1);
    let mut last_year = None;
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            // The whole bar, its part on top (refunds over the net).
            let height = scale(b.bar, top);
            let part_height = scale(b.part.clamp(0, b.bar.max(0)), top);
            let net_height = height - part_height;
            let tick = (i % every == 0).then(|| {
                let year = b.start.year();
                let new_year = last_year != Some(year);
                last_year = Some(year);
                step.tick(b.start, new_year)
            });
            Bar {
                x: round(i as f64 * slot + slot * 0.1),
                width: round(slot * 0.8),
                y: round(HEIGHT - net_height),
                height: round(net_height),
                part_y: round(HEIGHT - height),
                part_height: round(part_height),
                label: step.label(b.start),
                figures: b.figures.clone(),
                tick,
            }
        })
        .collect();
    let labels = |top: i64, write: &dyn Fn(i64) -> String| (0..=STEPS).rev().map(|k| write(top / STEPS * k)).collect();
    let line = has_line.then(|| {
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let v = i64::try_from(b.line.unwrap_or(0)).unwrap_or(i64::MAX);
                format!("{},{}", round(i as f64 * slot + slot / 2.0), round(HEIGHT - scale(v, line_top)))
            })
            .collect::<Vec<_>>()
            .join(" ")
    });
    Chart {
        width: WIDTH,
        height: HEIGHT,
        step,
        bars,
        y_labels: labels(top, &y_label),
        line_labels: if has_line { labels(line_top, &|v| line_label(v.unsigned_abs())) } else { Vec::new() },
        line,
        empty: buckets.iter().all(|b| b.bar == 0 && b.line.unwrap_or(0) == 0),
    }
}

/// `1234.5` → `1.2k`: an axis label, short enough for a phone.
#[allow(clippy::cast_precision_loss)]
pub fn compact(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, "B"),
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e3 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn bucket(start: &str, bar: i64) -> Bucket {
        Bucket { start: day(start), bar, part: 0, line: None, figures: String::new() }
    }

    #[test]
    fn the_axis_tops_at_four_round_steps() {
        assert_eq!(axis_top(0, 100), 400, "no data: four of the smallest step");
        assert_eq!(axis_top(1, 1), 4);
        assert_eq!(axis_top(8, 1), 8);
        assert_eq!(axis_top(9, 1), 20, "steps of 3 are not round: 1, 2, 2.5, 5 × 10^n");
        assert_eq!(axis_top(100, 1), 100);
        assert_eq!(axis_top(101, 1), 200);
        assert_eq!(axis_top(1_000_001, 100), 2_000_000);
        assert_eq!(axis_top(95_000, 100), 100_000, "2.5 × 10^4 steps");
        assert_eq!(axis_top(i64::MAX, 1), i64::MAX, "one huge day saturates, never overflows");
    }

    #[test]
    fn the_bucket_follows_the_range_unless_a_sensible_one_is_picked() {
        assert_eq!((Step::for_days(1), Step::for_days(30), Step::for_days(45)), (Step::Day, Step::Day, Step::Day));
        assert_eq!(
            (Step::for_days(90), Step::for_days(365), Step::for_days(3000)),
            (Step::Week, Step::Month, Step::Month)
        );
        assert_eq!(Step::picked(Some("week"), 30), Step::Week);
        assert_eq!(Step::picked(Some("day"), 2000), Step::Month, "thousands of day bars are not offered");
        assert_eq!(Step::picked(Some("month"), 7), Step::Day);
        assert_eq!(Step::picked(Some("fortnight"), 30), Step::Day);
    }

    #[test]
    fn buckets_start_on_mondays_and_first_days_of_months() {
        let weeks = Step::Week.starts(day("2026-03-04"), day("2026-03-16"));
        assert_eq!(weeks, vec![day("2026-03-02"), day("2026-03-09"), day("2026-03-16")]);
        let months = Step::Month.starts(day("2025-12-31"), day("2026-02-01"));
        assert_eq!(months, vec![day("2025-12-01"), day("2026-01-01"), day("2026-02-01")]);
    }

    #[test]
    #[allow(clippy::cast_precision_loss, clippy::float_cmp)] // small amounts; exact zeros
    fn zero_data_draws_no_bars_and_a_labelled_axis() {
        let buckets: Vec<Bucket> = (1..=7).map(|d| bucket(&format!("2026-03-0{d}"), 0)).collect();
        let chart = draw(&buckets, Step::Day, 100, |v| compact(v as f64 / 100.0), |v| v.to_string());
        assert!(chart.empty);
        assert_eq!(chart.y_labels, vec!["4", "3", "2", "1", "0"]);
        assert!(chart.bars.iter().all(|b| b.height == 0.0 && b.part_height == 0.0));
        assert!(chart.line.is_none() && chart.line_labels.is_empty());
    }

    #[test]
    #[allow(clippy::float_cmp)] // exact binary fractions
    fn one_huge_day_fills_the_height_and_the_others_stay_visible_in_scale() {
        let mut buckets: Vec<Bucket> = (1..=9).map(|d| bucket(&format!("2026-03-0{d}"), 100)).collect();
        buckets[4].bar = 1_000_000;
        buckets[4].part = 250_000;
        let chart = draw(&buckets, Step::Day, 1, |v| v.to_string(), |v| v.to_string());
        let huge = &chart.bars[4];
        assert_eq!(huge.height + huge.part_height, HEIGHT);
        assert_eq!(huge.part_height, HEIGHT / 4.0, "the refunded quarter on top of the net part");
        assert_eq!(huge.part_y + huge.part_height, huge.y, "the part sits on the net part");
        assert!(chart.bars[0].height > 0.0 && chart.bars[0].height < 0.1);
        assert_eq!(chart.y_labels[0], "1000000");
        let last = chart.bars.last().unwrap();
        assert!(last.x + last.width <= WIDTH, "the bars fit the width");
    }

    #[test]
    fn date_ticks_are_few_and_say_the_year_where_it_changes() {
        let starts = Step::Week.starts(day("2025-11-01"), day("2026-04-30"));
        let buckets: Vec<Bucket> = starts.iter().map(|d| bucket(&d.to_string(), 1)).collect();
        let chart = draw(&buckets, Step::Week, 1, |v| v.to_string(), |v| v.to_string());
        let ticks: Vec<&str> = chart.bars.iter().filter_map(|b| b.tick.as_deref()).collect();
        assert!(ticks.len() <= MAX_TICKS && ticks.len() >= 5, "{ticks:?}");
        assert_eq!(ticks[0], "27 Oct 2025");
        assert!(ticks.iter().filter(|t| t.ends_with("2026")).count() == 1, "{ticks:?}");
        assert_eq!(chart.bars[0].label, "Week of 27 Oct 2025");
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(
            (compact(0.0), compact(2.5), compact(1500.0), compact(2_000_000.0)),
            ("0".into(), "2.5".into(), "1.5k".into(), "2M".into())
        );
    }
}
