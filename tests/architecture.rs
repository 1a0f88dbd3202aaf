//! Architecture check: reads the crate's own `src/` at test time and enforces which files may
//! depend on which, so the layering survives refactors.
//!
//! A file depends on another when its text names a path resolving into it: `crate::a::b` (in a
//! `use` or inline, `crate::web::back(x)`), `super::`/`self::`, a child module (`mod x;` then
//! `x::f()`), or a name a `use` brought in (`use crate::db; db::users::count(c)`). A module path
//! resolves to the longest prefix that is a file: for `crate::a::b::c` that is src/a/b/c.rs,
//! src/a/b/c/mod.rs, src/a/b.rs, src/a/b/mod.rs, src/a.rs, src/a/mod.rs, else src/lib.rs.
//! Comments, string and char literals and `#[cfg(test)]` items are skipped: tests may reach anywhere.
//!
//! Enforced: no dependency cycle between files, and the layering table `RULES`. A module that
//! does not exist (not yet, or not any more) matches no file, so its rules are simply idle.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One layering rule: the files in `files` may not depend on anything in `not`. Both name modules
/// by their path under src/ without `.rs` ("db" is src/db.rs and all of src/db/, "lib" is
/// src/lib.rs, "api/openapi" one file); `not` also takes external crates, written `::rocket`.
/// A file never breaks a rule by depending on its own module. `allow` exempts files (or modules),
/// each with its reason. `stripe` and `import` are the old names of providers/ and sync/.
struct Rule {
    why: &'static str,
    files: &'static [&'static str],
    not: &'static [&'static str],
    allow: &'static [(&'static str, &'static str)],
}

/// `Rule::files` for a rule on every file.
const EVERYWHERE: &[&str] = &[];

const RULES: &[Rule] = &[
    // HTML pages are a leaf: only web/ itself names web (lib.rs mounts it).
    Rule {
        why: "nothing outside web/ imports web",
        files: EVERYWHERE,
        not: &["web"],
        allow: &[("lib", "mounts the HTML routes and attaches the templates")],
    },
    // The JSON routes are a leaf too; the OpenAPI doc lives inside api/, so it may list them all.
    Rule {
        why: "nothing outside api/ imports api",
        files: EVERYWHERE,
        not: &["api"],
        allow: &[("lib", "mounts the JSON routes and catchers")],
    },
    // Storage is plain rows in and out: it knows no provider, worker, use case or HTTP layer.
    Rule {
        why: "db/ knows no provider, sync, service or HTTP layer",
        files: &["db"],
        not: &["providers", "sync", "service", "api", "web", "auth", "stripe", "import"],
        allow: &[],
    },
    // The domain is types and rules only: no I/O, no configuration, no callers.
    Rule {
        why: "domain/ does no I/O",
        files: &["domain"],
        not: &["db", "service", "providers", "sync", "api", "web", "auth", "config", "cli", "stripe", "import"],
        allow: &[],
    },
    // A use case is called by the API, the pages and the CLI; it calls none of them.
    Rule { why: "service/ does not know its callers", files: &["service"], not: &["api", "web", "cli"], allow: &[] },
    // HTTP stays in auth/, api/, web/ and lib.rs. To let a file through, add ("service/x", "why").
    Rule {
        why: "no HTTP framework below the routes",
        files: &["service", "db", "providers", "sync", "domain", "metrics", "stripe", "import"],
        not: &["::rocket", "::rocket_dyn_templates"],
        allow: &[("domain/ids", "WebsiteId implements Rocket's FromParam, so a handler takes the id already checked")],
    },
    // Every layer records into the metrics (the fairing, the import worker, the scrape's service), so they
    // call none of those layers back.
    Rule {
        why: "metrics/ is a leaf the layers record into",
        files: &["metrics"],
        not: &["api", "web", "auth", "service", "db", "providers", "sync", "domain", "config", "crypto", "cli"],
        allow: &[],
    },
    // The layers the services are built on never call back up into them.
    Rule {
        why: "nothing below the services imports service",
        files: &["db", "domain", "providers", "sync", "crypto", "stripe", "import"],
        not: &["service"],
        allow: &[],
    },
];

/// A module file naming its own submodules (declaring them, re-exporting, mounting their routes)
/// is containment, not a cycle: `web/mod.rs → web/forms.rs → web/mod.rs` is not reported. Set to
/// `false` to demand that parent modules only ever wire their children.
const CONTAINMENT_IS_NOT_A_CYCLE: bool = true;
/// How the binary (src/main.rs) names the library crate.
const CRATE_NAME: &str = "revlink";
/// Cycles listed at most (a tangle can have very many).
const MAX_CYCLES: usize = 50;

#[test]
fn source_tree_respects_the_layering() {
    let files = read_tree(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    assert!(files.contains_key("lib.rs"), "no src/lib.rs: is CARGO_MANIFEST_DIR right?");
    let problems = check(&files);
    assert!(problems.is_empty(), "{} architecture violation(s):\n{}\n", problems.len(), problems.join("\n"));
}

/// Every `.rs` file under `dir`, keyed by its path relative to it with `/` separators.
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).expect("under src").to_string_lossy().replace('\\', "/");
                files.insert(rel, std::fs::read_to_string(&path).expect("readable source"));
            }
        }
    }
    files
}

/// The violations in a tree (path under src/ → source), one readable line each.
fn check(files: &BTreeMap<String, String>) -> Vec<String> {
    let (deps, externs) = analyse(files);
    let mut out = Vec::new();
    for rule in RULES {
        let applies = |f: &str| {
            (rule.files == EVERYWHERE || rule.files.iter().any(|m| in_module(f, m)))
                && !rule.allow.iter().any(|(m, _)| in_module(f, m))
        };
        let mut seen = BTreeSet::new();
        for d in deps.iter().filter(|d| applies(&d.from)) {
            let banned = rule.not.iter().any(|m| in_module(&d.to, m) && !in_module(&d.from, m));
            if banned && seen.insert((&d.from, &d.to)) {
                out.push(format!("src/{}:{} uses src/{} ({}): {}", d.from, d.line, d.to, d.written, rule.why));
            }
        }
        let banned = |k: &str| rule.not.iter().any(|m| m.strip_prefix("::") == Some(k));
        for (file, krate, line) in externs.iter().filter(|(f, k, _)| applies(f) && banned(k)) {
            if seen.insert((file, krate)) {
                out.push(format!("src/{file}:{line} uses the `{krate}` crate: {}", rule.why));
            }
        }
    }
    let cycles = cycles(&deps);
    for cycle in &cycles {
        let chain: Vec<String> = cycle.iter().map(|f| format!("src/{f}")).collect();
        out.push(format!("cycle: {}", chain.join(" → ")));
    }
    if cycles.len() == MAX_CYCLES {
        out.push(format!("(stopped listing cycles after {MAX_CYCLES})"));
    }
    out
}

/// Whether `file` (a path under src/) belongs to `module` ("db", "api/openapi", "lib").
fn in_module(file: &str, module: &str) -> bool {
    file.strip_suffix(".rs") == Some(module) || file.starts_with(&format!("{module}/"))
}

/// The module path a file defines: `a/b.rs` and `a/b/mod.rs` are `a::b`, lib.rs and main.rs the root.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let stem = stem.strip_suffix("/mod").unwrap_or(stem);
    if matches!(stem, "lib" | "main" | "mod") { Vec::new() } else { stem.split('/').map(String::from).collect() }
}

/// The file a crate-absolute module path lands in: its longest prefix that is a file, else lib.rs.
fn file_of(path: &[String], files: &BTreeMap<String, String>) -> String {
    for k in (1..=path.len()).rev() {
        let p = path[..k].join("/");
        for candidate in [format!("{p}.rs"), format!("{p}/mod.rs")] {
            if files.contains_key(&candidate) {
                return candidate;
            }
        }
    }
    "lib.rs".to_owned()
}

/// `from` depends on `to`: the path written at `line` resolves into it.
#[derive(Debug)]
struct Dep {
    from: String,
    to: String,
    line: usize,
    written: String,
}

/// Every file-to-file dependency, and every (file, external crate, line) a path names.
fn analyse(files: &BTreeMap<String, String>) -> (Vec<Dep>, Vec<(String, String, usize)>) {
    let (mut deps, mut externs) = (Vec::new(), Vec::new());
    for (file, src) in files {
        let scan = scan(&drop_test_items(tokens(src)), &module_of(file));
        let mut aliases = HashMap::new();
        let mut resolved = Vec::new();
        // `use` leaves first, in order, so names they bind resolve later paths (inline or `use`).
        for (path, name) in &scan.uses {
            let abs = absolute(&path.segs, &path.module, &scan.mods, &aliases);
            if let (Some(abs), Some(name)) = (&abs, name) {
                aliases.insert(name.clone(), abs.clone());
            }
            resolved.push((path, abs));
        }
        for path in &scan.inline {
            resolved.push((path, absolute(&path.segs, &path.module, &scan.mods, &aliases)));
        }
        for (path, abs) in resolved {
            match abs {
                Some(abs) => {
                    let to = file_of(&abs, files);
                    if &to != file {
                        let written = path.segs.join("::");
                        deps.push(Dep { from: file.clone(), to, line: path.line, written });
                    }
                }
                None => externs.push((file.clone(), path.segs[0].clone(), path.line)),
            }
        }
    }
    deps.sort_by(|a, b| (&a.from, a.line).cmp(&(&b.from, b.line)));
    (deps, externs)
}

/// The crate-absolute module path (without `crate`) of a path written in `module`, or None when
/// it names something outside the crate (std, rocket, a local type).
fn absolute(
    segs: &[String],
    module: &[String],
    mods: &BTreeSet<Vec<String>>,
    aliases: &HashMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let (first, rest) = segs.split_first()?;
    let child = [module, std::slice::from_ref(first)].concat();
    let mut base = match first.as_str() {
        "crate" | CRATE_NAME => Vec::new(),
        "self" => module.to_vec(),
        "super" => module[..module.len().saturating_sub(1)].to_vec(),
        _ if mods.contains(&child) => child,
        _ => aliases.get(first)?.clone(),
    };
    let mut rest = rest.iter().peekable();
    while rest.next_if(|s| *s == "super").is_some() {
        base.pop();
    }
    base.extend(rest.cloned());
    Some(base)
}

#[derive(Clone)]
struct Tok {
    text: String,
    line: usize,
}

/// Identifiers, `::` and single punctuation characters, without comments and literals.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |i: usize| c.get(i).copied().unwrap_or(' ');
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    (depth, i) = (depth + 1, i + 2);
                } else if c[i] == '*' && at(i + 1) == '/' {
                    (depth, i) = (depth - 1, i + 2);
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(&c, i, None, &mut line);
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F600}', '"'); otherwise a lifetime, whose name follows.
            if at(i + 1) == '\\' {
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else {
                i += if at(i + 2) == '\'' { 3 } else { 1 };
            }
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let hashes = c[i..].iter().take_while(|&&h| h == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                i = skip_string(&c, i + hashes, Some(hashes), &mut line);
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                i = skip_string(&c, i, None, &mut line);
            } else if word == "r" && hashes == 1 {
                i += 1; // raw identifier r#name: the name follows
            } else {
                out.push(Tok { text: word, line });
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Tok { text: "::".into(), line });
            i += 2;
        } else {
            line += usize::from(ch == '\n');
            if !ch.is_whitespace() {
                out.push(Tok { text: ch.into(), line });
            }
            i += 1;
        }
    }
    out
}

/// The index after the string literal opening at `c[i] == '"'`; `raw` is its number of `#`s.
fn skip_string(c: &[char], mut i: usize, raw: Option<usize>, line: &mut usize) -> usize {
    i += 1;
    while i < c.len() {
        match (c[i], raw) {
            ('\\', None) => i += 1,
            ('"', None) => return i + 1,
            ('"', Some(n)) if c[i + 1..].iter().take(n).filter(|&&h| h == '#').count() == n => return i + 1 + n,
            _ => {}
        }
        *line += usize::from(c.get(i) == Some(&'\n'));
        i += 1;
    }
    i
}

/// Drops every item marked `#[cfg(test)]`: from the attribute to its `;` or its closing `}`.
fn drop_test_items(toks: Vec<Tok>) -> Vec<Tok> {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let (mut out, mut i) = (Vec::new(), 0);
    while i < toks.len() {
        if !toks[i..].iter().take(7).map(|t| t.text.as_str()).eq(CFG_TEST) {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        let mut depth = 0i32;
        for t in &toks[i + 7..] {
            i += 1;
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                "}" if depth == 1 => break,
                "}" | ")" | "]" => depth -= 1,
                ";" if depth == 0 => break,
                _ => {}
            }
        }
        i += 7;
    }
    out
}

/// A path as written (`super::fetch::Caller`), in which module, on which line.
struct Written {
    segs: Vec<String>,
    module: Vec<String>,
    line: usize,
}

#[derive(Default)]
struct Scan {
    /// `use` leaves, each with the name it binds (None for `*` and `as _`).
    uses: Vec<(Written, Option<String>)>,
    /// Other paths of two or more segments.
    inline: Vec<Written>,
    /// Every module declared with `mod x;` or `mod x { .. }`, as a full module path.
    mods: BTreeSet<Vec<String>>,
}

fn is_ident(t: &str) -> bool {
    t.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

fn scan(toks: &[Tok], file_module: &[String]) -> Scan {
    let mut s = Scan::default();
    let text = |i: usize| toks.get(i).map_or("", |t| t.text.as_str());
    let mut inline_mods: Vec<(String, usize)> = Vec::new(); // `mod x {`, and the depth inside it
    let (mut depth, mut i) = (0, 0);
    while i < toks.len() {
        let module: Vec<String> = file_module.iter().cloned().chain(inline_mods.iter().map(|m| m.0.clone())).collect();
        match text(i) {
            "{" => depth += 1,
            "}" => {
                if inline_mods.last().is_some_and(|m| m.1 == depth) {
                    inline_mods.pop();
                }
                depth -= 1;
            }
            "mod" if is_ident(text(i + 1)) => {
                s.mods.insert([&module[..], &[text(i + 1).to_owned()]].concat());
                if text(i + 2) == "{" {
                    depth += 1;
                    inline_mods.push((text(i + 1).to_owned(), depth));
                    i += 2;
                }
            }
            "use" => {
                let mut leaf = |segs, name, line| {
                    s.uses.push((Written { segs, module: module.clone(), line }, name));
                };
                i = use_tree(toks, i + 1, Vec::new(), &mut leaf);
                continue;
            }
            t if is_ident(t) && text(i + 1) == "::" && is_ident(text(i + 2)) => {
                let line = toks[i].line;
                let mut segs = vec![t.to_owned()];
                while text(i + 1) == "::" && is_ident(text(i + 2)) {
                    segs.push(text(i + 2).to_owned());
                    i += 2;
                }
                s.inline.push(Written { segs, module, line });
            }
            _ => {}
        }
        i += 1;
    }
    s
}

/// Walks the use tree starting at `i` (`crate::{a::b, c::{d as e, self}}`), calling `leaf` with
/// each full path as written and the name it binds. Returns the index after the tree.
fn use_tree(
    toks: &[Tok],
    mut i: usize,
    mut path: Vec<String>,
    leaf: &mut dyn FnMut(Vec<String>, Option<String>, usize),
) -> usize {
    let text = |i: usize| toks.get(i).map_or("", |t| t.text.as_str());
    loop {
        match text(i) {
            "::" => i += 1,
            "{" => {
                i += 1;
                while !matches!(text(i), "}" | "") {
                    let before = i;
                    i = use_tree(toks, i, path.clone(), leaf);
                    i += usize::from(text(i) == "," || i == before);
                }
                return i + 1;
            }
            "*" => {
                leaf(path, None, toks[i].line);
                return i + 1;
            }
            w if is_ident(w) => {
                path.push(w.to_owned());
                let line = toks[i].line;
                i += 1;
                if text(i) == "::" {
                    continue;
                }
                if w == "self" {
                    path.pop();
                }
                let mut name = path.last().cloned();
                if text(i) == "as" {
                    name = Some(text(i + 1).to_owned()).filter(|n| n != "_");
                    i += 2;
                }
                if !path.is_empty() {
                    leaf(path, name, line);
                }
                return i;
            }
            _ => return i,
        }
    }
}

/// Every elementary cycle between files, each once, starting at its alphabetically first file.
fn cycles(deps: &[Dep]) -> Vec<Vec<String>> {
    let contains = |parent: &str, child: &str| {
        let (p, c) = (module_of(parent), module_of(child));
        p.len() < c.len() && c.starts_with(&p)
    };
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in deps.iter().filter(|d| !(CONTAINMENT_IS_NOT_A_CYCLE && contains(&d.from, &d.to))) {
        graph.entry(&d.from).or_default().insert(&d.to);
    }
    let mut reaches: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &from in graph.keys() {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![from]);
        while let Some(f) = todo.pop() {
            todo.extend(graph.get(f).into_iter().flatten().copied().filter(|&n| seen.insert(n)));
        }
        reaches.insert(from, seen);
    }
    let mut found = Vec::new();
    for &start in graph.keys() {
        let mut path = vec![start];
        walk(&graph, &reaches, &mut path, &mut found);
    }
    found
}

fn walk<'a>(
    graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    reaches: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    path: &mut Vec<&'a str>,
    found: &mut Vec<Vec<String>>,
) {
    let start = path[0];
    for &next in graph.get(path[path.len() - 1]).into_iter().flatten() {
        if found.len() >= MAX_CYCLES {
            return;
        }
        if next == start {
            found.push(path.iter().chain([&start]).map(ToString::to_string).collect());
        } else if next > start && !path.contains(&next) && reaches.get(next).is_some_and(|r| r.contains(start)) {
            path.push(next);
            walk(graph, reaches, path, found);
            path.pop();
        }
    }
}

// ---- the checker itself, on small synthetic trees -----------------------------------------

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect()
}

fn edges_from(files: &BTreeMap<String, String>, from: &str) -> BTreeSet<String> {
    analyse(files).0.into_iter().filter(|d| d.from == from).map(|d| d.to).collect()
}

#[test]
fn finds_a_cycle_and_reports_it_as_a_chain() {
    let files = tree(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
        ("a.rs", "use crate::b::Thing;"),
        ("b.rs", "pub fn f() { crate::c::g() }"),
        ("c.rs", "use super::a;\npub fn g() { a::h() }"),
    ]);
    assert_eq!(check(&files), ["cycle: src/a.rs → src/b.rs → src/c.rs → src/a.rs"]);
}

#[test]
fn finds_forbidden_imports_with_file_and_line() {
    let files = tree(&[
        (
            "lib.rs",
            "pub mod api; pub mod web; pub mod db; pub mod stripe; pub mod service;\nfn mount() { web::routes(); }",
        ),
        ("api/mod.rs", "pub fn x() {\n    crate::web::back(1)\n}"),
        ("web/mod.rs", "pub fn back() {}"),
        ("db/mod.rs", "pub mod import;\npub mod users;"),
        ("db/import.rs", "use crate::stripe::objects::{Charge, Invoice};"),
        ("db/users.rs", "use crate::service;"),
        ("stripe/mod.rs", "pub mod objects;"),
        ("stripe/objects.rs", ""),
        ("service/mod.rs", "#[rocket::get(\"/\")]\nfn page() {}\nfn f() { crate::api::x() }"),
    ]);
    let problems = check(&files);
    let expected = [
        "src/api/mod.rs:2 uses src/web/mod.rs (crate::web::back): nothing outside web/",
        "src/service/mod.rs:3 uses src/api/mod.rs (crate::api::x): nothing outside api/",
        "src/db/import.rs:1 uses src/stripe/objects.rs (crate::stripe::objects::Charge): db/",
        "src/db/users.rs:1 uses src/service/mod.rs (crate::service): db/",
        "src/service/mod.rs:3 uses src/api/mod.rs (crate::api::x): service/",
        "src/service/mod.rs:1 uses the `rocket` crate",
        "src/db/users.rs:1 uses src/service/mod.rs (crate::service): nothing below the services",
    ];
    for want in expected {
        assert!(problems.iter().any(|p| p.starts_with(want)), "missing {want:?} in {problems:#?}");
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn grouped_aliased_inline_super_and_split_paths_resolve() {
    let lib = "pub mod a; pub mod c; pub mod x; mod w; pub mod s; pub mod m; pub mod db; pub mod deep;
        use crate::{a::b, c::{d, e as f}};
        pub use crate::x as y;
        use crate::
            m::{
                n,
            };
        use crate::db::{self as store};
        fn g() { w::run(); y::z::q(); self::s::t(); store::users::count(); }";
    let files = tree(&[
        ("lib.rs", lib),
        ("a/b.rs", ""),
        ("c/mod.rs", "pub mod d;"),
        ("c/d.rs", ""),
        ("x/mod.rs", "pub mod z;"),
        ("x/z.rs", ""),
        ("w.rs", ""),
        ("s.rs", ""),
        ("m/n.rs", ""),
        ("db/mod.rs", "pub mod users;"),
        ("db/users.rs", ""),
        ("deep/mod.rs", "pub mod er; pub mod top;"),
        ("deep/top.rs", ""),
        ("deep/er/mod.rs", "pub mod est; pub mod sib;"),
        ("deep/er/sib.rs", ""),
        ("deep/er/est.rs", "use super::super::top;\nfn k() { super::sib::f() }"),
    ]);
    let want =
        ["a/b.rs", "c/d.rs", "c/mod.rs", "x/mod.rs", "x/z.rs", "w.rs", "s.rs", "m/n.rs", "db/mod.rs", "db/users.rs"];
    assert_eq!(edges_from(&files, "lib.rs"), want.iter().map(ToString::to_string).collect());
    let want = ["deep/top.rs", "deep/er/sib.rs"];
    assert_eq!(edges_from(&files, "deep/er/est.rs"), want.iter().map(ToString::to_string).collect());
}

#[test]
fn comments_literals_and_test_code_are_ignored() {
    let api = r##"// use crate::web;
//! crate::web::a
/// crate::web::b
/* crate::web::c /* nested */ crate::web::d
   crate::web::e */
const S: &str = "crate::web::f \" crate::web::g
    crate::web::h";
const R: &str = r#"crate::web::i " crate::web::n "#;
const B: &[u8] = b"crate::web::j";
fn lifetime<'a>(x: &'a str) -> &'a str { x }
#[cfg(test)]
mod tests {
    use crate::web::k;
    fn t() { if true { crate::web::l() } }
}
#[cfg(test)]
use crate::web::m;
const C: [char; 3] = ['"', '\'', '\"'];
pub fn real() { crate::db::run() }
"##;
    let files = tree(&[
        ("lib.rs", "pub mod api; pub mod db; pub mod web;"),
        ("api/mod.rs", api),
        ("db/mod.rs", ""),
        ("web/mod.rs", ""),
    ]);
    let (deps, _) = analyse(&files);
    let real_line = api.lines().position(|l| l.starts_with("pub fn real")).unwrap() + 1;
    assert_eq!(deps.len(), 1, "{deps:#?}");
    assert_eq!((deps[0].to.as_str(), deps[0].line), ("db/mod.rs", real_line));
    assert!(check(&files).is_empty());
}

#[test]
fn a_clean_tree_passes_though_most_modules_do_not_exist() {
    let files = tree(&[
        ("lib.rs", "pub mod web; pub mod db;\npub fn build() { web::routes() }"),
        ("web/mod.rs", "pub mod forms;\npub fn routes() { forms::handler() }\npub struct Browser;"),
        ("web/forms.rs", "use crate::web::Browser;\nuse crate::db::Db;\nmod inner { use super::Browser; }"),
        ("db/mod.rs", "pub struct Db;"),
        ("main.rs", "use revlink::db::Db;\nfn main() { revlink::build(); }"),
    ]);
    assert_eq!(check(&files), Vec::<String>::new());
    assert_eq!(edges_from(&files, "main.rs"), ["db/mod.rs".to_string(), "lib.rs".to_string()].into());
}
