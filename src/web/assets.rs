//! Templates and static files, compiled into the binary. In debug builds rust-embed reads them from
//! `templates/` and `static/` on disk instead, so they can be edited without rebuilding.

use std::borrow::Cow;
use std::path::PathBuf;

use rocket::http::{ContentType, Header};
use rocket::{Responder, get};
use rocket_dyn_templates::Template;
use rust_embed::RustEmbed;

use super::tracking_script::{ScriptReply, TrackingScript};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// The directory the template fairing watches. Templates are embedded and registered by
/// `templates()`, but the fairing wants a directory that exists, and in debug builds it reloads (and
/// so re-reads the templates from disk) whenever something in it changes. That is the checkout's
/// `templates/` when there is one; otherwise the data directory, which always exists and holds no
/// template files (in release builds nothing is watched).
pub fn template_dir(data_dir: &std::path::Path) -> PathBuf {
    let checkout = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"));
    if cfg!(debug_assertions) && checkout.is_dir() { checkout } else { data_dir.to_owned() }
}

/// The template fairing, with every embedded template registered under its file name.
pub fn templates() -> impl rocket::fairing::Fairing {
    Template::custom(|engines| {
        let sources: Vec<(String, String)> = Templates::iter()
            .filter_map(|name| {
                let file = Templates::get(&name)?;
                Some((name.to_string(), String::from_utf8_lossy(&file.data).into_owned()))
            })
            .collect();
        crate::web::format::register(&mut engines.tera);
        if let Err(e) = engines.tera.add_raw_templates(sources) {
            tracing::error!(error = %e, "a template does not parse");
        }
    })
}

#[derive(Responder)]
pub struct Asset {
    body: Cow<'static, [u8]>,
    content_type: ContentType,
    cache: Header<'static>,
}

/// `/static/<path>`: the embedded files, cached for an hour.
#[get("/static/<path..>")]
pub fn static_file(path: PathBuf) -> Option<Asset> {
    let name = path.to_str()?;
    // The tracking script's source is not a script on its own: its variants are served at `/js/`.
    if name.starts_with("js/") {
        return None;
    }
    let file = Static::get(name)?;
    let content_type =
        path.extension().and_then(|e| e.to_str()).and_then(ContentType::from_extension).unwrap_or(ContentType::Binary);
    Some(Asset { body: file.data, content_type, cache: Header::new("Cache-Control", "public, max-age=3600") })
}

/// `/favicon.ico`, which browsers ask for on their own whatever the page links: the embedded SVG icon
/// (`/static/favicon.svg`), so that no page load ends in a 404.
#[get("/favicon.ico")]
pub fn favicon() -> Option<Asset> {
    let file = Static::get("favicon.svg")?;
    Some(Asset {
        body: file.data,
        content_type: ContentType::SVG,
        cache: Header::new("Cache-Control", "public, max-age=86400"),
    })
}

/// `/js/script.js`, `/js/script.cookieless.js`, `/js/script.hash.js`: the tracking script merchants put
/// on their sites, with its ETag (304 when the browser's copy is current) and a day's caching.
#[get("/js/<file>")]
pub fn tracking_script(file: &str) -> Option<ScriptReply> {
    TrackingScript::named(file).map(ScriptReply)
}
