//! The Stripe lists revlink reads, each as one call: its path, the filters it always sends and the fields it expands.
//! The import pages through them (`sync`), and verification probes the very same calls with `limit=1`
//! (`verify`), so a permission Stripe requires for a list or for one of its expansions is named when the key is
//! connected, not in the middle of an import.

/// One list call. On a list, each expansion is asked as `expand[]=data.<field>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCall {
    pub path: &'static str,
    /// Filters sent on every page (e.g. `status=all`).
    pub filters: &'static [(&'static str, &'static str)],
    /// The fields of each object read expanded.
    pub expand: &'static [&'static str],
}

/// Checkout sessions carry the datafast ids of the payment they were paid with.
pub const CHECKOUT_SESSIONS: ListCall = ListCall { path: "/v1/checkout/sessions", filters: &[], expand: &[] };

/// Invoices name the payments that paid them, under `payments` (only when expanded), and their billing reason.
pub const INVOICES: ListCall = ListCall { path: "/v1/invoices", filters: &[], expand: &["payments"] };

/// Charges, with what the import reads of their balance transaction (settlement, fee) and payment intent
/// (metadata).
pub const CHARGES: ListCall =
    ListCall { path: "/v1/charges", filters: &[], expand: &["balance_transaction", "payment_intent"] };

/// Refunds name the charge to read again.
pub const REFUNDS: ListCall = ListCall { path: "/v1/refunds", filters: &[], expand: &[] };

/// Payment intents: the import does not list them, but expands them on charges. Stripe's 403 names one permission
/// per call, so verification probes this list too, to name `rak_payment_intent_read` beside `rak_charge_read` when
/// both are missing.
pub const PAYMENT_INTENTS: ListCall = ListCall { path: "/v1/payment_intents", filters: &[], expand: &[] };

/// Subscriptions in every status (the list's default leaves out canceled ones), with the coupons of their discounts
/// (what MRR needs: a forever discount reduces it).
pub const SUBSCRIPTIONS: ListCall =
    ListCall { path: "/v1/subscriptions", filters: &[("status", "all")], expand: &["discounts.source.coupon"] };

pub const DISPUTES: ListCall = ListCall { path: "/v1/disputes", filters: &[], expand: &[] };

/// Stripe's ledger, which the reconciliation compares with (`rak_balance_read`, as the balance).
pub const BALANCE_TRANSACTIONS: ListCall = ListCall { path: "/v1/balance_transactions", filters: &[], expand: &[] };

impl ListCall {
    /// One page: at most `limit` objects created after `created_gt` (no bound when 0), after `starting_after`.
    pub fn page(&self, limit: u32, created_gt: i64, starting_after: Option<&str>) -> String {
        let created: &[(&str, i64)] = if created_gt > 0 { &[("created[gt]", created_gt)] } else { &[] };
        self.page_created(limit, created, starting_after)
    }

    /// One page of the objects created from `from` (inclusive) until `until` (exclusive; no bound when `None`).
    pub fn page_between(&self, limit: u32, from: i64, until: Option<i64>, starting_after: Option<&str>) -> String {
        match until {
            Some(until) => self.page_created(limit, &[("created[gte]", from), ("created[lt]", until)], starting_after),
            None => self.page_created(limit, &[("created[gte]", from)], starting_after),
        }
    }

    fn page_created(&self, limit: u32, created: &[(&str, i64)], starting_after: Option<&str>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("limit", &limit.to_string());
        query.extend_pairs(self.filters.iter().copied());
        for (bound, at) in created {
            query.append_pair(bound, &at.to_string());
        }
        if let Some(cursor) = starting_after {
            query.append_pair("starting_after", cursor);
        }
        for field in self.expand {
            query.append_pair("expand[]", &format!("data.{field}"));
        }
        format!("{}?{}", self.path, query.finish())
    }

    /// The call verification makes: the first object of the list, read as the import reads it.
    pub fn probe(&self) -> String {
        self.page(1, 0, None)
    }

    /// One object of the list by id, with the same expansions.
    pub fn object(&self, id: &str) -> String {
        let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let mut query = form_urlencoded::Serializer::new(String::new());
        for field in self.expand {
            query.append_pair("expand[]", field);
        }
        let query = query.finish();
        if query.is_empty() { format!("{}/{id}", self.path) } else { format!("{}/{id}?{query}", self.path) }
    }

    /// The same call without its expansions (for a server that refuses them; see `sync`).
    #[must_use]
    pub const fn unexpanded(self) -> Self {
        Self { expand: &[], ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_is_the_first_page_of_the_same_call() {
        assert_eq!(
            CHARGES.probe(),
            "/v1/charges?limit=1&expand%5B%5D=data.balance_transaction&expand%5B%5D=data.payment_intent"
        );
        assert_eq!(
            SUBSCRIPTIONS.probe(),
            "/v1/subscriptions?limit=1&status=all&expand%5B%5D=data.discounts.source.coupon"
        );
        assert_eq!(
            INVOICES.page(100, 1_700_000_000, Some("in_1")),
            "/v1/invoices?limit=100&created%5Bgt%5D=1700000000&starting_after=in_1&expand%5B%5D=data.payments"
        );
        assert_eq!(INVOICES.unexpanded().probe(), "/v1/invoices?limit=1");
        assert_eq!(
            CHARGES.page_between(100, 10, Some(20), Some("ch_1")),
            "/v1/charges?limit=100&created%5Bgte%5D=10&created%5Blt%5D=20&starting_after=ch_1\
             &expand%5B%5D=data.balance_transaction&expand%5B%5D=data.payment_intent"
        );
        assert_eq!(REFUNDS.page_between(100, 10, None, None), "/v1/refunds?limit=100&created%5Bgte%5D=10");
    }

    #[test]
    fn an_object_is_read_with_the_lists_expansions() {
        assert_eq!(
            CHARGES.object("ch_1"),
            "/v1/charges/ch_1?expand%5B%5D=balance_transaction&expand%5B%5D=payment_intent"
        );
        assert_eq!(DISPUTES.object("dp/1"), "/v1/disputes/dp%2F1");
    }
}
