//! One folder per payment provider: its HTTP client (base URL from the configuration), the verification
//! of a key, its objects, and the rules that turn them into payments. No database, no HTTP serving.

pub mod stripe;
