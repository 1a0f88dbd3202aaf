//! Amounts as the pages write them: the currency's own exponent, thousands grouped.

/// `12345` minor units of USD → `123.45 USD` (the currency's own exponent).
pub fn money(minor: i64, currency: &str) -> String {
    format!("{} {currency}", amount(minor, currency))
}

/// `12345` minor units of USD → `123.45`: the number alone, for a table whose caption names the currency.
pub fn amount(minor: i64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
    let scale = 10i64.pow(u32::from(exponent));
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, fraction) = (minor.unsigned_abs() / scale.unsigned_abs(), minor.unsigned_abs() % scale.unsigned_abs());
    let grouped = thousands(whole);
    if exponent == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction:0width$}", width = usize::from(exponent))
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}
