//! Currencies: only circulating ISO 4217 codes are money revlink counts in.

use iso_currency::Currency;

/// The circulating currency with this code (any case): not a fund (USN, BOV), a special code (XXX,
/// XTS, XAU, XDR…) or a superseded currency.
pub fn circulating(code: &str) -> Option<Currency> {
    Currency::from_code(&code.trim().to_ascii_uppercase()).filter(|c| c.flags().is_empty())
}

/// Every code `circulating` accepts, upper case, sorted.
pub fn circulating_codes() -> Vec<String> {
    let letters = b'A'..=b'Z';
    letters
        .clone()
        .flat_map(|a| letters.clone().flat_map(move |b| (b'A'..=b'Z').map(move |c| [a, b, c])))
        .filter_map(|code| std::str::from_utf8(&code).ok().and_then(circulating).map(|c| c.code().to_owned()))
        .collect()
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
