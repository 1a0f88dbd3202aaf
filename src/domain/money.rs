//! Currencies: only circulating ISO 4217 codes are money revlink counts in.

use iso_currency::Currency;

/// The circulating currency with this code (any case): not a fund (USN, BOV), a special code (XXX,
/// XTS, XAU, XDR…) or a superseded currency.
pub fn circulating(code: &str) -> Option<Currency> {
    Currency::from_code(&code.trim().to_ascii_uppercase()).filter(|c| c.flags().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_circulating_codes_are_currencies() {
        assert_eq!(circulating("eur").map(|c| c.code()), Some("EUR"));
        assert_eq!(circulating(" JPY ").map(|c| c.code()), Some("JPY"));
        for other in ["XXX", "XTS", "XAU", "XDR", "USN", "BOV", "VES", "EURO", ""] {
            assert!(circulating(other).is_none(), "{other}");
        }
    }
}
