//! The tracking script merchants put on their sites (`/js/script.js`, `/js/script.cookieless.js`,
//! `/js/script.hash.js`), compiled into the binary from one source, `static/js/script.js`.
//!
//! The source is a function of its variant, `(function (variant) { … })`, written readable and commented.
//! Each file served is that function called with its variant's name, with the source's comment lines,
//! blank lines and indentation dropped, so the three cannot drift apart, browsers get about 3 KB gzipped,
//! and no JavaScript toolchain is needed to build or run revlink. Each file is made once, with its ETag,
//! the first time one is asked for.

use std::io::Cursor;
use std::sync::LazyLock;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use sha2::{Digest, Sha256};

/// The source as written: a function expression, not yet called.
const SOURCE: &str = include_str!("../../static/js/script.js");

/// The files: name under `/js/`, and the variant the source is called with.
const VARIANTS: [(&str, &str); 3] =
    [("script.js", "default"), ("script.cookieless.js", "cookieless"), ("script.hash.js", "hash")];

/// A day fresh: the script's URL carries no version (merchants paste it once), so a fix must reach their
/// visitors' browsers within a day. For a week after that a browser may still run its copy while it asks
/// again in the background, so a page never waits on revlink for the script; thanks to the ETag the
/// question is usually answered 304, with no body.
pub const CACHE_CONTROL: &str = "public, max-age=86400, stale-while-revalidate=604800";

/// One servable file: its bytes and their strong ETag.
pub struct TrackingScript {
    name: &'static str,
    body: String,
    etag: String,
}

static SCRIPTS: LazyLock<Vec<TrackingScript>> =
    LazyLock::new(|| VARIANTS.iter().map(|&(name, variant)| TrackingScript::build(name, variant)).collect());

impl TrackingScript {
    fn build(name: &'static str, variant: &str) -> Self {
        let body = format!("{}(\"{variant}\");\n", shipped(SOURCE));
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(body.as_bytes())[..16]));
        Self { name, body, etag }
    }

    /// The file called `name` under `/js/`, if it is one of the variants.
    pub fn named(name: &str) -> Option<&'static Self> {
        SCRIPTS.iter().find(|s| s.name == name)
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether one `If-None-Match` header names this version. That header is compared weakly
    /// (RFC 9110 §13.1.2), so a `W/` prefix added by a proxy that compressed the answer still matches.
    fn is_named_by(&self, if_none_match: &str) -> bool {
        if_none_match
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag)
    }
}

/// What browsers get of the source: its lines without their indentation, less the blank ones and
/// those that are comments. Only whole-line comments are dropped, so nothing in a string or a regular
/// expression is touched; the source keeps its comments on lines of their own and has no string
/// spanning lines, and the line breaks stay where they were (automatic semicolons are unchanged).
fn shipped(source: &str) -> String {
    source
        .lines()
        .map(str::trim_start)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The answer for one file: the script, or 304 with no body when the browser's copy is this version.
pub struct ScriptReply(pub &'static TrackingScript);

impl<'r> Responder<'r, 'static> for ScriptReply {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let script = self.0;
        let mut res = Response::build();
        res.raw_header("ETag", script.etag.as_str())
            .raw_header("Cache-Control", CACHE_CONTROL)
            // A public script for any site: readable cross-origin, loadable by pages that require CORP.
            .raw_header("Access-Control-Allow-Origin", "*")
            .raw_header("Cross-Origin-Resource-Policy", "cross-origin");
        if req.headers().get("If-None-Match").any(|v| script.is_named_by(v)) {
            res.status(Status::NotModified);
        } else {
            res.header(ContentType::new("application", "javascript").with_params(("charset", "utf-8")))
                .sized_body(script.body.len(), Cursor::new(script.body.as_bytes()));
        }
        res.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_is_the_source_called_with_its_name() {
        for (name, variant) in VARIANTS {
            let body = TrackingScript::named(name).expect("a variant").body();
            assert!(body.starts_with("(function (variant) {"), "{name} starts with the function");
            assert!(body.ends_with(&format!("}})(\"{variant}\");\n")), "{name} calls it with {variant}");
        }
        assert!(TrackingScript::named("script.min.js").is_none());
    }

    #[test]
    fn shipped_drops_whole_line_comments_blank_lines_and_indentation_only() {
        let source = "// about\n(function () {\n  // why\n\n  var url = \"https://x\"; // kept: not a whole line\n})";
        assert_eq!(shipped(source), "(function () {\nvar url = \"https://x\"; // kept: not a whole line\n})");
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_may_list_several_tags() {
        let script = TrackingScript::named("script.js").expect("a variant");
        let etag = script.etag.clone();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34, "a strong tag: {etag}");
        assert!(script.is_named_by(&etag));
        assert!(script.is_named_by(&format!("W/{etag}")));
        assert!(script.is_named_by(&format!("\"old\", {etag}")));
        assert!(script.is_named_by("*"));
        assert!(!script.is_named_by("\"old\""));
        assert!(!script.is_named_by(etag.trim_matches('"')));
    }

    #[test]
    fn the_variants_differ_so_do_their_etags() {
        let tags: Vec<&str> =
            VARIANTS.iter().map(|(n, _)| TrackingScript::named(n).expect("a variant").etag.as_str()).collect();
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
    }
}
