//! Which kind of installation this is: `production` refuses Stripe test keys; `development` accepts them.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Development,
}

impl Environment {
    /// Production in release builds, development in debug builds.
    pub fn for_this_build() -> Self {
        if cfg!(debug_assertions) { Self::Development } else { Self::Production }
    }

    /// The name the setting takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
        }
    }
}
