//! The tracking script's files at `/js/`: type, caching, ETag and 304, and the 3 KB gzipped budget.
//! What the script does in a page is tested with node (`node --test tests/js/`, run by .ci/run).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use rocket::http::{Header, Status};

use crate::helpers::TestApp;

/// Each file and the variant its source is called with.
const FILES: [(&str, &str); 3] =
    [("/js/script.js", "default"), ("/js/script.cookieless.js", "cookieless"), ("/js/script.hash.js", "hash")];

/// The size goal of contract §1, gzipped.
const GZIP_BUDGET: usize = 3 * 1024;

fn gzipped_len(body: &[u8]) -> usize {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(body).expect("gzip in memory");
    gz.finish().expect("gzip in memory").len()
}

#[rocket::async_test]
async fn each_variant_is_javascript_cached_for_a_day_with_a_strong_etag_and_fits_3_kb_gzipped() {
    let app = TestApp::new().await;
    for (path, variant) in FILES {
        let res = app.client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "{path}");
        let header = |name| res.headers().get_one(name).map(str::to_owned);
        assert_eq!(header("Content-Type").as_deref(), Some("application/javascript; charset=utf-8"), "{path}");
        assert_eq!(header("Cache-Control").as_deref(), Some("public, max-age=86400, stale-while-revalidate=604800"));
        assert_eq!(header("Access-Control-Allow-Origin").as_deref(), Some("*"));
        let etag = header("ETag").expect("an ETag");
        assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");

        let body = res.into_bytes().await.expect("a body");
        let text = std::str::from_utf8(&body).expect("UTF-8");
        assert!(text.starts_with("(function (variant) {"), "{path}");
        assert!(text.ends_with(&format!("}})(\"{variant}\");\n")), "{path} runs the {variant} variant");
        assert!(!text.lines().any(|l| l.starts_with("//")), "{path}: comment lines are not shipped");
        let gzipped = gzipped_len(&body);
        assert!(gzipped <= GZIP_BUDGET, "{path} is {gzipped} bytes gzipped, over {GZIP_BUDGET}");

        // The same bytes every time, so the same ETag.
        let again = app.client.get(path).dispatch().await;
        assert_eq!(again.headers().get_one("ETag"), Some(etag.as_str()));
    }
}

#[rocket::async_test]
async fn a_browser_holding_the_current_version_gets_304_without_a_body() {
    let app = TestApp::new().await;
    for (path, _) in FILES {
        let first = app.client.get(path).dispatch().await;
        let etag = first.headers().get_one("ETag").expect("an ETag").to_owned();

        for held in [etag.clone(), format!("W/{etag}"), format!("\"older\", {etag}"), "*".to_owned()] {
            let res = app.client.get(path).header(Header::new("If-None-Match", held.clone())).dispatch().await;
            assert_eq!(res.status(), Status::NotModified, "{path} with If-None-Match: {held}");
            assert_eq!(res.headers().get_one("ETag"), Some(etag.as_str()));
            assert_eq!(
                res.headers().get_one("Cache-Control"),
                Some("public, max-age=86400, stale-while-revalidate=604800"),
                "a 304 renews the cached copy's lifetime"
            );
            assert!(res.into_bytes().await.unwrap_or_default().is_empty());
        }

        let stale = app.client.get(path).header(Header::new("If-None-Match", "\"older\"")).dispatch().await;
        assert_eq!(stale.status(), Status::Ok, "{path}: another version is answered in full");
        assert!(!stale.into_bytes().await.expect("a body").is_empty());
    }
}

#[rocket::async_test]
async fn only_the_three_variants_are_served_and_not_the_bare_source() {
    let app = TestApp::new().await;
    for path in ["/js/script.min.js", "/js/app.js", "/static/js/script.js", "/api/js/script.js"] {
        assert_eq!(app.client.get(path).dispatch().await.status(), Status::NotFound, "{path}");
    }
    // HEAD answers like GET, without the body.
    let head = app.client.head("/js/script.js").dispatch().await;
    assert_eq!(head.status(), Status::Ok);
    assert!(head.headers().get_one("ETag").is_some());
}
