//! The Stripe lists a sync reads, in order, each with the call it is read with (`providers::stripe::lists`), which
//! verification probes too.

use crate::providers::stripe::lists::{self, ListCall};

/// The Stripe lists the import reads, in the order a sync reads them: what surrounds a charge first,
/// so that the charge finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    CheckoutSessions,
    Invoices,
    Charges,
    Refunds,
    /// Optional (`rak_dispute_read`): refused, it is skipped and the sync goes on.
    Disputes,
    /// Optional (`rak_subscription_read`): read whole at every sync, for MRR (`subscriptions`).
    Subscriptions,
}

impl Stream {
    pub const ALL: [Stream; 6] =
        [Self::CheckoutSessions, Self::Invoices, Self::Charges, Self::Refunds, Self::Disputes, Self::Subscriptions];

    pub fn name(self) -> &'static str {
        match self {
            Self::CheckoutSessions => "checkout_sessions",
            Self::Invoices => "invoices",
            Self::Charges => "charges",
            Self::Refunds => "refunds",
            Self::Disputes => "disputes",
            Self::Subscriptions => "subscriptions",
        }
    }

    /// How the list is read (verification probes the same calls: `providers::stripe::permissions`).
    pub fn call(self) -> ListCall {
        match self {
            Self::CheckoutSessions => lists::CHECKOUT_SESSIONS,
            Self::Invoices => lists::INVOICES,
            Self::Charges => lists::CHARGES,
            Self::Refunds => lists::REFUNDS,
            Self::Disputes => lists::DISPUTES,
            Self::Subscriptions => lists::SUBSCRIPTIONS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verification probes each list the import reads with the same call, so Stripe names at connect every
    /// permission the import (or one of its expansions) will need.
    #[test]
    fn every_list_the_import_reads_is_probed_at_connect() {
        for stream in Stream::ALL {
            assert!(crate::providers::stripe::permissions::is_probed(stream.call()), "{}", stream.name());
        }
    }
}
