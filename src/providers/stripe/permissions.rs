//! The Read permissions revlink asks of a restricted key, in one list: verification probes each with the calls that
//! need it, the link to Stripe's key form ticks them all, the Integrations page lists them, and the README's table
//! names them (a test below keeps the README equal to this list).

use crate::domain::integrations::OptionalFeature;
use crate::providers::stripe::lists::{self, ListCall};

/// A call verification makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `GET /v1/balance`: the account's mode and currency.
    Balance,
    /// The first page (`limit=1`) of a list, as the import reads it.
    List(ListCall),
}

impl Probe {
    pub fn path_and_query(self) -> String {
        match self {
            Self::Balance => "/v1/balance".to_owned(),
            Self::List(call) => call.probe(),
        }
    }
}

/// One Read permission of Stripe's restricted-key form.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// As Stripe names it in a 403 and in the key form's link, e.g. `rak_charge_read`.
    pub name: &'static str,
    /// The row of Stripe's key form.
    pub label: &'static str,
    /// The calls that need it. A 403 naming no permission is put down to this one.
    pub probes: &'static [Probe],
    /// `None`: required, the key is refused without it. Otherwise what it adds, and which flag records it.
    pub optional: Option<Optional>,
}

#[derive(Debug, Clone, Copy)]
pub struct Optional {
    /// What revlink imports with it (the connect answer and the Integrations page say it).
    pub adds: &'static str,
    pub feature: OptionalFeature,
}

/// Every permission, required ones first.
pub const PERMISSIONS: [Permission; 7] = [
    Permission { name: "rak_balance_read", label: "Balance", probes: &[Probe::Balance], optional: None },
    Permission {
        name: "rak_charge_read",
        label: "Charges and Refunds",
        probes: &[Probe::List(lists::CHARGES), Probe::List(lists::REFUNDS)],
        optional: None,
    },
    Permission {
        name: "rak_payment_intent_read",
        label: "PaymentIntents",
        probes: &[Probe::List(lists::PAYMENT_INTENTS)],
        optional: None,
    },
    Permission {
        name: "rak_checkout_session_read",
        label: "Checkout Sessions",
        probes: &[Probe::List(lists::CHECKOUT_SESSIONS)],
        optional: None,
    },
    Permission { name: "rak_invoice_read", label: "Invoices", probes: &[Probe::List(lists::INVOICES)], optional: None },
    Permission {
        name: "rak_subscription_read",
        label: "Subscriptions",
        probes: &[Probe::List(lists::SUBSCRIPTIONS)],
        optional: Some(Optional {
            adds: "subscriptions: MRR, ARR, churn and their movements",
            feature: OptionalFeature::Subscriptions,
        }),
    },
    Permission {
        name: "rak_dispute_read",
        label: "Disputes",
        probes: &[Probe::List(lists::DISPUTES)],
        optional: Some(Optional {
            adds: "disputes: a lost one is taken off net revenue, a won one restores it",
            feature: OptionalFeature::Disputes,
        }),
    },
];

pub fn required() -> impl Iterator<Item = &'static Permission> {
    PERMISSIONS.iter().filter(|p| p.optional.is_none())
}

pub fn optional() -> impl Iterator<Item = (&'static Permission, Optional)> {
    PERMISSIONS.iter().filter_map(|p| p.optional.map(|o| (p, o)))
}

/// Whether verification probes this call (every list the import reads must be, with the same parameters).
pub fn is_probed(call: ListCall) -> bool {
    PERMISSIONS.iter().flat_map(|p| p.probes).any(|probe| *probe == Probe::List(call))
}

/// Stripe's "create restricted key" page with every permission, optional ones too, ticked.
pub fn create_key_url(test_mode: bool) -> String {
    let base = if test_mode {
        "https://dashboard.stripe.com/test/apikeys/create"
    } else {
        "https://dashboard.stripe.com/apikeys/create"
    };
    let permissions: String = PERMISSIONS.iter().map(|p| ["&permissions%5B%5D=", p.name].concat()).collect();
    format!("{base}?name=revlink{permissions}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_link_ticks_every_permission() {
        let url = create_key_url(false);
        assert!(url.starts_with("https://dashboard.stripe.com/apikeys/create?name=revlink&permissions%5B%5D="));
        for p in PERMISSIONS {
            assert!(url.contains(&format!("permissions%5B%5D={}", p.name)), "{}", p.name);
        }
        assert!(create_key_url(true).starts_with("https://dashboard.stripe.com/test/apikeys/create?"));
    }

    /// The README's permission table (between its two markers) is this list: names, labels, required or optional.
    #[test]
    fn the_readme_names_the_same_permissions() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("<!-- permissions:").expect("the README's permission table");
        let end = start + readme[start..].find("<!-- /permissions -->").expect("its end marker");
        let rows: Vec<(String, String, bool)> = readme[start..end]
            .lines()
            .filter(|l| l.starts_with("| `rak_"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_owned(), cells[2].to_owned(), cells[3].starts_with("optional"))
            })
            .collect();
        let listed: Vec<(String, String, bool)> =
            PERMISSIONS.iter().map(|p| (p.name.to_owned(), p.label.to_owned(), p.optional.is_some())).collect();
        assert_eq!(rows, listed);
    }
}
