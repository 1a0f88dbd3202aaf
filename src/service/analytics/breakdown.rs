//! The breakdown routes: which acquisition values each one's rows are, and how a row is labelled.

use serde_json::{Map, Value, json};

use crate::db::analytics::Report;
use crate::domain::analytics::{Dimension, UNKNOWN_VISITOR};

/// A breakdown route: which acquisition values its rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Referrers,
    Campaigns,
    Pages,
    Countries,
    Regions,
    Cities,
    Devices,
    Browsers,
    OperatingSystems,
    Hostnames,
}

impl Breakdown {
    /// The dimensions grouped, and the row field each is shown as.
    pub(super) fn group(self) -> Vec<(Dimension, &'static str)> {
        match self {
            Self::Referrers => vec![(Dimension::Referrer, "referrer")],
            Self::Campaigns => Dimension::CAMPAIGN.iter().map(|d| (*d, d.name())).collect(),
            Self::Pages => vec![(Dimension::Hostname, "hostname"), (Dimension::EntryPage, "path")],
            Self::Countries => vec![(Dimension::Country, "country")],
            Self::Regions => vec![(Dimension::Region, "region")],
            Self::Cities => vec![(Dimension::City, "city")],
            Self::Devices => vec![(Dimension::Device, "device")],
            Self::Browsers => vec![(Dimension::Browser, "browser")],
            Self::OperatingSystems => vec![(Dimension::Os, "operating_system")],
            Self::Hostnames => vec![(Dimension::Hostname, "hostname")],
        }
    }

    /// The report that reads this breakdown: the whole period only, grouped by its dimensions.
    pub(super) fn report(self) -> Report {
        Report { buckets: Vec::new(), group: self.group().iter().map(|(d, _)| *d).collect() }
    }

    /// The row's label fields: the grouped values, nested under `campaign` for campaigns.
    pub(super) fn label(self, key: &[Option<String>], unknown: bool) -> Map<String, Value> {
        let names = self.group();
        let mut label = Map::new();
        for (i, (_, field)) in names.iter().enumerate() {
            let value = if unknown {
                // The payments of visitors revlink never saw: one row, named in its first field.
                if i == names.len() - 1 || self == Self::Campaigns && i == 0 {
                    json!(UNKNOWN_VISITOR)
                } else {
                    Value::Null
                }
            } else {
                key.get(i).cloned().flatten().map_or(Value::Null, Value::String)
            };
            label.insert((*field).to_owned(), value);
        }
        if self == Self::Campaigns {
            let mut outer = Map::new();
            outer.insert("campaign".into(), Value::Object(label));
            return outer;
        }
        label
    }

    /// The fields a row has, for `fields=`.
    pub(super) fn fields(self) -> Vec<&'static str> {
        let mut fields: Vec<&str> =
            if self == Self::Campaigns { vec!["campaign"] } else { self.group().iter().map(|(_, f)| *f).collect() };
        fields.extend(["visitors", "revenue", "payments"]);
        fields
    }
}
