//! What a user agent says about a visitor (contract §2): whether it is a bot (the `isbot` crate's maintained
//! pattern list, and Woothee's crawler category), and its device type, browser and operating system (Woothee).

use std::sync::LazyLock;

use woothee::parser::{Parser, WootheeResult};

/// The bot patterns, compiled once into one regular expression.
static BOTS: LazyLock<isbot::Bots> = LazyLock::new(isbot::Bots::default);

/// Woothee's name for what it could not tell.
const UNKNOWN: &str = "UNKNOWN";

/// What the user agent says about its visitor: `None` for a bot, a crawler or a script (every browser names
/// itself: an empty user agent is counted as a bot too), else its device, browser and operating system. Woothee
/// parses it once for both.
pub fn visitor(user_agent: &str) -> Option<Agent> {
    let user_agent = user_agent.trim();
    if user_agent.is_empty() || BOTS.is_bot(user_agent) {
        return None;
    }
    match Parser::new().parse(user_agent) {
        Some(parsed) if parsed.category == "crawler" => None,
        Some(parsed) => Some(agent(&parsed, user_agent)),
        None => Some(Agent::default()),
    }
}

/// A visitor's kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Mobile => "mobile",
            Self::Tablet => "tablet",
        }
    }
}

/// Device, browser and operating system; each `None` when the user agent does not tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    pub device: Option<Device>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

/// What a browser's user agent says (nothing for a bot's).
pub fn describe(user_agent: &str) -> Agent {
    visitor(user_agent).unwrap_or_default()
}

fn agent(parsed: &WootheeResult<'_>, user_agent: &str) -> Agent {
    Agent {
        device: device(parsed, user_agent),
        browser: known(parsed.name).map(str::to_owned),
        os: known(parsed.os).map(os_family),
    }
}

fn known(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty() && *v != UNKNOWN)
}

/// Woothee's categories, with tablets told apart: an iPad, or an Android device without "Mobile" (Android's
/// own convention for tablets).
fn device(parsed: &WootheeResult<'_>, user_agent: &str) -> Option<Device> {
    match parsed.category {
        "pc" => Some(Device::Desktop),
        "smartphone" if parsed.os == "iPad" || (parsed.os == "Android" && !user_agent.contains("Mobile")) => {
            Some(Device::Tablet)
        }
        "smartphone" | "mobilephone" => Some(Device::Mobile),
        _ => None,
    }
}

/// The operating system's family, as the reports group it: `Windows 10` and `Windows 7` are `Windows`, an
/// iPhone's and an iPad's `iOS`, `Mac OSX` `macOS`.
fn os_family(os: &str) -> String {
    let family = match os {
        o if o.starts_with("Windows") => "Windows",
        "Mac OSX" | "Mac OS" => "macOS",
        "iPhone" | "iPad" | "iPod" | "iOS" => "iOS",
        other => other,
    };
    family.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                                  Chrome/120.0.0.0 Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
                                 like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                               Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const CHROME_ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like \
                                         Gecko) Chrome/120.0.0.0 Safari/537.36";
    const FIREFOX_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0";

    #[test]
    fn browsers_are_described() {
        let chrome = describe(CHROME_WINDOWS);
        assert_eq!(chrome.device, Some(Device::Desktop));
        assert_eq!((chrome.browser.as_deref(), chrome.os.as_deref()), (Some("Chrome"), Some("Windows")));
        let iphone = describe(SAFARI_IPHONE);
        assert_eq!(
            (iphone.device, iphone.browser.as_deref(), iphone.os.as_deref()),
            (Some(Device::Mobile), Some("Safari"), Some("iOS"))
        );
        assert_eq!(describe(SAFARI_IPAD).device, Some(Device::Tablet));
        assert_eq!(describe(CHROME_ANDROID_TABLET).device, Some(Device::Tablet));
        let firefox = describe(FIREFOX_MAC);
        assert_eq!((firefox.browser.as_deref(), firefox.os.as_deref()), (Some("Firefox"), Some("macOS")));
        assert_eq!(describe("something odd"), Agent::default());
    }

    #[test]
    fn bots_are_told_from_browsers() {
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "",
            "   ",
        ] {
            assert_eq!(visitor(bot), None, "{bot:?}");
        }
        for browser in [CHROME_WINDOWS, SAFARI_IPHONE, SAFARI_IPAD, CHROME_ANDROID_TABLET, FIREFOX_MAC] {
            assert!(visitor(browser).is_some_and(|a| a.browser.is_some()), "{browser}");
        }
    }
}
